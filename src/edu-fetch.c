/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-fetch: downloads one source of config/sources.json (or a URL) to standard output or,
 * atomically, to a file, refusing a body that is not what the source declares (or the URL's
 * extension names), and records what it got (URL, validators, size, SHA-256) with
 * monitoring.fetched under the source's unit (dvf:2024 for one year of a per-year source); a
 * successful load promotes it. A transfer cut while streaming into a pipe ends with the suite's
 * abort mark so that no consumer can commit. A data.gouv.fr resource whose dataset API gives
 * its size or a checksum (SHA-1, SHA-256, MD5; or the SHA-1 of its analysis) is checked against
 * them, and refused (75) when its bytes differ, before anything is recorded or put in place. For
 * an Opendatasoft export it records the dataset's catalog record too (data_processed,
 * records_count, modified), read just before the export. It does not decode, unzip or convert.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "edu.h"

static const char SYNOPSIS[] =
    "edu-fetch [-DhnpqVv] [--insecure] [-c config] [-d conninfo] [-F format] [-o file]\n"
    "       [-R retries] [-T timeout] [-y year] source | url";

/* What one run knows: the options, the source (or URL), the request and what it got. */
struct fetch {
	const char *config, *conninfo, *output, *what, *format;
	int dry, norecord, verbose, is_source;
	int year;
	struct edu_source src;
	struct edu_http rq;
	struct edu_http_res rs;
	struct edu_out out;
	struct edu_atomic *af; /* -o's temporary file */
	struct edu_meta meta;  /* an Opendatasoft dataset's catalog record, read before */
};

/* For the signal handler, which cannot be given the run: the body goes to standard output. */
static int to_pipe;
/* Body bytes went to standard output and the download did not succeed (yet). */
static volatile sig_atomic_t piped;

/*
 * The abort mark, when bytes were streamed and the download is not complete: however edu-fetch
 * ends (an error after the body, a signal), the reader must not take what it got for a whole
 * file. Only write(2): this also runs in a signal handler.
 */
static void abort_pipe(void)
{
	if (piped) {
		ssize_t r = write(STDOUT_FILENO, EDU_ABORT_MARK, EDU_ABORT_MARK_LEN);

		(void)r;
		piped = 0;
	}
}

static void on_signal(int sig)
{
	edu_atomic_cleanup();
	abort_pipe();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catches sig, unless it was ignored when we started: nohup(1) must keep working. */
static void catch_signal(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		return;
	signal(sig, on_signal);
}

static void sink(void *ctx, const char *p, size_t n)
{
	if (to_pipe)
		piped = 1;
	edu_out_write(ctx, p, n);
}

/* getopt's switch: one case per option, hence its length. */
static void parse_options(struct fetch *f, int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    /* long only: turning TLS checks off must be spelt out */
	    {"insecure", no_argument, NULL, 'k'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	int c;

	f->rq.timeout = 30;
	f->rq.retries = 3;
	f->rq.progress = EDU_PROGRESS_AUTO;
	while ((c = getopt_long(argc, argv, "c:Dd:F:hno:pqR:T:Vvy:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			f->config = optarg;
			break;
		case 'D':
			f->norecord = 1;
			break;
		case 'd':
			f->conninfo = optarg;
			break;
		case 'F':
			f->format = optarg;
			if (edu_format_parse(optarg) < 0)
				edu_die(EDU_EX_USAGE,
				        "format '%s': not one of csv, json, gzip, zip, any",
				        optarg);
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'k':
			f->rq.insecure = 1;
			break;
		case 'n':
			f->dry = 1;
			break;
		case 'o':
			f->output = optarg;
			break;
		case 'p':
			f->rq.progress = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			f->rq.progress = EDU_PROGRESS_OFF;
			break;
		case 'R':
			f->rq.retries = (int)edu_strtonum(optarg, 0, 20, "retries");
			break;
		case 'T':
			f->rq.timeout = (long)edu_strtonum(optarg, 1, 86400, "timeout");
			break;
		case 'V':
			edu_version();
		case 'v':
			f->verbose = f->rq.verbose = 1;
			break;
		case 'y':
			f->year = (int)edu_strtonum(optarg, 1900, 9999, "year");
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind != 1)
		edu_usage(SYNOPSIS, 0);
	f->what = argv[optind];
	f->is_source = strstr(f->what, "://") == NULL;
}

/* The digest name of a data.gouv.fr checksum type this tool checks, or NULL. */
static const char *checksum_digest(const char *type)
{
	static const char *const known[] = {"sha1", "sha256", "md5"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(type, known[i]) == 0)
			return known[i];
	return NULL;
}

/*
 * The second digest the download computes besides SHA-256, from what the dataset API says of
 * the resource: its checksum's type (SHA-1 or MD5); without a checksum of a known type, the
 * SHA-1 of its analysis (computed by data.gouv.fr, possibly of an older file: second best).
 */
static void plan_check(struct fetch *f)
{
	const struct edu_resource *r = f->src.resource;
	const char *d;

	if (r == NULL)
		return;
	d = *r->checksum ? checksum_digest(r->checksum_type) : NULL;
	if (d && strcmp(d, "sha256") != 0)
		f->rq.digest = d;
	else if (d == NULL && *r->analysis_sha1)
		f->rq.digest = "sha1";
}

/* A size the API gives (digits only), or -1. */
static long long published_size(const char *v)
{
	if (*v == '\0' || strlen(v) > 18)
		return -1;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	return strtoll(v, NULL, 10);
}

/*
 * The bytes received against what the publisher says of them, into why (empty when they agree
 * or nothing is said): the size, then the checksum, else the analysis's SHA-1.
 */
static void check_published(const struct fetch *f, char *why, size_t n)
{
	const struct edu_resource *r = f->src.resource;
	const struct edu_http_res *rs = &f->rs;
	const char *d, *got;
	long long size;

	*why = '\0';
	if (r == NULL)
		return;
	size = published_size(r->size);
	if (size >= 0 && (unsigned long long)size != rs->size) {
		snprintf(why, n, "%llu bytes received, the publisher says %lld (filesize of %s)",
		         rs->size, size, r->name);
		return;
	}
	d = *r->checksum ? checksum_digest(r->checksum_type) : NULL;
	if (d) {
		got = strcmp(d, "sha256") == 0 ? rs->sha256 : rs->digest;
		if (strcasecmp(got, r->checksum) != 0)
			snprintf(why, n, "%s %s received, the publisher says %s (checksum of %s)",
			         d, got, r->checksum, r->name);
		else if (f->verbose)
			edu_warn("%s: %s %s as the publisher says", f->what, d, got);
	} else if (*r->checksum && f->verbose)
		edu_warn("%s: checksum type '%s' of %s: not checked", f->what, r->checksum_type,
		         r->name);
	if (*why == '\0' && d == NULL && *r->analysis_sha1 && f->rq.digest &&
	    strcmp(f->rq.digest, "sha1") == 0 && strcasecmp(rs->digest, r->analysis_sha1) != 0)
		snprintf(why, n, "sha1 %s received, the publisher's analysis says %s (%s)",
		         rs->digest, r->analysis_sha1, r->name);
}

/*
 * The URL and the expected format: a source's entry (its year, its data.gouv.fr resource), or
 * a URL whose extension names the format, so that an HTML page served for file.csv is refused
 * even without -F.
 */
static void resolve(struct fetch *f)
{
	struct edu_source *s = &f->src;
	char err[1024];
	int rc;

	if (!f->is_source) {
		f->rq.url = f->what;
		f->rq.format = edu_format_of_url(f->what);
	} else {
		edu_source_load(s, edu_sources_path(f->config), f->what);
		edu_source_year(s, f->year);
		f->rq.format = s->format;
		if ((rc = edu_source_resolve(s, &f->rq, &f->rs, err, sizeof(err))) != EDU_EX_OK)
			edu_die(rc, "%s: %s", f->what, err);
		f->rq.url = s->url;
		plan_check(f);
	}
	if (f->format)
		f->rq.format = edu_format_parse(f->format);
}

/* The download is recorded for a source, when a database is configured and -D is not given. */
static int recording(const struct fetch *f)
{
	return f->is_source && !f->norecord && edu_db_configured(f->conninfo);
}

/*
 * Dies with status rc: what went into a pipe is first marked incomplete (a status that is not
 * 75 or 69 becomes 75, since the reader cannot take the bytes back).
 */
static void fail(struct fetch *f, int rc, const char *why)
{
	if (!f->output && f->rs.emitted) {
		edu_out_flush(&f->out);
		edu_out_write(&f->out, EDU_ABORT_MARK, EDU_ABORT_MARK_LEN);
		edu_out_flush(&f->out);
		piped = 0;
		if (rc != EDU_EX_TEMPFAIL && rc != EDU_EX_UNAVAILABLE)
			rc = EDU_EX_TEMPFAIL;
	}
	edu_die(rc, "%s: %s", f->is_source ? f->what : f->rq.url, why);
}

/*
 * Downloads into -o's temporary file or standard output; on failure, or bytes that are not
 * those the publisher describes, marks what went into a pipe as incomplete and dies with the
 * transfer's status (75 for bytes that differ: the next run gets the file again).
 */
static void download(struct fetch *f)
{
	char why[768];
	int fd = STDOUT_FILENO, rc;

	atexit(abort_pipe);
	catch_signal(SIGINT);
	catch_signal(SIGTERM);
	catch_signal(SIGHUP);
	if (f->output)
		fd = (f->af = edu_atomic_open(f->output))->fd;
	else
		to_pipe = 1;
	edu_out_init(&f->out, fd, f->output ? f->af->tmp : "stdout");
	f->rq.sink = sink;
	f->rq.restart = f->output ? edu_out_restart : NULL;
	f->rq.ctx = &f->out;
	rc = edu_http_get(&f->rq, &f->rs);
	if (rc != EDU_EX_OK)
		fail(f, rc, f->rs.error);
	check_published(f, why, sizeof(why));
	if (*why)
		fail(f, EDU_EX_TEMPFAIL, why);
	edu_out_flush(&f->out);
	edu_out_free(&f->out);
}

/*
 * An Opendatasoft dataset's catalog record, read before the export so that a change during the
 * download shows at the next check. Not having it costs only that check a download: a warning.
 */
static void read_catalog(struct fetch *f)
{
	struct edu_http_res rs;
	char err[1200];

	if (!edu_source_catalog_known(&f->src))
		return;
	if (edu_source_catalog(&f->src, &f->rq, &f->meta, &rs, err, sizeof(err)) != EDU_EX_OK)
		edu_warn("%s: %s: the catalog record is not recorded, the next check hashes the "
		         "export",
		         f->what, err);
	else if (f->verbose)
		edu_warn("%s: catalog: data_processed %s, records_count %s, modified %s", f->what,
		         f->meta.data_processed, f->meta.records_count, f->meta.modified);
}

/* What the download got, pending under the source's unit until a load promotes it. */
static void record(const struct fetch *f)
{
	const struct edu_source *s = &f->src;
	const struct edu_http_res *rs = &f->rs;
	char size[32], iso[64];
	const char *params[7];
	PGconn *conn = edu_pg_connect(f->conninfo);

	snprintf(size, sizeof(size), "%llu", rs->size);
	params[0] = s->unit;
	params[1] = s->name;
	params[2] = s->url;
	params[3] = rs->etag[0] ? rs->etag : NULL;
	/* data.gouv.fr's own date is the one to trust for a resolved resource. */
	params[4] = s->resource && *s->resource->last_modified
	                ? s->resource->last_modified
	                : edu_http_date_iso(rs->last_modified, iso, sizeof(iso));
	params[5] = rs->sha256;
	params[6] = size;
	PQclear(edu_pg_exec(conn,
	                    "select monitoring.fetched($1, $2, $3, $4, $5::timestamptz, $6,"
	                    " $7::bigint)",
	                    7, params));
	if (edu_source_catalog_known(s)) {
		const char *meta[4] = {s->unit, f->meta.data_processed, f->meta.records_count,
		                       f->meta.modified};

		PQclear(
		    edu_pg_exec(conn,
		                "select monitoring.fetched_meta($1, nullif($2, '')::timestamptz,"
		                " nullif($3, '')::bigint, nullif($4, '')::timestamptz)",
		                4, meta));
	}
	PQfinish(conn);
}

/* Puts the checked file in place and closes standard output. */
static void finish(struct fetch *f)
{
	const struct edu_http_res *rs = &f->rs;

	if (f->output)
		edu_atomic_commit(f->af);
	piped = 0; /* complete, checked and recorded: from now on a failure is not the body's */
	if (!f->output)
		edu_close_stdout();
	if (f->verbose)
		edu_warn("%s: %s %ld, %llu bytes, sha256 %s, %d attempt%s",
		         f->is_source ? f->what : f->rq.url, rs->status ? "HTTP" : "file, status",
		         rs->status, rs->size, rs->sha256, rs->attempts,
		         rs->attempts == 1 ? "" : "s");
}

int main(int argc, char *argv[])
{
	struct fetch f;

	edu_setprog(argv[0]);
	memset(&f, 0, sizeof(f));
	parse_options(&f, argc, argv);
	resolve(&f);
	if (f.dry) {
		printf("%s\n", f.rq.url);
		edu_close_stdout();
		edu_source_free(&f.src);
		return EDU_EX_OK;
	}
	/* A database that refuses us is found out now, not after a multi-gigabyte download. */
	if (recording(&f)) {
		PQfinish(edu_pg_connect(f.conninfo));
		read_catalog(&f);
	}
	download(&f);
	if (recording(&f))
		record(&f);
	finish(&f);
	edu_source_free(&f.src);
	return EDU_EX_OK;
}
