/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-normalize: contract in, contract out, driven by a mapping file that gives, for each
 * target column, its source column (with alternative names for schema drift) and a rule.
 * It checks the input header against the mapping before writing anything, converts every
 * value or rejects the row, and writes the end-of-data line only when all input was read and
 * valid. It does not reorder, join or deduplicate rows: that is the database's work.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "edu-normalize.h"

#define SYNOPSIS "edu-normalize [-hpqsVv] [-m max] [-o file] [-r file] -M map [file]"
/* How much of a bad value a message quotes. */
#define SHOW_MAX 60

struct source {
	char *spec; /* as written in the map, for messages */
	char **alt;
	size_t nalt;
	int optional;
	long idx; /* input column, -1 when optional and absent */
};

struct column {
	struct source src;
	struct source arg; /* the département column of commune_in_dept */
	char *target;
	enum norm_rule rule;
	char **nulls, **only;
	size_t nnull, nonly;
	unsigned long line;
	char *out; /* this row's value */
	size_t outcap, outlen;
	int isnull;
};

struct map {
	const char *file;
	struct column *col;
	size_t n;
};

struct state {
	struct edu_tsv_reader r;
	struct edu_out out, rej;
	struct edu_atomic *outfile, *rejfile; /* -o and -r, NULL for stdout and none */
	int rejecting;
	long long maxrej; /* -1: no cap */
	unsigned long nrej;
	char *in, *in2, *msg;
	size_t incap, in2cap, msgcap;
	char reason[256];
};

static _Noreturn void map_die(const struct map *m, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void map_die(const struct map *m, unsigned long line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	edu_die(EDU_EX_CONFIG, "%s:%lu: %s", m->file, line, buf);
}

static char **split_list(const char *s, char sep, size_t *n)
{
	char **v = NULL;

	*n = 0;
	for (;;) {
		const char *e = strchr(s, sep);
		size_t len = e ? (size_t)(e - s) : strlen(s);

		v = edu_realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = edu_strndup(s, len);
		if (!e)
			return v;
		s = e + 1;
	}
}

static int in_list(char *const *v, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
			return 1;
	return 0;
}

static void parse_source(const struct map *m, unsigned long line, const char *text,
                         struct source *s, int optional_ok)
{
	if (*text == '?') {
		if (!optional_ok)
			map_die(m, line, "'%s': the département column cannot be optional", text);
		s->optional = 1;
		text++;
	}
	s->spec = edu_strdup(text);
	s->alt = split_list(text, '|', &s->nalt);
	for (size_t i = 0; i < s->nalt; i++)
		if (s->alt[i][0] == '\0')
			map_die(m, line, "'%s': empty source column name", text);
	s->idx = -1;
}

static int valid_target(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Splits a map line on runs of tabs (so columns can be aligned), trimming spaces. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (*line) {
		char *end;

		while (*line == '\t' || *line == ' ')
			line++;
		if (*line == '\0')
			break;
		end = strchr(line, '\t');
		if (n < max)
			f[n] = line;
		n++;
		if (end == NULL)
			end = line + strlen(line);
		else
			*end++ = '\0';
		for (char *t = line + strlen(line); t > line && t[-1] == ' ';)
			*--t = '\0';
		line = end;
	}
	return n;
}

static void parse_line(struct map *m, unsigned long line, char *text)
{
	char *f[16], *arg;
	size_t nf = split_fields(text, f, 16);
	struct column *c;
	int rule;

	if (nf < 3)
		map_die(m, line, "expected source, target and rule separated by tabs");
	if (nf > 16)
		map_die(m, line, "too many fields");
	m->col = edu_realloc(m->col, (m->n + 1) * sizeof(*m->col));
	c = &m->col[m->n++];
	memset(c, 0, sizeof(*c));
	c->line = line;
	parse_source(m, line, f[0], &c->src, 1);
	if (!valid_target(f[1]))
		map_die(m, line, "'%s': target column names are lower-case letters, digits and _",
		        f[1]);
	for (size_t i = 0; i + 1 < m->n; i++)
		if (strcmp(m->col[i].target, f[1]) == 0)
			map_die(m, line, "'%s': target column already mapped on line %lu", f[1],
			        m->col[i].line);
	c->target = edu_strdup(f[1]);
	arg = strchr(f[2], '=');
	if (arg)
		*arg++ = '\0';
	rule = norm_rule_find(f[2]);
	if (rule < 0)
		map_die(m, line, "unknown rule '%s'", f[2]);
	c->rule = (enum norm_rule)rule;
	c->arg.idx = -1;
	if (c->rule == NORM_COMMUNE_IN_DEPT) {
		if (arg == NULL || *arg == '\0')
			map_die(m, line, "commune_in_dept needs =<département source column>");
		parse_source(m, line, arg, &c->arg, 0);
	} else if (arg) {
		map_die(m, line, "rule '%s' takes no argument", f[2]);
	}
	for (size_t i = 3; i < nf; i++) {
		if (strncmp(f[i], "null=", 5) == 0 && c->nulls == NULL)
			c->nulls = split_list(f[i] + 5, ',', &c->nnull);
		else if (strncmp(f[i], "only=", 5) == 0 && c->only == NULL)
			c->only = split_list(f[i] + 5, ',', &c->nonly);
		else
			map_die(m, line, "'%s': unknown or repeated option (null=, only=)", f[i]);
	}
}

static void read_map(struct map *m, const char *file)
{
	FILE *fp = fopen(file, "r");
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long line = 0;

	m->file = file;
	if (fp == NULL)
		edu_die(EDU_EX_CONFIG, "%s:", file);
	while ((len = getline(&text, &cap, fp)) >= 0) {
		char *p = text;

		line++;
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		if (memchr(text, '\0', (size_t)len))
			map_die(m, line, "NUL byte");
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		parse_line(m, line, text);
	}
	if (ferror(fp))
		edu_die(EDU_EX_CONFIG, "%s: read error:", file);
	fclose(fp);
	free(text);
	if (m->n == 0)
		edu_die(EDU_EX_CONFIG, "%s: no column mapped", file);
}

static void resolve(struct source *s, const struct edu_tsv_reader *r)
{
	for (size_t i = 0; i < s->nalt && s->idx < 0; i++)
		s->idx = edu_tsv_column(r, s->alt[i]);
}

/* Appends "'name'" to a list for messages. */
static void list_add(struct edu_str *list, const char *name)
{
	edu_str_add(list, "%s'%s'", list->len ? ", " : "", name);
}

/* Whether source k of column i repeats the spec of an earlier one (to list it once). */
static int listed_before(const struct map *m, size_t i, size_t k)
{
	const char *spec = k ? m->col[i].arg.spec : m->col[i].src.spec;

	for (size_t j = 0; j <= i; j++) {
		const struct source *s[2] = {&m->col[j].src, &m->col[j].arg};

		for (size_t l = 0; l < (j == i ? k : 2); l++)
			if (s[l]->spec && strcmp(s[l]->spec, spec) == 0)
				return 1;
	}
	return 0;
}

/*
 * Checks the input header against the map before any row is written. An optional source that
 * is absent loads NULL, said once per source (a renamed column the map does not know yet would
 * otherwise load NULL for ever, unnoticed).
 */
static void check_header(struct map *m, const struct edu_tsv_reader *r, int strict, int quiet)
{
	struct edu_str missing = {0}, expected = {0}, found = {0};
	char *used = edu_malloc(r->ncols);

	memset(used, 0, r->ncols);
	for (size_t i = 0; i < m->n; i++) {
		struct source *s[2] = {&m->col[i].src, &m->col[i].arg};

		for (size_t k = 0; k < 2; k++) {
			if (s[k]->spec == NULL)
				continue;
			resolve(s[k], r);
			if (s[k]->idx >= 0)
				used[s[k]->idx] = 1;
			if (listed_before(m, i, k))
				continue;
			if (s[k]->optional)
				continue;
			list_add(&expected, s[k]->spec);
			if (s[k]->idx < 0)
				list_add(&missing, s[k]->spec);
		}
	}
	if (missing.len) {
		for (size_t i = 0; i < r->ncols; i++)
			list_add(&found, r->header[i]);
		edu_warn("%s:1: schema drift: mapped columns missing from the input: %s", r->name,
		         missing.p);
		edu_warn("%s:1: expected (%s): %s", r->name, m->file, expected.p);
		edu_die(EDU_EX_DATAERR, "%s:1: found: %s", r->name, found.p);
	}
	if (strict) {
		for (size_t i = 0; i < r->ncols; i++)
			if (!used[i])
				list_add(&found, r->header[i]);
		if (found.len)
			edu_die(EDU_EX_DATAERR,
			        "%s:1: schema drift: input columns not in %s (-s): %s", r->name,
			        m->file, found.p);
	}
	for (size_t i = 0; i < m->n && !quiet; i++) {
		struct edu_str targets = {0};

		if (!m->col[i].src.optional || m->col[i].src.idx >= 0 || listed_before(m, i, 0))
			continue;
		for (size_t j = i; j < m->n; j++)
			if (strcmp(m->col[j].src.spec, m->col[i].src.spec) == 0)
				edu_str_add(&targets, "%s%s", targets.len ? ", " : "",
				            m->col[j].target);
		edu_warn("%s:1: optional column '%s' is absent: NULL in %s", r->name,
		         m->col[i].src.spec, targets.p);
		edu_str_free(&targets);
	}
	edu_str_free(&expected);
	free(used);
}

/* Unescapes input column idx: 0 for NULL, 1 for a value, -1 for a bad escape sequence. */
static int fetch(struct edu_tsv_reader *r, long idx, char **buf, size_t *cap, size_t *len)
{
	if (idx < 0 || edu_field_is_null(&r->fields[idx]))
		return 0;
	*len = edu_field_unescape(&r->fields[idx], buf, cap);
	return *len == (size_t)-1 ? -1 : 1;
}

static const char *dept_of(struct state *st, struct column *c, char *dept, size_t *dlen)
{
	size_t n, start, tn;
	int got = fetch(&st->r, c->arg.idx, &st->in2, &st->in2cap, &n);
	const char *why;

	if (got < 0)
		return "invalid escape sequence in the département column";
	tn = got ? norm_trim(st->in2, n, &start) : 0;
	if (tn == 0 || in_list(c->nulls, c->nnull, st->in2 + start, tn)) {
		snprintf(st->reason, sizeof(st->reason),
		         "commune_in_dept has no département in column %s",
		         st->r.header[c->arg.idx]);
		return st->reason;
	}
	if ((why = norm_apply(NORM_DEPT, st->in2 + start, tn, dept, dlen)) != NULL) {
		snprintf(st->reason, sizeof(st->reason), "commune_in_dept: column %s: %s",
		         st->r.header[c->arg.idx], why);
		return st->reason;
	}
	return NULL;
}

/* Converts column c of the current row into c->out; returns NULL or the reason. */
static const char *convert(struct state *st, struct column *c)
{
	size_t n, start, tn;
	int got = fetch(&st->r, c->src.idx, &st->in, &st->incap, &n);
	const char *v;

	c->isnull = 1;
	if (got < 0)
		return "invalid escape sequence";
	if (got == 0)
		return NULL;
	if (c->outcap < n + NORM_SLACK + 1) {
		c->outcap = n + NORM_SLACK + 1;
		c->out = edu_realloc(c->out, c->outcap);
	}
	tn = norm_trim(st->in, n, &start);
	v = st->in + start;
	if (in_list(c->nulls, c->nnull, v, tn))
		return NULL;
	if (c->rule == NORM_RAW) {
		memcpy(c->out, st->in, n);
		c->outlen = n;
		c->isnull = 0;
		return NULL;
	}
	if (tn == 0)
		return NULL;
	if (c->rule == NORM_COMMUNE_IN_DEPT) {
		char dept[NORM_SLACK + 4];
		size_t dlen;
		const char *why = dept_of(st, c, dept, &dlen);

		if (why == NULL)
			why = norm_commune_in_dept(dept, dlen, v, tn, c->out, &c->outlen);
		c->isnull = why != NULL;
		return why;
	}
	if ((v = norm_apply(c->rule, v, tn, c->out, &c->outlen)) == NULL)
		c->isnull = 0;
	return v;
}

/* "file:line: column X: 'value': reason" into st->msg; the value as escaped on the wire. */
static const char *describe(struct state *st, const struct column *c, const char *why)
{
	const struct edu_field *f = &st->r.fields[c->src.idx];
	size_t show = f->n, need;
	const char *more = "";

	if (show > SHOW_MAX) {
		show = SHOW_MAX;
		while (show > 0 && ((unsigned char)f->p[show] & 0xc0) == 0x80)
			show--;
		more = "...";
	}
	for (int pass = 0; pass < 2; pass++) {
		need = (size_t)snprintf(st->msg, st->msgcap, "%s:%lu: column %s: '%.*s%s': %s",
		                        st->r.name, st->r.line, st->r.header[c->src.idx], (int)show,
		                        f->p, more, why) +
		       1;
		if (need <= st->msgcap)
			break;
		st->msg = edu_realloc(st->msg, st->msgcap = need);
	}
	return st->msg;
}

static void reject(struct state *st, const struct column *c, const char *why)
{
	const char *msg = describe(st, c, why);

	if (!st->rejecting)
		edu_die(EDU_EX_DATAERR, "%s", msg);
	st->nrej++;
	edu_out_write(&st->rej, st->r.row, st->r.rowlen);
	edu_out_putc(&st->rej, '\t');
	edu_tsv_put_field(&st->rej, msg, strlen(msg));
	edu_out_putc(&st->rej, '\n');
	if (st->maxrej >= 0 && st->nrej > (unsigned long long)st->maxrej) {
		/* The reject file is complete up to here: let it be loaded and read. */
		edu_tsv_finish(&st->rej);
		edu_atomic_commit(st->rejfile);
		edu_die(EDU_EX_DATAERR, "%s; more than %lld rejected rows (-m)", msg, st->maxrej);
	}
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_map(struct map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct column *c = &m->col[i];

		free(c->src.spec);
		free_list(c->src.alt, c->src.nalt);
		free(c->arg.spec);
		free_list(c->arg.alt, c->arg.nalt);
		free(c->target);
		free_list(c->nulls, c->nnull);
		free_list(c->only, c->nonly);
		free(c->out);
	}
	free(m->col);
}

/* An output: standard output, or file written atomically (complete or absent). */
static struct edu_atomic *open_out(struct edu_out *o, const char *file)
{
	struct edu_atomic *a = file ? edu_atomic_open(file) : NULL;

	edu_out_init(o, a ? a->fd : STDOUT_FILENO, file ? file : "stdout");
	return a;
}

/* Ends an output that is complete: end-of-data line, then the rename of its file. */
static void close_out(struct edu_out *o, struct edu_atomic *a)
{
	edu_tsv_finish(o);
	if (a)
		edu_atomic_commit(a);
	edu_out_free(o);
}

static void write_headers(struct state *st, const struct map *m)
{
	char **names = edu_malloc((m->n > st->r.ncols ? m->n : st->r.ncols + 1) * sizeof(*names));

	for (size_t i = 0; i < m->n; i++)
		names[i] = m->col[i].target;
	edu_tsv_put_header(&st->out, names, m->n);
	if (st->rejecting) {
		for (size_t i = 0; i < st->r.ncols; i++)
			names[i] = st->r.header[i];
		names[st->r.ncols] =
		    edu_tsv_column(&st->r, "reason") < 0 ? "reason" : "reject_reason";
		edu_tsv_put_header(&st->rej, names, st->r.ncols + 1);
	}
	free(names);
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0, 0, 0, 0}};
	struct state st;
	struct map m;
	struct edu_progress prog;
	enum edu_progress_mode pmode = EDU_PROGRESS_AUTO;
	const char *mapfile = NULL, *outfile = NULL, *rejfile = NULL, *input = "stdin";
	unsigned long nin = 0, nout = 0, ndrop = 0;
	int ch, fd = STDIN_FILENO, strict = 0, quiet = 0, verbose = 0;

	edu_setprog(argv[0]);
	memset(&st, 0, sizeof(st));
	memset(&m, 0, sizeof(m));
	st.maxrej = -1;
	while ((ch = getopt_long(argc, argv, "hM:m:o:pqr:sVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'M':
			mapfile = optarg;
			break;
		case 'm':
			st.maxrej = edu_strtonum(optarg, 0, 1LL << 40, "-m");
			break;
		case 'o':
			outfile = optarg;
			break;
		case 'p':
			pmode = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			rejfile = optarg;
			break;
		case 's':
			strict = 1;
			break;
		case 'V':
			edu_version();
		case 'v':
			verbose = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	argc -= optind;
	argv += optind;
	if (mapfile == NULL || argc > 1)
		edu_usage(SYNOPSIS, 0);
	if (st.maxrej >= 0 && rejfile == NULL)
		edu_die(EDU_EX_USAGE, "-m needs -r: without a reject file any bad value fails");
	if (quiet)
		pmode = EDU_PROGRESS_OFF;
	read_map(&m, mapfile);
	if (argc == 1 && strcmp(argv[0], "-") != 0) {
		input = argv[0];
		if ((fd = open(input, O_RDONLY)) < 0)
			edu_die(EDU_EX_NOINPUT, "%s:", input);
	}
	edu_tsv_open(&st.r, fd, input);
	check_header(&m, &st.r, strict, quiet);
	st.outfile = open_out(&st.out, outfile);
	if (rejfile) {
		st.rejecting = 1;
		st.rejfile = open_out(&st.rej, rejfile);
	}
	write_headers(&st, &m);
	edu_progress_init(&prog, "rows", pmode, 0);
	while (edu_tsv_next(&st.r)) {
		struct column *bad = NULL;
		const char *why = NULL;
		int keep = 1;

		nin++;
		edu_progress_add(&prog, 1);
		/* Filter columns first, so a row that only= drops is never judged. */
		for (int pass = 0; pass < 2 && keep && why == NULL; pass++) {
			for (size_t i = 0; i < m.n && keep && why == NULL; i++) {
				struct column *c = &m.col[i];

				if ((c->nonly > 0) != (pass == 0))
					continue;
				if ((why = convert(&st, c)) != NULL)
					bad = c;
				else if (c->nonly)
					keep = !c->isnull &&
					       in_list(c->only, c->nonly, c->out, c->outlen);
			}
		}
		if (!keep) {
			ndrop++;
			continue;
		}
		if (why) {
			reject(&st, bad, why);
			continue;
		}
		for (size_t i = 0; i < m.n; i++) {
			if (i)
				edu_out_putc(&st.out, '\t');
			if (m.col[i].isnull)
				edu_tsv_put_null(&st.out);
			else
				edu_tsv_put_field(&st.out, m.col[i].out, m.col[i].outlen);
		}
		edu_out_putc(&st.out, '\n');
		nout++;
	}
	edu_progress_done(&prog);
	close_out(&st.out, st.outfile);
	if (st.rejecting) {
		close_out(&st.rej, st.rejfile);
		if (st.nrej > 0 && !quiet)
			edu_warn("%s: %lu rows rejected to %s", input, st.nrej, rejfile);
	}
	if (verbose)
		edu_warn("%s: %lu rows read, %lu written, %lu dropped by only=, %lu rejected",
		         input, nin, nout, ndrop, st.nrej);
	edu_tsv_close(&st.r);
	free_map(&m);
	free(st.in);
	free(st.in2);
	free(st.msg);
	return EDU_EX_OK;
}
