/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The conversion of edu-csv2tsv, streaming in constant memory. A physical line without a quote
 * character is split in one table-driven pass that also validates UTF-8 and escapes per COPY; a
 * record that holds a quote goes through libcsv in strict mode, line by line, so both paths
 * count physical lines. Options, the end-of-data line and -o are src/edu-csv2tsv.c's; input
 * decoding is src/edu-csv2tsv-io.c's. It does not guess encodings, trim or retype values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "edu-csv2tsv.h"

/* Byte classes of the fast path; K_DATA is copied as is. */
enum { K_DATA, K_DELIM, K_NL, K_CR, K_ESC, K_QUOTE, K_NUL, K_HIGH };
/* What the fast path tells the main loop. */
enum { LINE_DONE, LINE_SLOW, LINE_MORE };

/*
 * libcsv's realloc hook has no user pointer, so the field cap is a file-level setting. It only
 * bounds memory (libcsv grows its buffer in FIELD_SLACK steps); on_field applies the exact cap.
 */
#define FIELD_SLACK (64 * 1024)
static size_t field_cap;
static int field_cap_hit;

static void *capped_realloc(void *p, size_t n)
{
	if (n > field_cap + FIELD_SLACK) {
		field_cap_hit = 1;
		return NULL;
	}
	return realloc(p, n);
}

/* Never treat spaces or tabs as padding: they are data, as in the fast path and in COPY. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/*
 * Fatal data error: the rows that were complete go out (so the output shows where the input
 * went wrong), the partial one does not, and the end-of-data line is never written.
 */
__attribute__((format(printf, 3, 4))) _Noreturn static void fail(struct c2t *c, int status,
                                                                 const char *fmt, ...)
{
	va_list ap;

	if (c->in_record && c->row_spilled)
		c->out.len = 0;
	else if (c->in_record && c->out.len > c->row_start)
		c->out.len = c->row_start;
	edu_out_flush(&c->out);
	va_start(ap, fmt);
	edu_vwarn(fmt, ap);
	va_end(ap);
	edu_exit(status); /* the -o temporary file goes at exit */
}

/* Length of the valid UTF-8 sequence at p, 0 if invalid, -1 if cut by the end of the data. */
static int utf8_seq(const unsigned char *p, const unsigned char *lim)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xBF;
	int n;

	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		n = 2;
	else if (b >= 0xE0 && b <= 0xEF) {
		n = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F; /* no UTF-16 surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		n = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (int i = 1; i < n; i++) {
		if (p + i >= lim)
			return -1;
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return n;
}

_Noreturn static void bad_utf8(struct c2t *c, const unsigned char *line, const unsigned char *p)
{
	fail(c, EDU_EX_DATAERR,
	     "%s:%lu: invalid UTF-8 at byte offset %llu (byte 0x%02X, byte %zu of the line); "
	     "if the file is not UTF-8, give its encoding with -e (for example -e windows-1252)",
	     c->in.name, c->line + 1, c2t_offset(&c->in, p), *p,
	     c->line_fed + (size_t)(p - line) + 1);
}

_Noreturn static void bad_nul(struct c2t *c, const unsigned char *line, const unsigned char *p,
                              const unsigned char *lim)
{
	if (edu_abort_mark((const char *)p, (size_t)(lim - p)))
		fail(c, EDU_EX_TRUNCATED,
		     "%s:%lu: the upstream transfer failed (abort mark from edu-fetch): the input "
		     "is "
		     "incomplete",
		     c->in.name, c->line + 1);
	fail(c, EDU_EX_DATAERR, "%s:%lu: NUL byte at byte offset %llu (byte %zu of the line)",
	     c->in.name, c->line + 1, c2t_offset(&c->in, p), c->line_fed + (size_t)(p - line) + 1);
}

_Noreturn static void bad_cr(struct c2t *c, const unsigned char *line, const unsigned char *p)
{
	fail(c, EDU_EX_DATAERR,
	     "%s:%lu: carriage return outside quotes at byte %zu of the line, not followed by a "
	     "line feed "
	     "(a CR inside a value must be quoted)",
	     c->in.name, c->line + 1, c->line_fed + (size_t)(p - line) + 1);
}

_Noreturn static void too_big(struct c2t *c, unsigned long line, size_t field)
{
	fail(c, EDU_EX_DATAERR,
	     "%s:%lu: field %zu is larger than %zu bytes (raise the cap with -m)", c->in.name, line,
	     field, c->maxfield);
}

_Noreturn static void bad_count(struct c2t *c, unsigned long line, size_t found)
{
	if (c->cur_line > line)
		fail(c, EDU_EX_DATAERR,
		     "%s:%lu: wrong number of fields in the record of lines %lu-%lu: expected %zu, "
		     "found %zu",
		     c->in.name, line, line, c->cur_line, c->ncols, found);
	fail(c, EDU_EX_DATAERR, "%s:%lu: wrong number of fields: expected %zu, found %zu",
	     c->in.name, line, c->ncols, found);
}

/* Ends field nf, which spans [f, p): an empty one is NULL (unless -E), a big one an error. */
static inline unsigned char *end_field(struct c2t *c, unsigned char *w, const unsigned char *f,
                                       const unsigned char *p, size_t nf)
{
	if (p == f) {
		if (!c->keep_empty) {
			w[0] = '\\';
			w[1] = 'N';
			w += 2;
		}
	} else if ((size_t)(p - f) > c->maxfield) {
		too_big(c, c->line + 1, nf);
	}
	return w;
}

/*
 * The fast path: one physical line without any quote, from in.pos. Output goes straight into
 * the output buffer, which main() keeps large enough for the worst case (3 bytes per input
 * byte), and is committed only at the end of the line. Kept in one piece, past the house's 60
 * lines: it is the converter's hot loop, every byte of a file goes through it.
 */
static int fast_line(struct c2t *c)
{
	const unsigned char *line = c->in.buf + c->in.pos, *lim = c->in.buf + c->in.end;
	const unsigned char *p = line, *f = line, *next;
	const unsigned char *kind = c->kind;
	unsigned char *w = (unsigned char *)c->out.buf + c->out.len;
	size_t nf = 1;

	for (;;) {
		unsigned char ch;
		int n;

		while (kind[ch = *p] == K_DATA)
			*w++ = *p++;
		switch (kind[ch]) {
		case K_DELIM:
			w = end_field(c, w, f, p, nf);
			*w++ = '\t';
			f = ++p;
			nf++;
			continue;
		case K_ESC:
			w[0] = '\\';
			w[1] = ch == '\t' ? 't' : '\\';
			w += 2;
			p++;
			continue;
		case K_HIGH:
			n = utf8_seq(p, lim);
			if (n < 0 && !c->in.eof)
				return LINE_MORE;
			if (n <= 0)
				bad_utf8(c, line, p);
			while (n-- > 0)
				*w++ = *p++;
			continue;
		case K_QUOTE:
			return LINE_SLOW;
		case K_NUL:
			if ((size_t)(lim - p) < EDU_ABORT_MARK_LEN && !c->in.eof)
				return LINE_MORE;
			bad_nul(c, line, p, lim);
		case K_CR:
			if (p + 1 == lim && !c->in.eof)
				return LINE_MORE;
			if (p + 1 < lim && p[1] != '\n')
				bad_cr(c, line, p);
			next = p + 1 < lim ? p + 2 : lim;
			break;
		default: /* K_NL; the one at lim is the sentinel */
			if (p == lim && !c->in.eof)
				return LINE_MORE;
			next = p == lim ? lim : p + 1;
			break;
		}
		break;
	}
	w = end_field(c, w, f, p, nf);
	if (nf != c->ncols)
		bad_count(c, c->line + 1, nf);
	*w++ = '\n';
	c->out.len = (size_t)(w - (unsigned char *)c->out.buf);
	c->in.pos = (size_t)(next - c->in.buf);
	c->line++;
	c->rows++;
	return LINE_DONE;
}

static void keep_field(struct c2t *c, const char *p, size_t n)
{
	if (c->nnames == c->capnames) {
		c->capnames = c->capnames ? 2 * c->capnames : 64;
		c->names = edu_realloc(c->names, c->capnames * sizeof(*c->names));
		c->lens = edu_realloc(c->lens, c->capnames * sizeof(*c->lens));
		c->isnull = edu_realloc(c->isnull, c->capnames);
	}
	c->names[c->nnames] = edu_strndup(p ? p : "", n);
	c->lens[c->nnames] = n;
	c->isnull[c->nnames] = p == NULL;
	c->nnames++;
}

static void put_value(struct c2t *c, const char *p, size_t n)
{
	if (p == NULL && !c->keep_empty)
		edu_tsv_put_null(&c->out);
	else /* never a null pointer, even for no bytes (UB in memcpy and pointer arithmetic) */
		edu_tsv_put_field(&c->out, p ? p : "", n);
}

/* libcsv field callback: p is NULL for an empty unquoted field (CSV_EMPTY_IS_NULL). */
static void on_field(void *p, size_t n, void *data)
{
	struct c2t *c = data;

	if (n > c->maxfield)
		too_big(c, c->rec_line, c->nf + 1);
	if (c->first) {
		/* Refused before it is stored: a million empty fields cost neither memory nor CPU.
		 */
		if (c->nnames == EDU_MAX_COLUMNS)
			fail(c, EDU_EX_DATAERR, "%s:%lu: more than %d columns in the %s",
			     c->in.name, c->rec_line, EDU_MAX_COLUMNS,
			     c->no_header ? "first record" : "header");
		keep_field(c, p, n);
	} else {
		if (c->out.len + 2 * n + 8 > c->out.cap)
			c->row_spilled = 1;
		if (c->nf > 0)
			edu_out_putc(&c->out, '\t');
		put_value(c, p, n);
	}
	c->nf++;
}

static void check_header(struct c2t *c)
{
	struct edu_names x;
	size_t dup, first = 0;

	edu_names_index(&x, (const char *const *)c->names, c->lens, c->nnames);
	dup = edu_names_dup(&x, &first);
	edu_names_free(&x);
	for (size_t i = 0; i < c->nnames; i++) {
		if (c->lens[i] == 0)
			fail(c, EDU_EX_DATAERR, "%s:%lu: column %zu: empty column name", c->in.name,
			     c->rec_line, i + 1);
		if (memchr(c->names[i], '\0', c->lens[i]) != NULL)
			fail(c, EDU_EX_DATAERR, "%s:%lu: column %zu: NUL byte in column name",
			     c->in.name, c->rec_line, i + 1);
		if (i == dup)
			fail(c, EDU_EX_DATAERR,
			     "%s:%lu: column %zu: duplicate column name '%s' (same as column %zu)",
			     c->in.name, c->rec_line, i + 1, c->names[i], first + 1);
	}
}

/* Frees the first record, kept until it was written. */
static void free_names(struct c2t *c)
{
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->lens);
	free(c->isnull);
	c->names = NULL;
	c->lens = NULL;
	c->isnull = NULL;
	c->nnames = 0;
}

/* The first record is complete: write the header and, with -H, the record as the first row. */
static void first_record(struct c2t *c)
{
	c->ncols = c->nnames;
	if (c->no_header) {
		char **gen = edu_malloc(c->ncols * sizeof(*gen));

		for (size_t i = 0; i < c->ncols; i++) {
			char name[32];

			snprintf(name, sizeof(name), "c%zu", i + 1);
			gen[i] = edu_strdup(name);
		}
		edu_tsv_put_header(&c->out, gen, c->ncols);
		for (size_t i = 0; i < c->ncols; i++) {
			if (i)
				edu_out_putc(&c->out, '\t');
			put_value(c, c->isnull[i] ? NULL : c->names[i], c->lens[i]);
			free(gen[i]);
		}
		edu_out_putc(&c->out, '\n');
		c->rows++;
		free(gen);
	} else {
		check_header(c);
		edu_tsv_put_header(&c->out, c->names, c->ncols);
	}
	free_names(c);
}

/* libcsv record callback; ch is the byte that ended the record, -1 at end of input. */
static void on_record(int ch, void *data)
{
	struct c2t *c = data;

	(void)ch;
	if (c->first) {
		first_record(c);
		c->first = 0;
	} else {
		if (c->nf != c->ncols)
			bad_count(c, c->rec_line, c->nf);
		edu_out_putc(&c->out, '\n');
		c->rows++;
	}
	c->nf = 0;
	c->in_record = 0;
	c->row_start = c->out.len;
	c->row_spilled = 0;
}

/*
 * Checks a piece of a slow-path line before libcsv sees it: UTF-8, NUL and carriage returns
 * outside quotes (libcsv would silently end the record there). Words of 8 plain ASCII bytes
 * without a quote or CR are skipped whole. Quote parity tells inside from outside, which is
 * exact for well-formed CSV; libcsv rejects the rest.
 */
static void check_slow(struct c2t *c, const unsigned char *line, const unsigned char *p,
                       const unsigned char *lim)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;

	while (p < lim) {
		if (lim - p >= 8) {
			uint64_t w, q, r;

			memcpy(&w, p, 8);
			q = w ^ (ones * '"');
			r = w ^ (ones * '\r');
			if (((w | ((w - ones) & ~w) | ((q - ones) & ~q) | ((r - ones) & ~r)) &
			     highs) == 0) {
				p += 8;
				continue;
			}
		}
		if (*p == '"') {
			c->quote_odd ^= 1;
		} else if (*p == '\r') {
			if (!c->quote_odd && p + 1 < lim && p[1] != '\n')
				bad_cr(c, line, p);
		} else if (*p == '\0') {
			bad_nul(c, line, p, lim);
		} else if (*p >= 0x80) {
			int n = utf8_seq(p, lim);

			if (n <= 0)
				bad_utf8(c, line, p);
			p += n;
			continue;
		}
		p++;
	}
}

static void feed(struct c2t *c, const unsigned char *line, const unsigned char *p, size_t n)
{
	size_t done;

	if (!c->in_record) {
		/* Room for a usual record, so that a failing one can be taken back unflushed. */
		if (c->out.cap - c->out.len < FIELD_SLACK)
			edu_out_flush(&c->out);
		c->in_record = 1;
		c->rec_line = c->line + 1;
		c->quote_odd = 0;
		c->row_start = c->out.len;
		c->row_spilled = 0;
	}
	c->cur_line = c->line + 1;
	check_slow(c, line, p, p + n);
	done = csv_parse(&c->csv, p, n, on_field, on_record, c);
	if (done < n) {
		if (csv_error(&c->csv) == CSV_EPARSE)
			fail(c, EDU_EX_DATAERR,
			     "%s:%lu: malformed quoted field at byte %zu of the line: a quote "
			     "inside an "
			     "unquoted field, or text after a closing quote",
			     c->in.name, c->line + 1, c->line_fed + (size_t)(p + done - line) + 1);
		if (field_cap_hit)
			too_big(c, c->rec_line, c->nf + 1);
		fail(c, EDU_EX_OSERR, "%s:%lu: %s", c->in.name, c->line + 1,
		     csv_strerror(csv_error(&c->csv)));
	}
}

/*
 * How much of a line longer than the buffer to hand to libcsv now: no UTF-8 sequence or CR cut
 * from what follows it (c2t_safe_cut), and nothing from a NUL byte near the end on: cut by the
 * end of the buffer, an abort mark reads as a plain NUL byte (65), while whole at the start of
 * the next piece it is recognized (79).
 */
static size_t piece(const unsigned char *p, size_t n)
{
	size_t from = n > EDU_ABORT_MARK_LEN ? n - EDU_ABORT_MARK_LEN : 0, k;
	const unsigned char *nul = memchr(p + from, '\0', n - from);

	if (nul != NULL && (k = c2t_safe_cut(p, (size_t)(nul - p))) > 0)
		return k;
	return c2t_safe_cut(p, n);
}

/* The slow path: the physical line at in.pos goes to libcsv. Returns 0 when more input is needed.
 */
static int slow_line(struct c2t *c)
{
	const unsigned char *line = c->in.buf + c->in.pos, *lim = c->in.buf + c->in.end;
	const unsigned char *nl = memchr(line, '\n', (size_t)(lim - line));
	size_t n;

	if (nl == NULL && !c->in.eof) {
		if (c->in.pos > 0 || c->in.end < c->in.cap)
			return 0;
		/* A line longer than the buffer: feed a piece, the line counter stays. */
		n = piece(line, (size_t)(lim - line));
		feed(c, line, line, n);
		c->in.pos += n;
		c->line_fed += n;
		return 1;
	}
	if (c->first && !c->in_record &&
	    (line == nl || (line + 1 == nl && *line == '\r') || (nl == NULL && line == lim)))
		fail(c, EDU_EX_DATAERR, "%s:%lu: empty first line: no %s", c->in.name, c->line + 1,
		     c->no_header ? "fields" : "header");
	n = nl ? (size_t)(nl + 1 - line) : (size_t)(lim - line);
	feed(c, line, line, n);
	c->in.pos += n;
	c->line++;
	c->line_fed = 0;
	return 1;
}

static void fill(struct c2t *c, struct edu_progress *prog)
{
	unsigned long line = c->line + 1;

	edu_progress_add(prog, c2t_fill(&c->in));
	if (!c->in.bad)
		return;
	/* The bad bytes follow the decoded text still in the buffer. */
	for (size_t i = c->in.pos; i < c->in.end; i++)
		line += c->in.buf[i] == '\n';
	fail(c, EDU_EX_DATAERR,
	     "%s:%lu: invalid %s byte sequence at byte offset %llu of the file (is -e %s right?)",
	     c->in.name, line, c->in.encoding, c->in.bad_off, c->in.encoding);
}

static void set_kinds(struct c2t *c)
{
	memset(c->kind, K_DATA, sizeof(c->kind));
	for (int i = 0x80; i < 0x100; i++)
		c->kind[i] = K_HIGH;
	c->kind['\t'] = K_ESC;
	c->kind['\\'] = K_ESC;
	c->kind['\n'] = K_NL;
	c->kind['\r'] = K_CR;
	c->kind['"'] = K_QUOTE;
	c->kind['\0'] = K_NUL;
	c->kind[(unsigned char)c->delim] = K_DELIM;
}

/*
 * The delimiter of the header line: the most frequent of ; , tab | outside quotes, ties going
 * in that order (French sources use ';', and ',' appears inside labels more often than ';').
 */
static char detect_delim(const unsigned char *p, size_t n)
{
	static const char cand[] = ";,\t|";
	size_t count[4] = {0};
	int quoted = 0, best = 0;

	for (size_t i = 0; i < n && p[i] != '\n'; i++) {
		if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted)
			for (int k = 0; k < 4; k++)
				count[k] += p[i] == (unsigned char)cand[k];
	}
	for (int k = 1; k < 4; k++)
		if (count[k] > count[best])
			best = k;
	return cand[best];
}

void c2t_start(struct c2t *c, int fd, const char *name)
{
	/* Room for a whole input buffer at 3 output bytes per input byte (",," -> "\N\t"). */
	c->out.fd = fd;
	c->out.name = name;
	c->out.cap = 3 * c->in.cap + 64 * 1024;
	c->out.buf = edu_malloc(c->out.cap);
	c->out.len = 0;

	field_cap = c->maxfield;
	field_cap_hit = 0;
	if (csv_init(&c->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		edu_die(EDU_EX_OSERR, "cannot initialize libcsv");
	csv_set_space_func(&c->csv, no_space);
	csv_set_realloc_func(&c->csv, capped_realloc);
	csv_set_blk_size(&c->csv, FIELD_SLACK);
}

void c2t_head(struct c2t *c, char delim, struct edu_progress *prog)
{
	while (!c->in.eof && c->in.end < c->in.cap && memchr(c->in.buf, '\n', c->in.end) == NULL)
		fill(c, prog);
	if (c->in.end >= 3 && memcmp(c->in.buf, "\xEF\xBB\xBF", 3) == 0)
		c->in.pos = 3;
	if (c->in.pos == c->in.end && c->in.eof)
		fail(c, EDU_EX_DATAERR, "%s: empty input: no %s line", c->in.name,
		     c->no_header ? "data" : "header");
	c->delim = delim ? delim : detect_delim(c->in.buf + c->in.pos, c->in.end - c->in.pos);
	csv_set_delim(&c->csv, (unsigned char)c->delim);
	set_kinds(c);
	c->first = 1;
}

void c2t_convert(struct c2t *c, struct edu_progress *prog)
{
	for (;;) {
		int r = LINE_MORE;

		if (c->in.pos < c->in.end || c->in.eof) {
			if (c->in.pos == c->in.end)
				break;
			if (c->first || c->in_record)
				r = slow_line(c) ? LINE_DONE : LINE_MORE;
			else {
				if (c->out.len + 3 * (c->in.end - c->in.pos) + 8 > c->out.cap) {
					edu_out_flush(&c->out);
					c->row_start = 0;
				}
				r = fast_line(c);
				if (r == LINE_SLOW)
					r = slow_line(c) ? LINE_DONE : LINE_MORE;
			}
		}
		if (r == LINE_MORE) {
			if (c->in.eof)
				break;
			if (c->in.pos == 0 && c->in.end == c->in.cap && !c->in_record &&
			    !c->first) {
				/* Longer than the buffer: only libcsv streams a line in pieces. */
				slow_line(c);
				continue;
			}
			fill(c, prog);
		}
	}
	if (csv_fini(&c->csv, on_field, on_record, c) != 0)
		fail(c, EDU_EX_DATAERR,
		     "%s:%lu: unterminated quoted field: the record that starts here is still open "
		     "at "
		     "the end of the input (line %lu)",
		     c->in.name, c->rec_line, c->line);
	if (c->first)
		fail(c, EDU_EX_DATAERR, "%s: empty input: no %s line", c->in.name,
		     c->no_header ? "data" : "header");
}

void c2t_free(struct c2t *c)
{
	csv_free(&c->csv);
	c2t_close(&c->in);
	edu_out_free(&c->out);
	free_names(c);
}
