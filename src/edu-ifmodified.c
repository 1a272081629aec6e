/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-ifmodified: prints the ids of the sources whose content changed since their last
 * successful import, one per line, with one request per source: a conditional GET, a content
 * SHA-256, or the data.gouv.fr dataset API, as config/sources.json says. It reads what the last
 * import saw with monitoring.known and records each check with monitoring.checked (the known
 * values belong to the load that imported them). It downloads nothing to keep, and never
 * retries: the next check is the retry.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "edu.h"

static const char SYNOPSIS[] = "edu-ifmodified [-fhnqVv] [-c config] [-d conninfo] [-T timeout] "
                               "[-y year] [source ...]";

#define COOLOFF_DEFAULT 3600 /* seconds to leave a server alone after a 429 without Retry-After */

/* A set of strings; few members, so a list. */
struct set {
	char **v;
	size_t n, cap;
};

/* What one run knows. */
struct run {
	PGconn *conn;
	const char *config, *job;
	int dry, force, quiet, verbose, timeout, year;
	struct edu_out out;
	struct set seen; /* sources checked */
	int nchanged, ex_temp, ex_perm;
};

/* What the last import saw (monitoring.known; "" when NULL). */
struct known {
	int any;            /* at least one known value: the source was imported once */
	long long lm_epoch; /* -1 when NULL */
	long long cooloff;  /* a 429 cool-off ends then; -1 when none runs */
	char etag[256], lm_http[64], sha256[65], size[32], url[2048];
};

struct check {
	const struct known *k;
	int decided, changed;
};

/* Adds s; 0 when it was there already. */
static int set_add(struct set *set, const char *s)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], s) == 0)
			return 0;
	if (set->n == set->cap)
		set->v = edu_realloc(set->v,
		                     (set->cap = set->cap ? 2 * set->cap : 16) * sizeof(*set->v));
	set->v[set->n++] = edu_strdup(s);
	return 1;
}

static void set_free(struct set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
}

/* t as "2026-11-28T10:00:00Z". */
static const char *iso_time(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return buf;
}

/* Now, to the microsecond, for the start of a check. */
static const char *started_now(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	snprintf(buf, n, "%s.%06ldZ", sec, ts.tv_nsec / 1000);
	return buf;
}

static void copy(char *dst, size_t n, const PGresult *r, int col)
{
	snprintf(dst, n, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static long long epoch(const PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? -1 : strtoll(PQgetvalue(r, 0, col), NULL, 10);
}

static void load_known(const struct run *r, const char *unit, struct known *k)
{
	const char *params[1] = {unit};
	PGresult *res;

	memset(k, 0, sizeof(*k));
	k->lm_epoch = k->cooloff = -1;
	if (r->conn == NULL)
		return;
	res = edu_pg_exec(r->conn,
	                  "select etag, extract(epoch from last_modified)::bigint, sha256,"
	                  " size, url, imported, extract(epoch from cooloff_until)::bigint"
	                  " from monitoring.known($1)",
	                  1, params);
	if (PQntuples(res) == 1) {
		copy(k->etag, sizeof(k->etag), res, 0);
		k->lm_epoch = epoch(res, 1);
		copy(k->sha256, sizeof(k->sha256), res, 2);
		copy(k->size, sizeof(k->size), res, 3);
		copy(k->url, sizeof(k->url), res, 4);
		k->any = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
		k->cooloff = epoch(res, 6);
		if (k->lm_epoch >= 0) {
			time_t t = (time_t)k->lm_epoch;
			struct tm tm;

			strftime(k->lm_http, sizeof(k->lm_http), "%a, %d %b %Y %H:%M:%S GMT",
			         gmtime_r(&t, &tm));
		}
	}
	PQclear(res);
}

/*
 * Reads what the last import of unit saw into k; true (with a warning) when a 429 cool-off of
 * the unit still runs: it is not asked.
 */
static int cooling(const struct run *r, const char *unit, struct known *k, const char *what)
{
	char until[32];

	load_known(r, unit, k);
	if (k->cooloff < 0 || r->force)
		return 0;
	if (!r->quiet)
		edu_warn("%s: rate-limited, cooling off until %s: %s", unit,
		         iso_time(k->cooloff, until, sizeof(until)), what);
	return 1;
}

/* One check in monitoring.checked: the unit's row and its history. Nothing with -n or -f. */
static void record(const struct run *r, const char *unit, const struct edu_source *s,
                   const char *url, const char *outcome, int status, const char *error,
                   const char *cooloff_until, const char *started)
{
	char st[16];
	const char *params[9] = {unit,  s->name,       url,     outcome, st,
	                         error, cooloff_until, started, r->job};

	if (r->conn == NULL || r->dry || r->force)
		return;
	snprintf(st, sizeof(st), "%d", status);
	PQclear(edu_pg_exec(r->conn,
	                    "select monitoring.checked($1, $2, $3, $4, $5::integer, $6,"
	                    " $7::timestamptz, $8::timestamptz, $9)",
	                    9, params));
}

/*
 * A check that failed: recorded (after a 429 as a cool-off, with its end in a column and in
 * the message), warned about, counted in the exit status. where, when not NULL, is the URL the
 * message is about, printed but not stored (the unit's row has its URL).
 */
static void failed(struct run *r, const char *unit, const struct edu_source *s, const char *url,
                   int rc, const struct edu_http_res *rs, const char *where, const char *why,
                   const char *started)
{
	char msg[1400], until[32] = "";

	snprintf(msg, sizeof(msg), "%s", why);
	if (rs->status == 429) {
		long wait = rs->retry_after >= 0 ? rs->retry_after : COOLOFF_DEFAULT;
		size_t len = strlen(msg);

		iso_time((long long)time(NULL) + wait, until, sizeof(until));
		snprintf(msg + len, sizeof(msg) - len, "; cooling off until %s", until);
	}
	record(r, unit, s, url, *until ? "cooloff" : "failed", rc, msg, *until ? until : NULL,
	       started);
	if (!r->quiet)
		edu_warn("%s: %s%s%s", unit, where ? where : "", where ? ": " : "", msg);
	if (rc == EDU_EX_TEMPFAIL)
		r->ex_temp = rc;
	else if (r->ex_perm == 0)
		r->ex_perm = rc;
}

static long long iso_epoch(const struct run *r, const char *iso)
{
	const char *params[1] = {iso};
	PGresult *res;
	long long t;

	res = edu_pg_exec(r->conn, "select extract(epoch from $1::timestamptz)::bigint::text", 1,
	                  params);
	t = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return t;
}

static const char *strip_weak(const char *etag)
{
	return strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
}

/* A 200 to a conditional GET: the server ignored the validators or the content changed. */
static int on_headers(void *ctx, const struct edu_http_res *rs)
{
	struct check *c = ctx;
	const struct known *k = c->k;

	if (rs->etag[0] && k->etag[0]) {
		c->changed = strcmp(strip_weak(rs->etag), strip_weak(k->etag)) != 0;
	} else if (rs->last_modified[0] && k->lm_epoch >= 0) {
		time_t t = curl_getdate(rs->last_modified, NULL);

		c->changed =
		    t != (time_t)k->lm_epoch || (rs->content_length >= 0 && k->size[0] &&
		                                 rs->content_length != strtoll(k->size, NULL, 10));
	} else if (k->sha256[0] == '\0') {
		c->changed = 1; /* nothing to compare the body with */
	} else {
		return 0; /* read and hash the body */
	}
	c->decided = 1;
	return 1;
}

static void discard(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

/* The request settings of a check: one attempt, no progress meter. */
static void request(const struct run *r, struct edu_http *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->timeout = r->timeout;
	rq->retries = 0; /* politeness: one request per unit per check */
	rq->progress = EDU_PROGRESS_OFF;
	rq->verbose = r->verbose;
}

/* The data.gouv.fr dataset API: the resource's URL, date, checksum and size. */
static int compare_datagouv(const struct run *r, struct edu_source *s, const struct known *k,
                            int *changed, struct edu_http_res *rs, char *err, size_t n)
{
	struct edu_http rq;
	int rc;

	request(r, &rq);
	memset(rs, 0, sizeof(*rs));
	if ((rc = edu_source_resolve(s, &rq, err, n)) != EDU_EX_OK)
		return rc;
	*changed = strcmp(s->url, k->url) != 0;
	if (*s->res_last_modified && !*changed)
		*changed = k->lm_epoch < 0 || iso_epoch(r, s->res_last_modified) != k->lm_epoch;
	if (strcasecmp(s->res_checksum_type, "sha256") == 0 && *s->res_checksum && k->sha256[0] &&
	    !*changed)
		*changed = strcasecmp(s->res_checksum, k->sha256) != 0;
	if (*s->res_size && k->size[0] && !*changed)
		*changed = strcmp(s->res_size, k->size) != 0;
	if (r->verbose)
		edu_warn("%s: %s (dataset API)", s->id, *changed ? "changed" : "unchanged");
	return EDU_EX_OK;
}

/*
 * Compares the source with what the last import saw: EDU_EX_OK with *changed set, or the
 * failure's status with rs, the reason in err and, in *where, the URL it is about (NULL when
 * err names it).
 */
static int compare(const struct run *r, struct edu_source *s, const struct known *k, int *changed,
                   struct edu_http_res *rs, char *err, size_t n, const char **where)
{
	struct edu_http rq;
	struct check c = {k, 0, 0};
	int rc;

	*where = NULL;
	if (strcmp(s->change, "datagouv") == 0)
		return compare_datagouv(r, s, k, changed, rs, err, n);
	request(r, &rq);
	rq.url = s->url;
	rq.format = s->format;
	rq.sink = discard;
	rq.ctx = &c;
	if (strcmp(s->change, "conditional") == 0) {
		rq.if_none_match = k->etag[0] ? k->etag : NULL;
		rq.if_modified_since = k->lm_http[0] ? k->lm_http : NULL;
		rq.on_headers = on_headers;
	}
	if ((rc = edu_http_get(&rq, rs)) != EDU_EX_OK) {
		*where = s->url;
		snprintf(err, n, "%s", rs->error);
		return rc;
	}
	if (rs->status == 304)
		*changed = 0;
	else if (c.decided)
		*changed = c.changed;
	else
		*changed = k->sha256[0] == '\0' || strcmp(rs->sha256, k->sha256) != 0;
	if (r->verbose)
		edu_warn("%s: HTTP %ld, %s (%s)", s->id, rs->status,
		         *changed ? "changed" : "unchanged",
		         rs->status == 304 ? "304"
		         : c.decided       ? "validators"
		                           : "sha256");
	return EDU_EX_OK;
}

static void print(struct run *r, const struct edu_source *s)
{
	edu_out_puts(&r->out, s->id);
	edu_out_putc(&r->out, '\n');
	edu_out_flush(&r->out); /* a parallel(1) downstream starts this one now */
	r->nchanged++;
}

/* Checks one source, records the check and prints its id when it changed. */
static void check_unit(struct run *r, struct edu_source *s)
{
	struct known k;
	struct edu_http_res rs;
	char started[64], err[1200];
	const char *where;
	int changed = 1, rc;

	if (!set_add(&r->seen, s->id))
		return;
	if (!r->force && r->conn) {
		if (cooling(r, s->id, &k, "skipped"))
			return;
		started_now(started, sizeof(started));
		if (!k.any) {
			if (r->verbose)
				edu_warn("%s: never imported: changed", s->id);
		} else if ((rc = compare(r, s, &k, &changed, &rs, err, sizeof(err), &where)) !=
		           EDU_EX_OK) {
			failed(r, s->id, s, s->url, rc, &rs, where, err, started);
			return;
		}
		record(r, s->id, s, s->url, changed ? "changed" : "unchanged",
		       changed ? EDU_EX_OK : EDU_EX_NOTMODIFIED, NULL, NULL, started);
	}
	if (changed)
		print(r, s);
}

/* Checks one source id. */
static void check_token(struct run *r, const char *id)
{
	struct edu_source s;

	edu_source_load(&s, edu_sources_path(r->config), id);
	edu_source_year(&s, r->year);
	check_unit(r, &s);
	edu_source_free(&s);
}

static void parse_options(struct run *r, int argc, char *argv[], const char **conninfo)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	r->timeout = 30;
	while ((c = getopt_long(argc, argv, "c:d:fhnqT:Vvy:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			r->config = optarg;
			break;
		case 'd':
			*conninfo = optarg;
			break;
		case 'f':
			r->force = 1;
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'n':
			r->dry = 1;
			break;
		case 'q':
			r->quiet = 1;
			break;
		case 'T':
			r->timeout = (int)edu_strtonum(optarg, 1, 86400, "timeout");
			break;
		case 'V':
			edu_version();
		case 'v':
			r->verbose = 1;
			break;
		case 'y':
			r->year = (int)edu_strtonum(optarg, 1900, 9999, "year");
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
}

/* The ids of the command line, else of standard input (blank-separated, '#' comments). */
static void check_all(struct run *r, int argc, char *argv[])
{
	char *line = NULL, *tok, *save;
	size_t linecap = 0;

	for (int i = optind; i < argc; i++)
		check_token(r, argv[i]);
	while (optind == argc && getline(&line, &linecap, stdin) != -1) {
		if ((tok = strchr(line, '#')) != NULL)
			*tok = '\0';
		for (tok = strtok_r(line, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			check_token(r, tok);
	}
	free(line);
}

int main(int argc, char *argv[])
{
	struct run r;
	const char *conninfo = NULL, *job = getenv("EDU_RUN_ID");

	edu_setprog(argv[0]);
	memset(&r, 0, sizeof(r));
	parse_options(&r, argc, argv, &conninfo);
	r.job = job && *job ? job : NULL;
	edu_out_init(&r.out, 1, "stdout");
	if (!r.force && edu_db_configured(conninfo))
		r.conn = edu_pg_connect(conninfo);
	else if (!r.force && r.verbose)
		edu_warn("no database configured: every source counts as changed");
	check_all(&r, argc, argv);
	if (r.conn)
		PQfinish(r.conn);
	edu_out_free(&r.out);
	edu_close_stdout();
	set_free(&r.seen);
	if (r.ex_perm)
		return r.ex_perm;
	if (r.ex_temp)
		return r.ex_temp;
	return r.nchanged > 0 ? EDU_EX_OK : EDU_EX_NOTMODIFIED;
}
