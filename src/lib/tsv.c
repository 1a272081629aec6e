/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The data contract between the suite's filters: a header line, PostgreSQL COPY text rows and
 * the end-of-data line "\.". The writer escapes; the reader splits rows into still-escaped
 * fields (most consumers pass them on untouched) and refuses a stream that ends without the
 * end-of-data line, because that means a stage upstream died. It does not interpret values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"

#define EDU_TSV_MAXLINE (256u * 1024 * 1024)

void edu_tsv_put_field(struct edu_out *o, const char *p, size_t n)
{
	const char *end = p + n, *run = p;

	for (; p < end; p++) {
		char esc;

		switch (*p) {
		case '\\':
			esc = '\\';
			break;
		case '\t':
			esc = 't';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		default:
			continue;
		}
		edu_out_write(o, run, (size_t)(p - run));
		edu_out_putc(o, '\\');
		edu_out_putc(o, esc);
		run = p + 1;
	}
	edu_out_write(o, run, (size_t)(end - run));
}

void edu_tsv_put_null(struct edu_out *o)
{
	edu_out_write(o, "\\N", 2);
}

void edu_tsv_put_header(struct edu_out *o, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			edu_out_putc(o, '\t');
		edu_tsv_put_field(o, names[i], strlen(names[i]));
	}
	edu_out_putc(o, '\n');
}

void edu_tsv_finish(struct edu_out *o)
{
	edu_out_write(o, EDU_EOD, sizeof(EDU_EOD) - 1);
	edu_out_flush(o);
}

int edu_field_is_null(const struct edu_field *f)
{
	return f->n == 2 && f->p[0] == '\\' && f->p[1] == 'N';
}

size_t edu_field_unescape(const struct edu_field *f, char **buf, size_t *cap)
{
	size_t j = 0;

	if (*cap < f->n + 1) {
		*cap = f->n + 1 > 64 ? f->n + 1 : 64;
		*buf = edu_realloc(*buf, *cap);
	}
	for (size_t i = 0; i < f->n; i++) {
		char c = f->p[i];

		if (c == '\\') {
			if (++i == f->n)
				return (size_t)-1;
			switch (f->p[i]) {
			case '\\':
				c = '\\';
				break;
			case 't':
				c = '\t';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'v':
				c = '\v';
				break;
			default:
				return (size_t)-1;
			}
		}
		(*buf)[j++] = c;
	}
	(*buf)[j] = '\0';
	return j;
}

/* Reads more input into the buffer; returns 0 at EOF. */
static int fill(struct edu_tsv_reader *r)
{
	ssize_t got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		if (r->cap >= EDU_TSV_MAXLINE)
			edu_die(EDU_EX_DATAERR, "%s:%lu: line longer than %u bytes", r->name,
			        r->line + 1, EDU_TSV_MAXLINE);
		r->cap *= 2;
		r->buf = edu_realloc(r->buf, r->cap);
	}
	do
		got = read(r->fd, r->buf + r->end, r->cap - r->end);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		edu_die(EDU_EX_IOERR, "%s: read error:", r->name);
	r->end += (size_t)got;
	r->bytes += (unsigned long long)got;
	return got > 0;
}

/* Returns the next physical line (without its LF) or NULL at EOF; *len is set. */
static char *getline_raw(struct edu_tsv_reader *r, size_t *len)
{
	size_t off = 0; /* bytes after r->start already searched */

	for (;;) {
		char *nl = memchr(r->buf + r->start + off, '\n', r->end - r->start - off);

		if (nl) {
			char *line = r->buf + r->start;

			*len = (size_t)(nl - line);
			r->start = (size_t)(nl - r->buf) + 1;
			r->line++;
			return line;
		}
		off = r->end - r->start;
		if (!fill(r)) {
			if (r->end > r->start) {
				/* A last line without its LF: the producer did not finish it. */
				edu_die(EDU_EX_TRUNCATED,
				        "%s:%lu: input ends in the middle of a line: an upstream "
				        "stage died "
				        "(no end-of-data line \\.)",
				        r->name, r->line + 1);
			}
			return NULL;
		}
	}
}

int edu_abort_mark(const char *p, size_t n)
{
	size_t want = EDU_ABORT_MARK_LEN - 1; /* the LF ends the line: it may not be in hand */

	if (n < want)
		want = n;
	return want >= sizeof("\0EDU-ABORT:") - 1 && memcmp(p, EDU_ABORT_MARK, want) == 0;
}

static void check_nul(struct edu_tsv_reader *r, const char *line, size_t len)
{
	const char *nul = memchr(line, '\0', len);

	if (nul == NULL)
		return;
	if (edu_abort_mark(nul, (size_t)(line + len - nul)))
		edu_die(EDU_EX_TRUNCATED,
		        "%s:%lu: upstream transfer failed (abort mark from edu-fetch)", r->name,
		        r->line);
	edu_die(EDU_EX_DATAERR, "%s:%lu: column %zu: NUL byte in data", r->name, r->line,
	        (size_t)(nul - line) + 1);
}

/* Splits an escaped line on tabs into r->fields; returns the count (capped at ncols + 1). */
static size_t split(struct edu_tsv_reader *r, char *line, size_t len, size_t max)
{
	size_t n = 0;
	char *p = line, *end = line + len;

	for (;;) {
		char *tab = memchr(p, '\t', (size_t)(end - p));
		char *stop = tab ? tab : end;

		if (n < max) {
			r->fields[n].p = p;
			r->fields[n].n = (size_t)(stop - p);
		}
		n++;
		if (!tab)
			break;
		p = tab + 1;
	}
	return n;
}

/*
 * Unescapes and checks the header's names; the first bad column is the one named. A name with
 * a bad escape is kept empty until then, so it is never taken for a duplicate.
 */
static void read_header(struct edu_tsv_reader *r, size_t n)
{
	size_t dup, first = 0, bad = n;

	for (size_t i = 0; i < n; i++) {
		size_t cap = 0;

		r->header[i] = NULL;
		if (edu_field_unescape(&r->fields[i], &r->header[i], &cap) == (size_t)-1) {
			r->header[i][0] = '\0';
			if (bad == n)
				bad = i;
		}
	}
	edu_names_index(&r->names, (const char *const *)r->header, NULL, n);
	dup = edu_names_dup(&r->names, &first);
	for (size_t i = 0; i < n; i++) {
		if (i == bad)
			edu_die(EDU_EX_DATAERR, "%s:1: column %zu: invalid escape in header",
			        r->name, i + 1);
		if (r->header[i][0] == '\0')
			edu_die(EDU_EX_DATAERR, "%s:1: column %zu: empty column name", r->name,
			        i + 1);
		if (i == dup)
			edu_die(EDU_EX_DATAERR, "%s:1: column %zu: duplicate column name '%s'",
			        r->name, i + 1, r->header[i]);
	}
}

void edu_tsv_open(struct edu_tsv_reader *r, int fd, const char *name)
{
	char *line;
	size_t len, n;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
	r->cap = 256 * 1024;
	r->buf = edu_malloc(r->cap);
	line = getline_raw(r, &len);
	if (line == NULL)
		edu_die(EDU_EX_TRUNCATED,
		        "%s: empty input: an upstream stage died (no header line)", name);
	check_nul(r, line, len);
	if (len == 2 && line[0] == '\\' && line[1] == '.')
		edu_die(EDU_EX_DATAERR, "%s:1: no header line", name);
	n = 1;
	for (size_t i = 0; i < len; i++)
		n += line[i] == '\t';
	if (n > EDU_MAX_COLUMNS)
		edu_die(EDU_EX_DATAERR, "%s:1: %zu columns: more than %d in the header", name, n,
		        EDU_MAX_COLUMNS);
	r->ncols = n;
	r->fields = edu_malloc((n + 1) * sizeof(*r->fields));
	r->header = edu_malloc(n * sizeof(*r->header));
	split(r, line, len, n + 1);
	read_header(r, n);
}

int edu_tsv_next(struct edu_tsv_reader *r)
{
	char *line;
	size_t len, n;

	if (r->done)
		return 0;
	line = getline_raw(r, &len);
	if (line == NULL)
		edu_die(
		    EDU_EX_TRUNCATED,
		    "%s:%lu: input ends without the end-of-data line \\.: an upstream stage died",
		    r->name, r->line);
	check_nul(r, line, len);
	if (len == 2 && line[0] == '\\' && line[1] == '.') {
		size_t extra;

		r->done = 1;
		/* Anything after the end line would be silently ignored by COPY: refuse it. */
		if (r->start < r->end || fill(r)) {
			extra = r->line + 1;
			edu_die(EDU_EX_DATAERR, "%s:%lu: data after the end-of-data line", r->name,
			        extra);
		}
		return 0;
	}
	n = split(r, line, len, r->ncols + 1);
	if (n != r->ncols)
		edu_die(EDU_EX_DATAERR, "%s:%lu: expected %zu fields, found %zu", r->name, r->line,
		        r->ncols, n);
	r->row = line;
	r->rowlen = len;
	return 1;
}

long edu_tsv_column(const struct edu_tsv_reader *r, const char *name)
{
	return edu_names_find(&r->names, name, strlen(name));
}

void edu_tsv_close(struct edu_tsv_reader *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		free(r->header[i]);
	free(r->header);
	edu_names_free(&r->names);
	free(r->fields);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
