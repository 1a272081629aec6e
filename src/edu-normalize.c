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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "edu-normalize.h"

#define SYNOPSIS                                                                                   \
	"edu-normalize [-hpqsVv] [-m max] [-o file] [-r file] -M map [file]\n"                     \
	"       edu-normalize -I [-o file] [file]"
/* How much of a bad value a message quotes. */
#define SHOW_MAX 60

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

static int in_list(char *const *v, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(v[i]) == len && memcmp(v[i], s, len) == 0)
			return 1;
	return 0;
}

/* Unescapes input column idx: 0 for NULL, 1 for a value, -1 for a bad escape sequence. */
static int fetch(struct edu_tsv_reader *r, long idx, char **buf, size_t *cap, size_t *len)
{
	if (idx < 0 || edu_field_is_null(&r->fields[idx]))
		return 0;
	*len = edu_field_unescape(&r->fields[idx], buf, cap);
	return *len == (size_t)-1 ? -1 : 1;
}

static const char *dept_of(struct state *st, struct norm_column *c, char *dept, size_t *dlen)
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
static const char *convert(struct state *st, struct norm_column *c)
{
	size_t n, start, tn;
	int got = fetch(&st->r, c->src.idx, &st->in, &st->incap, &n);
	const char *v;

	c->isnull = 1;
	if (got < 0)
		return "invalid escape sequence";
	if (got == 0)
		return NULL;
	if (c->outcap < NORM_LIST_ROOM(n) + 1) {
		c->outcap = NORM_LIST_ROOM(n) + 1;
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
	if (c->rule == NORM_LIST) {
		c->isnull = 0;
		return norm_list(c->sep, v, tn, c->out, &c->outlen);
	}
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
static const char *describe(struct state *st, const struct norm_column *c, const char *why)
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

static void reject(struct state *st, const struct norm_column *c, const char *why)
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

static void write_headers(struct state *st, const struct norm_map *m)
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

/* Opens the input file (standard input when it is NULL or -) as a contract stream. */
static void open_stream(struct edu_tsv_reader *r, const char *file)
{
	int fd = STDIN_FILENO;

	if (file == NULL || strcmp(file, "-") == 0)
		file = "stdin";
	else if ((fd = open(file, O_RDONLY)) < 0)
		edu_die(EDU_EX_NOINPUT, "%s:", file);
	edu_tsv_open(r, fd, file);
}

/* -I: a draft mapping file from the sample in file (standard input when NULL or -). */
static int draft_map(const char *file, const char *outfile)
{
	struct edu_tsv_reader r;
	struct edu_out out;
	struct edu_atomic *a;

	open_stream(&r, file);
	a = open_out(&out, outfile);
	norm_infer(&r, &out, r.name);
	edu_out_flush(&out);
	if (a)
		edu_atomic_commit(a);
	edu_out_free(&out);
	edu_tsv_close(&r);
	return EDU_EX_OK;
}

/* What the command line asks for. */
struct opts {
	const char *mapfile, *outfile, *rejfile, *input;
	long long maxrej; /* -1: no cap */
	enum edu_progress_mode pmode;
	int strict, quiet, verbose, infer;
};

/* getopt's switch: one case per option, hence its length. */
static void parse_options(struct opts *o, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0, 0, 0, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->maxrej = -1;
	o->pmode = EDU_PROGRESS_AUTO;
	while ((ch = getopt_long(argc, argv, "hIM:m:o:pqr:sVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'I':
			o->infer = 1;
			break;
		case 'M':
			o->mapfile = optarg;
			break;
		case 'm':
			o->maxrej = edu_strtonum(optarg, 0, 1LL << 40, "-m");
			break;
		case 'o':
			o->outfile = optarg;
			break;
		case 'p':
			o->pmode = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'r':
			o->rejfile = optarg;
			break;
		case 's':
			o->strict = 1;
			break;
		case 'V':
			edu_version();
		case 'v':
			o->verbose = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind > 1 ||
	    (o->infer ? o->mapfile != NULL || o->rejfile != NULL || o->strict : o->mapfile == NULL))
		edu_usage(SYNOPSIS, 0);
	o->input = optind < argc ? argv[optind] : NULL;
	if (o->maxrej >= 0 && o->rejfile == NULL)
		edu_die(EDU_EX_USAGE, "-m needs -r: without a reject file any bad value fails");
	if (o->quiet)
		o->pmode = EDU_PROGRESS_OFF;
}

/* Opens the input (a file, or standard input for none or -) and checks its header. */
static void open_input(struct state *st, struct norm_map *m, const struct opts *o)
{
	open_stream(&st->r, o->input);
	norm_map_check(m, &st->r, o->strict, o->quiet);
}

/*
 * Converts the row in hand: 1 when it is kept, 0 when only= drops it; a bad value sets *bad and
 * returns the reason through *why. Filter columns go first, so that a row only= drops is never
 * judged.
 */
static int convert_row(struct state *st, struct norm_map *m, struct norm_column **bad,
                       const char **why)
{
	int keep = 1;

	*why = NULL;
	for (int pass = 0; pass < 2 && keep && *why == NULL; pass++) {
		for (size_t i = 0; i < m->n && keep && *why == NULL; i++) {
			struct norm_column *c = &m->col[i];

			if ((c->nonly > 0) != (pass == 0))
				continue;
			if ((*why = convert(st, c)) != NULL)
				*bad = c;
			else if (c->nonly)
				keep = !c->isnull && in_list(c->only, c->nonly, c->out, c->outlen);
		}
	}
	return keep;
}

static void write_row(struct state *st, const struct norm_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		if (i)
			edu_out_putc(&st->out, '\t');
		if (m->col[i].isnull)
			edu_tsv_put_null(&st->out);
		else
			edu_tsv_put_field(&st->out, m->col[i].out, m->col[i].outlen);
	}
	edu_out_putc(&st->out, '\n');
}

/* Every row: written, rejected or dropped; counted for -v. */
static void normalize_rows(struct state *st, struct norm_map *m, const struct opts *o,
                           unsigned long count[3])
{
	struct edu_progress prog;

	edu_progress_init(&prog, "rows", o->pmode, 0);
	while (edu_tsv_next(&st->r)) {
		struct norm_column *bad = NULL;
		const char *why;

		count[0]++;
		edu_progress_add(&prog, 1);
		if (!convert_row(st, m, &bad, &why))
			count[2]++;
		else if (why)
			reject(st, bad, why);
		else {
			write_row(st, m);
			count[1]++;
		}
	}
	edu_progress_done(&prog);
}

/* The outputs closed complete (end-of-data lines, renames), what was done said. */
static void finish(struct state *st, const struct opts *o, const unsigned long count[3])
{
	close_out(&st->out, st->outfile);
	if (st->rejecting) {
		close_out(&st->rej, st->rejfile);
		if (st->nrej > 0 && !o->quiet)
			edu_warn("%s: %lu rows rejected to %s", st->r.name, st->nrej, o->rejfile);
	}
	if (o->verbose)
		edu_warn("%s: %lu rows read, %lu written, %lu dropped by only=, %lu rejected",
		         st->r.name, count[0], count[1], count[2], st->nrej);
	edu_tsv_close(&st->r);
	free(st->in);
	free(st->in2);
	free(st->msg);
}

int main(int argc, char *argv[])
{
	struct opts o;
	struct state st;
	struct norm_map m;
	unsigned long count[3] = {0, 0, 0}; /* read, written, dropped by only= */

	edu_setprog(argv[0]);
	parse_options(&o, argc, argv);
	if (o.infer)
		return draft_map(o.input, o.outfile);
	memset(&st, 0, sizeof(st));
	st.maxrej = o.maxrej;
	norm_map_read(&m, o.mapfile);
	open_input(&st, &m, &o);
	st.outfile = open_out(&st.out, o.outfile);
	if (o.rejfile) {
		st.rejecting = 1;
		st.rejfile = open_out(&st.rej, o.rejfile);
	}
	write_headers(&st, &m);
	normalize_rows(&st, &m, &o, count);
	finish(&st, &o, count);
	norm_map_free(&m);
	return EDU_EX_OK;
}
