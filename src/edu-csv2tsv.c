/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-csv2tsv: CSV in the publishers' dialects to the suite's data contract (man/edu.7), streaming
 * in constant memory. This file holds the options and the order of the steps; the conversion is
 * edu-csv2tsv-convert.c, input decoding (-e) edu-csv2tsv-io.c, the atomic -o file the library's.
 * The end-of-data line is written only after the whole input was read and found valid. It does
 * not guess encodings, trim or retype values.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "edu-csv2tsv.h"

#define SYNOPSIS "edu-csv2tsv [-EHhpqVv] [-d delim] [-e encoding] [-m bytes] [-o file] [file]"

static char parse_delim(const char *s)
{
	if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0 || strcmp(s, "\t") == 0)
		return '\t';
	if (strlen(s) != 1 || (unsigned char)s[0] >= 0x80 || strchr("\"\r\n", s[0]) != NULL)
		edu_die(EDU_EX_USAGE,
		        "-d: '%s': the delimiter must be one ASCII character other "
		        "than a quote or a line end, or 'tab'",
		        s);
	return s[0];
}

static const char *delim_name(char d)
{
	static char one[4];

	if (d == '\t')
		return "tab";
	one[0] = '\'';
	one[1] = d;
	one[2] = '\'';
	return one;
}

/* What the command line asks for beside what the converter holds (struct c2t). */
struct opts {
	const char *encoding, *outfile, *file;
	enum edu_progress_mode pmode;
	int verbose;
	char delim; /* -d, 0 to detect it */
};

/* getopt's switch: one case per option, hence its length. */
static void parse_options(struct opts *o, struct c2t *c, int argc, char *argv[])
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->pmode = EDU_PROGRESS_AUTO;
	c->maxfield = (size_t)16 << 20;
	while ((ch = getopt_long(argc, argv, "d:Ee:Hhm:o:pqVv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o->delim = parse_delim(optarg);
			break;
		case 'E':
			c->keep_empty = 1;
			break;
		case 'e':
			o->encoding = optarg;
			break;
		case 'H':
			c->no_header = 1;
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'm':
			c->maxfield = (size_t)edu_strtonum(optarg, 1, (long long)1 << 40, "-m");
			break;
		case 'o':
			o->outfile = optarg;
			break;
		case 'p':
			o->pmode = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			o->pmode = EDU_PROGRESS_OFF;
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
	if (argc - optind > 1)
		edu_usage(SYNOPSIS, 0);
	o->file = optind < argc ? argv[optind] : NULL;
}

int main(int argc, char *argv[])
{
	struct c2t conv = {0}, *c = &conv;
	struct opts o;
	struct edu_progress prog;
	struct edu_atomic *atomic = NULL;

	edu_setprog(argv[0]);
	parse_options(&o, c, argc, argv);
	c2t_open(&c->in, o.file, o.encoding, C2T_BUF);
	edu_progress_init(&prog, "bytes", o.pmode, c2t_size(&c->in));
	if (o.outfile)
		atomic = edu_atomic_open(o.outfile);
	c2t_start(c, atomic ? atomic->fd : STDOUT_FILENO, o.outfile ? o.outfile : "stdout");
	c2t_head(c, o.delim, &prog);
	if (o.verbose)
		edu_warn("%s: delimiter %s%s%s", c->in.name, delim_name(c->delim),
		         o.delim ? " (forced)" : "", c->in.pos == 3 ? ", BOM stripped" : "");
	c2t_convert(c, &prog);
	edu_tsv_finish(&c->out);
	if (atomic)
		edu_atomic_commit(atomic);
	edu_progress_done(&prog);
	if (o.verbose)
		edu_warn("%s: %lu lines, %llu rows, %zu columns", c->in.name, c->line, c->rows,
		         c->ncols);
	c2t_free(c);
	edu_close_stdout();
	return EDU_EX_OK;
}
