/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-ifmodified: prints the ids of the sources whose content changed since their last
 * successful import, one per line, with one request per source: a conditional GET, a content
 * SHA-256, or the data.gouv.fr dataset API, as config/sources.json says. It compares with the
 * known_* values of monitoring.data_sources and records only last_checked, last_status and
 * last_error there: the known values belong to the load that imported them. It downloads
 * nothing to keep, and never retries: the next check is the retry.
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

/* What the last import saw, from monitoring.data_sources ("" when NULL). */
struct known {
	int any;     /* at least one known value: the source was imported once */
	int cooling; /* a 429 cool-off is still running */
	char etag[256], lm_http[64], sha256[65], size[32], url[2048], until[32];
	long long lm_epoch; /* -1 when NULL */
};

struct check {
	const struct known *k;
	int decided, changed;
};

static PGconn *conn;
static int dry, quiet, verbose, timeout = 30, year, nchanged;
static const char *config;
static struct edu_out out;

static void copy(char *dst, size_t n, const PGresult *r, int col)
{
	snprintf(dst, n, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

static void load_known(const char *id, struct known *k)
{
	static const char sql[] =
	    "select known_etag,"
	    " to_char(last_known_modified at time zone 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "
	    "\"GMT\"'),"
	    " known_sha256, known_size::text, known_url,"
	    " extract(epoch from last_known_modified)::bigint::text,"
	    " coalesce(known_etag, known_sha256, known_url, known_size::text,"
	    "  last_known_modified::text) is not null,"
	    " c.until, coalesce(c.until::timestamptz > now(), false)"
	    " from monitoring.data_sources,"
	    " lateral (select case when last_status = 'cooloff' then substring(last_error from"
	    "  'until ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)') end as until) c"
	    " where id = $1";
	const char *params[1] = {id};
	PGresult *r;

	memset(k, 0, sizeof(*k));
	k->lm_epoch = -1;
	if (conn == NULL)
		return;
	r = edu_pg_exec(conn, sql, 1, params);
	if (PQntuples(r) == 1) {
		copy(k->etag, sizeof(k->etag), r, 0);
		copy(k->lm_http, sizeof(k->lm_http), r, 1);
		copy(k->sha256, sizeof(k->sha256), r, 2);
		copy(k->size, sizeof(k->size), r, 3);
		copy(k->url, sizeof(k->url), r, 4);
		if (!PQgetisnull(r, 0, 5))
			k->lm_epoch = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
		k->any = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
		copy(k->until, sizeof(k->until), r, 7);
		k->cooling = strcmp(PQgetvalue(r, 0, 8), "t") == 0;
	}
	PQclear(r);
}

/* Records the outcome of a check; the known_* columns are not touched. */
static void record(const struct edu_source *s, const char *status, const char *error)
{
	static const char sql[] =
	    "insert into monitoring.data_sources (id, name, url, last_checked, last_status,"
	    " last_error) values ($1, $2, nullif($3, ''), now(), $4, $5)"
	    " on conflict (id) do update set last_checked = excluded.last_checked,"
	    " last_status = excluded.last_status, last_error = excluded.last_error";
	const char *params[5] = {s->id, s->name, s->url, status, error};

	if (conn == NULL || dry)
		return;
	PQclear(edu_pg_exec(conn, sql, 5, params));
}

static long long iso_epoch(const char *iso)
{
	const char *params[1] = {iso};
	PGresult *r;
	long long t;

	r = edu_pg_exec(conn, "select extract(epoch from $1::timestamptz)::bigint::text", 1,
	                params);
	t = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
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

/* The data.gouv.fr dataset API: the resource's URL, date, checksum and size. */
static int check_datagouv(struct edu_source *s, const struct known *k, struct edu_http *rq,
                          int *changed, char *err, size_t n)
{
	int rc = edu_source_resolve(s, rq, err, n);

	if (rc != EDU_EX_OK)
		return rc;
	*changed = strcmp(s->url, k->url) != 0;
	if (*s->res_last_modified && !*changed)
		*changed = k->lm_epoch < 0 || iso_epoch(s->res_last_modified) != k->lm_epoch;
	if (strcasecmp(s->res_checksum_type, "sha256") == 0 && *s->res_checksum && k->sha256[0] &&
	    !*changed)
		*changed = strcasecmp(s->res_checksum, k->sha256) != 0;
	if (*s->res_size && k->size[0] && !*changed)
		*changed = strcmp(s->res_size, k->size) != 0;
	return EDU_EX_OK;
}

/* Checks one source; returns EDU_EX_OK with *changed set, or the failure's exit code. */
static int check(struct edu_source *s, const struct known *k, int *changed)
{
	struct edu_http rq;
	struct edu_http_res rs;
	struct check c = {k, 0, 0};
	char err[1024], msg[1200];
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.url = s->url;
	rq.format = s->format;
	rq.timeout = timeout;
	rq.retries = 0; /* politeness: one request per source per check */
	rq.progress = EDU_PROGRESS_OFF;
	rq.verbose = verbose;
	rq.sink = discard;
	rq.ctx = &c;
	if (strcmp(s->change, "datagouv") == 0) {
		rc = check_datagouv(s, k, &rq, changed, err, sizeof(err));
		if (rc != EDU_EX_OK)
			record(s, "error", err);
		if (rc != EDU_EX_OK && !quiet)
			edu_warn("%s: %s", s->id, err);
		return rc;
	}
	if (strcmp(s->change, "conditional") == 0) {
		rq.if_none_match = k->etag[0] ? k->etag : NULL;
		rq.if_modified_since = k->lm_http[0] ? k->lm_http : NULL;
		rq.on_headers = on_headers;
	} else if (strcmp(s->change, "sha256") != 0) {
		edu_die(EDU_EX_CONFIG,
		        "%s: %s: change '%s': not one of conditional, sha256, datagouv",
		        edu_sources_path(config), s->id, s->change);
	}
	rc = edu_http_get(&rq, &rs);
	if (rc != EDU_EX_OK) {
		if (rs.status == 429) {
			long wait = rs.retry_after >= 0 ? rs.retry_after : COOLOFF_DEFAULT;
			time_t until = time(NULL) + wait;
			struct tm tm;
			char when[32];

			gmtime_r(&until, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			snprintf(msg, sizeof(msg), "%s; cooling off until %s", rs.error, when);
			record(s, "cooloff", msg);
		} else {
			snprintf(msg, sizeof(msg), "%s", rs.error);
			record(s, "error", msg);
		}
		if (!quiet)
			edu_warn("%s: %s: %s", s->id, s->url, msg);
		return rc;
	}
	if (rs.status == 304)
		*changed = 0;
	else if (c.decided)
		*changed = c.changed;
	else
		*changed = k->sha256[0] == '\0' || strcmp(rs.sha256, k->sha256) != 0;
	if (verbose)
		edu_warn("%s: HTTP %ld, %s (%s)", s->id, rs.status,
		         *changed ? "changed" : "unchanged",
		         rs.status == 304 ? "304"
		         : c.decided      ? "validators"
		                          : "sha256");
	return EDU_EX_OK;
}

/* Checks one id and prints it when it changed; returns an exit code for failures, else 0. */
static int one(const char *id, int force)
{
	struct edu_source s;
	struct known k;
	int changed = 1, rc = EDU_EX_OK;

	edu_source_load(&s, edu_sources_path(config), id);
	edu_source_year(&s, year);
	if (!force) {
		load_known(s.id, &k);
		if (k.cooling) {
			if (!quiet)
				edu_warn("%s: rate-limited, cooling off until %s: skipped", s.id,
				         k.until);
			edu_source_free(&s);
			return EDU_EX_OK;
		}
		if (!k.any) {
			if (verbose)
				edu_warn("%s: never imported: changed", s.id);
			record(&s, "changed", NULL);
		} else if ((rc = check(&s, &k, &changed)) == EDU_EX_OK) {
			record(&s, changed ? "changed" : "unchanged", NULL);
		}
	}
	if (rc == EDU_EX_OK && changed) {
		edu_out_puts(&out, s.id);
		edu_out_putc(&out, '\n');
		edu_out_flush(&out); /* a parallel(1) downstream starts this one now */
		nchanged++;
	}
	edu_source_free(&s);
	return rc;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	const char *conninfo = NULL;
	char **seen = NULL;
	size_t nseen = 0, cap = 0;
	int c, force = 0, ex_temp = 0, ex_perm = 0;
	char *line = NULL;
	size_t linecap = 0;

	edu_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "c:d:fhnqT:Vvy:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'd':
			conninfo = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'n':
			dry = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'T':
			timeout = (int)edu_strtonum(optarg, 1, 86400, "timeout");
			break;
		case 'V':
			edu_version();
		case 'v':
			verbose = 1;
			break;
		case 'y':
			year = (int)edu_strtonum(optarg, 1900, 9999, "year");
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	edu_out_init(&out, 1, "stdout");
	if (!force && edu_db_configured(conninfo))
		conn = edu_pg_connect(conninfo);
	else if (!force && verbose)
		edu_warn("no database configured: every source counts as changed");

	for (int i = optind;; i++) {
		char *id = NULL, *tok, *save = NULL;
		int rc;

		if (optind < argc) {
			if (i >= argc)
				break;
			id = argv[i];
		} else {
			if (getline(&line, &linecap, stdin) == -1)
				break;
			if ((tok = strchr(line, '#')) != NULL)
				*tok = '\0';
		}
		for (tok = strtok_r(id ? id : line, " \t\r\n", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n", &save)) {
			size_t j;

			for (j = 0; j < nseen && strcmp(seen[j], tok) != 0; j++)
				;
			if (j < nseen)
				continue;
			if (nseen == cap)
				seen =
				    edu_realloc(seen, (cap = cap ? 2 * cap : 16) * sizeof(*seen));
			seen[nseen++] = edu_strdup(tok);
			rc = one(tok, force);
			if (rc == EDU_EX_TEMPFAIL)
				ex_temp = rc;
			else if (rc != EDU_EX_OK && ex_perm == 0)
				ex_perm = rc;
		}
	}
	free(line);
	if (conn)
		PQfinish(conn);
	edu_out_free(&out);
	edu_close_stdout();
	for (size_t j = 0; j < nseen; j++)
		free(seen[j]);
	if (ex_perm)
		return ex_perm;
	if (ex_temp)
		return ex_temp;
	return nchanged > 0 ? EDU_EX_OK : EDU_EX_NOTMODIFIED;
}
