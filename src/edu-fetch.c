/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-fetch: downloads one source of config/sources.json (or a URL) to standard output or,
 * atomically, to a file, refusing a body that is not what the source declares, and records what
 * it got (URL, validators, size, SHA-256) as the pending values of monitoring.data_sources; a
 * successful load promotes them. A transfer cut while streaming into a pipe ends with the
 * suite's abort mark so that no consumer can commit. It does not decode, unzip or convert.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "edu.h"

static const char SYNOPSIS[] =
    "edu-fetch [-hnpqVv] [--insecure] [-c config] [-d conninfo] [-F format] [-o file]\n"
    "       [-R retries] [-T timeout] [-y year] source | url";

static int to_pipe; /* the body goes to standard output */
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

static void restart(void *ctx)
{
	edu_out_rewind(ctx);
}

static void record_pending(const char *conninfo, const struct edu_source *s,
                           const struct edu_http_res *rs)
{
	static const char sql[] =
	    "insert into monitoring.data_sources as d (id, name, url, pending_url, pending_etag,"
	    " pending_last_modified, pending_sha256, pending_size, pending_at)"
	    " values ($1, $2, $3, $3, $4, $5::timestamptz, $6, $7::bigint, now())"
	    " on conflict (id) do update set name = excluded.name, url = excluded.url,"
	    " pending_url = excluded.pending_url, pending_etag = excluded.pending_etag,"
	    " pending_last_modified = excluded.pending_last_modified,"
	    " pending_sha256 = excluded.pending_sha256, pending_size = excluded.pending_size,"
	    " pending_at = excluded.pending_at";
	char size[32], iso[64];
	const char *params[7];
	PGconn *conn = edu_pg_connect(conninfo);

	snprintf(size, sizeof(size), "%llu", rs->size);
	params[0] = s->id;
	params[1] = s->name;
	params[2] = s->url;
	params[3] = rs->etag[0] ? rs->etag : NULL;
	/* data.gouv.fr's own date is the one to trust for a resolved resource. */
	params[4] = *s->res_last_modified ? s->res_last_modified
	                                  : edu_http_date_iso(rs->last_modified, iso, sizeof(iso));
	params[5] = rs->sha256;
	params[6] = size;
	PQclear(edu_pg_exec(conn, sql, 7, params));
	PQfinish(conn);
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    /* long only: turning TLS checks off must be spelt out */
	    {"insecure", no_argument, NULL, 'k'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	const char *config = NULL, *conninfo = NULL, *output = NULL, *what, *fmt = NULL;
	struct edu_source src;
	struct edu_http rq;
	struct edu_http_res rs;
	struct edu_out out;
	struct edu_atomic *af = NULL;
	int c, dry = 0, verbose = 0, fd = STDOUT_FILENO, rc, is_source;
	long year = 0;

	edu_setprog(argv[0]);
	memset(&rq, 0, sizeof(rq));
	memset(&src, 0, sizeof(src));
	rq.timeout = 30;
	rq.retries = 3;
	rq.progress = EDU_PROGRESS_AUTO;
	while ((c = getopt_long(argc, argv, "c:d:F:hno:pqR:T:Vvy:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			conninfo = optarg;
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'k':
			rq.insecure = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			rq.progress = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			rq.progress = EDU_PROGRESS_OFF;
			break;
		case 'R':
			rq.retries = (int)edu_strtonum(optarg, 0, 20, "retries");
			break;
		case 'T':
			rq.timeout = (long)edu_strtonum(optarg, 1, 86400, "timeout");
			break;
		case 'F':
			fmt = optarg;
			if (edu_format_parse(fmt) < 0)
				edu_die(EDU_EX_USAGE,
				        "format '%s': not one of csv, json, gzip, zip, any", fmt);
			break;
		case 'V':
			edu_version();
		case 'v':
			verbose = 1;
			break;
		case 'y':
			year = (long)edu_strtonum(optarg, 1900, 9999, "year");
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind != 1)
		edu_usage(SYNOPSIS, 0);
	what = argv[optind];
	rq.verbose = verbose;

	is_source = strstr(what, "://") == NULL;
	if (is_source) {
		char err[1024];

		edu_source_load(&src, edu_sources_path(config), what);
		edu_source_year(&src, (int)year);
		rq.format = src.format;
		if (*src.resolve_api &&
		    (rc = edu_source_resolve(&src, &rq, err, sizeof(err))) != EDU_EX_OK)
			edu_die(rc, "%s: %s", what, err);
		rq.url = src.url;
	} else {
		/* An HTML page served for file.csv is refused even without -F. */
		rq.url = what;
		rq.format = edu_format_of_url(what);
	}
	if (fmt)
		rq.format = edu_format_parse(fmt);
	if (dry) {
		printf("%s\n", rq.url);
		edu_close_stdout();
		return EDU_EX_OK;
	}

	/* A database that refuses us is found out now, not after a multi-gigabyte download. */
	if (is_source && edu_db_configured(conninfo))
		PQfinish(edu_pg_connect(conninfo));

	atexit(abort_pipe);
	catch_signal(SIGINT);
	catch_signal(SIGTERM);
	catch_signal(SIGHUP);
	if (output)
		fd = (af = edu_atomic_open(output))->fd;
	else
		to_pipe = 1;
	edu_out_init(&out, fd, output ? af->tmp : "stdout");
	rq.sink = sink;
	rq.restart = output ? restart : NULL;
	rq.ctx = &out;
	rc = edu_http_get(&rq, &rs);
	if (rc == EDU_EX_OK && rs.status == 304) {
		/* No condition was sent: a 304 has no body, and an empty file is no file. */
		rc = EDU_EX_UNAVAILABLE;
		snprintf(rs.error, sizeof(rs.error), "HTTP 304 to an unconditional request");
	}
	if (rc != EDU_EX_OK) {
		if (!output && rs.emitted) {
			/* Too late to take the bytes back: tell the reader they are not a whole
			 * file. */
			edu_out_flush(&out);
			edu_out_write(&out, EDU_ABORT_MARK, EDU_ABORT_MARK_LEN);
			edu_out_flush(&out);
			piped = 0;
			if (rc != EDU_EX_TEMPFAIL && rc != EDU_EX_UNAVAILABLE)
				rc = EDU_EX_TEMPFAIL;
		}
		edu_die(rc, "%s: %s", is_source ? what : rq.url, rs.error);
	}
	edu_out_flush(&out);
	edu_out_free(&out);
	if (is_source && edu_db_configured(conninfo))
		record_pending(conninfo, &src, &rs);
	if (output)
		edu_atomic_commit(af);
	piped = 0; /* complete, checked and recorded: from now on a failure is not the body's */
	if (!output)
		edu_close_stdout();
	if (verbose)
		edu_warn("%s: %s %ld, %llu bytes, sha256 %s, %d attempt%s",
		         is_source ? what : rq.url, rs.status ? "HTTP" : "file, status", rs.status,
		         rs.size, rs.sha256, rs.attempts, rs.attempts == 1 ? "" : "s");
	edu_source_free(&src);
	return EDU_EX_OK;
}
