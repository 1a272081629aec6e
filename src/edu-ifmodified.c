/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-ifmodified: prints the units whose content changed since their last successful import,
 * one per line: a source id (ivac), or one year of a source published one file per year
 * (dvf:2024), whose years it reads from the publisher at each run. One request per unit: a
 * conditional GET, a content SHA-256, or the data.gouv.fr dataset API, as config/sources.json
 * says; for an Opendatasoft dataset, its catalog record, and the export's SHA-256 only when the
 * record's data_processed or records_count moved. It reads what the last import saw with
 * monitoring.known and records each check with monitoring.checked (the known values belong to the
 * load that imported them). A fallback source is checked only for the years its primary does not
 * publish, so no year is ever listed from two sources. It downloads nothing to keep, and never
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
                               "[-y year] [unit ...]";

#define COOLOFF_DEFAULT 3600 /* seconds to leave a server alone after a 429 without Retry-After */

/* A set of strings; few members, so a list. */
struct set {
	char **v;
	size_t n, cap;
};

/* The years of a per-year source, read once per run: for its own check and its fallback's. */
struct listing {
	char *id;
	int rc;
	int *years;
	size_t n;
	struct edu_http_res rs;
	char err[1200];
};

/* What one run knows. */
struct run {
	PGconn *conn;
	const char *config, *job;
	int dry, force, quiet, verbose, timeout, year;
	struct edu_out out;
	struct set seen;        /* units checked, and per-year sources whose years were listed */
	struct set printed;     /* "dvf:2024" for a year printed from dvf or from its fallback */
	struct listing **lists; /* each apart: a pointer to one stays valid as more are added */
	size_t nlists;
	int nchanged, ex_temp, ex_perm;
	int cooled; /* a 429 answered the source being checked: its other years wait */
};

/* What the last import saw (monitoring.known; "" when NULL). */
struct known {
	int any;            /* at least one known value: the unit was imported once */
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
		if (k->lm_epoch >= 0)
			edu_http_date(k->lm_epoch, k->lm_http, sizeof(k->lm_http));
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

/*
 * One check in monitoring.checked: the unit's row and its history. Nothing with -n or -f.
 * Returns the run's id ("" when nothing was recorded) in id, when not NULL.
 */
static void record(const struct run *r, const char *unit, const struct edu_source *s,
                   const char *url, const char *outcome, int status, const char *error,
                   const char *cooloff_until, const char *started, char *id, size_t n)
{
	char st[16];
	const char *params[9] = {unit,  s->name,       url,     outcome, st,
	                         error, cooloff_until, started, r->job};
	PGresult *res;

	if (id)
		*id = '\0';
	if (r->conn == NULL || r->dry || r->force)
		return;
	snprintf(st, sizeof(st), "%d", status);
	res = edu_pg_exec(r->conn,
	                  "select monitoring.checked($1, $2, $3, $4, $5::integer, $6,"
	                  " $7::timestamptz, $8::timestamptz, $9)",
	                  9, params);
	if (id)
		snprintf(id, n, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/*
 * The catalog record a check read, on its run (id); and, when the check found the content the
 * imported one, as the unit's known metadata.
 */
static void record_meta(const struct run *r, const char *id, const struct edu_meta *m,
                        int unchanged)
{
	const char *params[5] = {id, m->data_processed, m->records_count, m->modified,
	                         unchanged ? "t" : "f"};

	if (*id == '\0' || (!m->data_processed[0] && !m->records_count[0]))
		return;
	PQclear(edu_pg_exec(r->conn,
	                    "select monitoring.checked_meta($1::bigint,"
	                    " nullif($2, '')::timestamptz, nullif($3, '')::bigint,"
	                    " nullif($4, '')::timestamptz, $5::boolean)",
	                    5, params));
}

/* Whether the catalog record says what the last import (or unchanged check) saw. */
static int meta_unchanged(const struct run *r, const char *unit, const struct edu_meta *m)
{
	const char *params[3] = {unit, m->data_processed, m->records_count};
	PGresult *res;
	int same;

	res = edu_pg_exec(r->conn,
	                  "select monitoring.meta_unchanged($1, nullif($2, '')::timestamptz,"
	                  " nullif($3, '')::bigint)",
	                  3, params);
	same = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return same;
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
		r->cooled = 1;
	}
	record(r, unit, s, url, *until ? "cooloff" : "failed", rc, msg, *until ? until : NULL,
	       started, NULL, 0);
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
	const struct edu_resource *res;
	int rc;

	request(r, &rq);
	if ((rc = edu_source_resolve(s, &rq, rs, err, n)) != EDU_EX_OK)
		return rc;
	*changed = strcmp(s->url, k->url) != 0;
	if ((res = s->resource) != NULL) { /* without "resolve", the URL is all there is */
		if (*res->last_modified && !*changed)
			*changed =
			    k->lm_epoch < 0 || iso_epoch(r, res->last_modified) != k->lm_epoch;
		if (strcasecmp(res->checksum_type, "sha256") == 0 && *res->checksum &&
		    k->sha256[0] && !*changed)
			*changed = strcasecmp(res->checksum, k->sha256) != 0;
		if (*res->size && k->size[0] && !*changed)
			*changed = strcmp(res->size, k->size) != 0;
	}
	if (r->verbose)
		edu_warn("%s: %s (dataset API)", s->unit, *changed ? "changed" : "unchanged");
	return EDU_EX_OK;
}

/*
 * Compares the unit with what the last import saw: EDU_EX_OK with *changed set, or the
 * failure's status with rs, the reason in err and, in *where, the URL it is about (NULL when
 * err names it).
 */
static int compare(const struct run *r, struct edu_source *s, const struct known *k, int *changed,
                   struct edu_meta *m, struct edu_http_res *rs, char *err, size_t n,
                   const char **where)
{
	struct edu_http rq;
	struct check c = {k, 0, 0};
	int rc;

	*where = NULL;
	if (strcmp(s->change, "datagouv") == 0)
		return compare_datagouv(r, s, k, changed, rs, err, n);
	if (edu_source_catalog_known(s)) {
		request(r, &rq);
		if ((rc = edu_source_catalog(s, &rq, m, rs, err, n)) != EDU_EX_OK)
			return rc;
		if (meta_unchanged(r, s->unit, m)) {
			*changed = 0;
			if (r->verbose)
				edu_warn("%s: unchanged (catalog: data_processed %s, records_count "
				         "%s)",
				         s->unit, m->data_processed, m->records_count);
			return EDU_EX_OK;
		}
		if (r->verbose)
			edu_warn("%s: catalog: data_processed %s, records_count %s: not those "
			         "known, hashing the export",
			         s->unit, *m->data_processed ? m->data_processed : "none",
			         *m->records_count ? m->records_count : "none");
	}
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
		edu_warn("%s: HTTP %ld, %s (%s)", s->unit, rs->status,
		         *changed ? "changed" : "unchanged",
		         rs->status == 304 ? "304"
		         : c.decided       ? "validators"
		                           : "sha256");
	return EDU_EX_OK;
}

/* Prints a changed unit; a year already printed from the other source of its family is not. */
static void print(struct run *r, const struct edu_source *s)
{
	char family[512];

	snprintf(family, sizeof(family), "%s:%d", *s->fallback_for ? s->fallback_for : s->id,
	         s->year);
	if (s->year && !set_add(&r->printed, family)) {
		if (!r->quiet)
			edu_warn("%s: year %d already listed from another source: not listed twice",
			         s->unit, s->year);
		return;
	}
	edu_out_puts(&r->out, s->unit);
	edu_out_putc(&r->out, '\n');
	edu_out_flush(&r->out); /* a parallel(1) downstream starts this one now */
	r->nchanged++;
}

/* Checks one unit (s at its year), records the check and prints the unit when it changed. */
static void check_unit(struct run *r, struct edu_source *s)
{
	struct known k;
	struct edu_meta m;
	struct edu_http_res rs;
	char started[64], err[1200], id[32];
	const char *where;
	int changed = 1, rc;

	memset(&m, 0, sizeof(m));

	if (!set_add(&r->seen, s->unit))
		return;
	if (!r->force && r->conn) {
		if (cooling(r, s->unit, &k, "skipped"))
			return;
		edu_now_utc(started, sizeof(started));
		if (!k.any) {
			if (r->verbose)
				edu_warn("%s: never imported: changed", s->unit);
		} else if ((rc = compare(r, s, &k, &changed, &m, &rs, err, sizeof(err), &where)) !=
		           EDU_EX_OK) {
			failed(r, s->unit, s, s->url, rc, &rs, where, err, started);
			return;
		}
		record(r, s->unit, s, s->url, changed ? "changed" : "unchanged",
		       changed ? EDU_EX_OK : EDU_EX_NOTMODIFIED, NULL, NULL, started, id,
		       sizeof(id));
		record_meta(r, id, &m, !changed);
	}
	if (changed)
		print(r, s);
}

/* The years s publishes, read once per run. */
static const struct listing *listing(struct run *r, struct edu_source *s)
{
	struct listing *l;
	struct edu_http rq;

	for (size_t i = 0; i < r->nlists; i++)
		if (strcmp(r->lists[i]->id, s->id) == 0)
			return r->lists[i];
	r->lists = edu_realloc(r->lists, (r->nlists + 1) * sizeof(*r->lists));
	l = r->lists[r->nlists++] = edu_malloc(sizeof(*l));
	memset(l, 0, sizeof(*l));
	l->id = edu_strdup(s->id);
	request(r, &rq);
	l->rc = edu_source_years(s, &rq, &l->years, &l->n, &l->rs, l->err, sizeof(l->err));
	if (l->rc == EDU_EX_OK && r->verbose) {
		struct edu_str y = {0};

		for (size_t i = 0; i < l->n; i++)
			edu_str_add(&y, " %d", l->years[i]);
		edu_warn("%s: years published:%s", s->id, y.p);
		edu_str_free(&y);
	}
	return l;
}

static int listed(const struct listing *l, int year)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->years[i] == year)
			return 1;
	return 0;
}

/*
 * The years the primary of fallback s publishes; NULL when they cannot be known now (a failure
 * of s's check, recorded with url, the address of s's own list).
 */
static const struct listing *primary_years(struct run *r, const struct edu_source *s,
                                           const char *url, const char *started)
{
	struct edu_source p;
	struct known k;
	const struct listing *l = NULL;
	char why[1400];

	edu_source_load(&p, edu_sources_path(r->config), s->fallback_for);
	if (!cooling(r, p.id, &k, "its fallback waits too")) {
		l = listing(r, &p);
		if (l->rc != EDU_EX_OK) {
			snprintf(why, sizeof(why), "the years of %s are unknown: %s", p.id, l->err);
			failed(r, s->id, s, url, l->rc, &l->rs, NULL, why, started);
			l = NULL;
		}
	}
	edu_source_free(&p);
	return l;
}

/*
 * Checks every year a per-year source publishes (for a fallback, those its primary does not),
 * and records the listing itself under the source id: changed when a year was printed.
 */
static void check_years(struct run *r, struct edu_source *s)
{
	const char *url = edu_source_years_url(s);
	const struct listing *own, *primary = NULL;
	struct known k;
	char started[64];
	int before = r->nchanged;

	if (!set_add(&r->seen, s->id) || cooling(r, s->id, &k, "skipped"))
		return;
	edu_now_utc(started, sizeof(started));
	own = listing(r, s);
	if (own->rc != EDU_EX_OK) {
		failed(r, s->id, s, url, own->rc, &own->rs, NULL, own->err, started);
		return;
	}
	if (*s->fallback_for && (primary = primary_years(r, s, url, started)) == NULL)
		return;
	r->cooled = 0;
	for (size_t i = 0; i < own->n && !r->cooled; i++) {
		if (primary && listed(primary, own->years[i])) {
			if (r->verbose)
				edu_warn("%s:%d: published by %s: not checked", s->id,
				         own->years[i], s->fallback_for);
			continue;
		}
		edu_source_year(s, own->years[i]);
		check_unit(r, s);
	}
	if (r->cooled && !r->quiet)
		edu_warn("%s: rate-limited: its other years wait for the next check", s->id);
	record(r, s->id, s, url, r->nchanged > before ? "changed" : "unchanged",
	       r->nchanged > before ? EDU_EX_OK : EDU_EX_NOTMODIFIED, NULL, NULL, started, NULL, 0);
}

/* Checks a source id (every year of a per-year source, or -y's) or one unit "id:YYYY". */
static void check_token(struct run *r, const char *token)
{
	struct edu_source s;
	size_t idlen;
	int year = edu_unit_year(token, &idlen);
	char *id = edu_strndup(token, idlen);

	edu_source_load(&s, edu_sources_path(r->config), id);
	if (year && !edu_source_per_year(&s))
		edu_die(EDU_EX_NOINPUT, "%s: unknown unit: %s is not published by year", token, id);
	if (!year)
		year = r->year;
	if (!edu_source_per_year(&s)) {
		check_unit(r, &s);
	} else if (year) {
		edu_source_year(&s, year);
		check_unit(r, &s);
	} else {
		check_years(r, &s);
	}
	edu_source_free(&s);
	free(id);
}

/* getopt's switch: one case per option, hence its length. */
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

/* The units of the command line, else of standard input (blank-separated, '#' comments). */
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
	set_free(&r.printed);
	for (size_t i = 0; i < r.nlists; i++) {
		free(r.lists[i]->id);
		free(r.lists[i]->years);
		free(r.lists[i]);
	}
	free(r.lists);
	if (r.ex_perm)
		return r.ex_perm;
	if (r.ex_temp)
		return r.ex_temp;
	return r.nchanged > 0 ? EDU_EX_OK : EDU_EX_NOTMODIFIED;
}
