/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy's SQL after the COPY: the checks on the staged rows (NULL and duplicate keys,
 * scope), reported with input line numbers, and the merges that write only rows that differ:
 * upsert on a key, replace by a multiset difference of whole rows, and the freshness record.
 * Every identifier in the SQL comes quoted from the catalog (struct col).
 */
#include <stdlib.h>
#include <string.h>

#include "edu-pgcopy.h"

struct col *find_col(const char *name)
{
	for (size_t i = 0; i < ncols; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	return NULL;
}

/* Column list of the input, in input order (the COPY order). */
void add_input_cols(struct edu_str *s, const struct edu_tsv_reader *r, const char *alias)
{
	for (size_t i = 0; i < r->ncols; i++)
		edu_str_add(s, "%s%s%s", i ? ", " : "", alias, find_col(r->header[i])->q);
}

/* "a.k1 = b.k1 AND ..." over the key columns. */
void add_key_eq(struct edu_str *s, const char *a, const char *b)
{
	int first = 1;

	for (size_t i = 0; i < ncols; i++) {
		if (!cols[i].key)
			continue;
		edu_str_add(s, "%s%s.%s = %s.%s", first ? "" : " AND ", a, cols[i].q, b, cols[i].q);
		first = 0;
	}
}

/* "(a.c1, a.c2) IS [NOT] DISTINCT FROM (b.c1, b.c2)" over the non-key input columns. */
int add_diff(struct edu_str *s, const char *a, const char *b, const char *op)
{
	int n = 0;

	for (int side = 0; side < 2; side++) {
		const char *alias = side ? b : a;

		edu_str_add(s, side ? ") %s ROW(" : "ROW(", op);
		n = 0;
		for (size_t i = 0; i < ncols; i++) {
			if (cols[i].key || !cols[i].input)
				continue;
			edu_str_add(s, "%s%s.%s%s", n++ ? ", " : "", alias, cols[i].q,
			            cols[i].textcmp ? "::text" : "");
		}
	}
	edu_str_add(s, ")");
	return n;
}

long long count_of(const char *sql)
{
	PGresult *res = edu_pg_exec(conn, sql, 0, NULL);
	long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

	PQclear(res);
	return n;
}

/* Dies naming the input line of the first row of rel that matches cond. */
void check_rows(const char *rel, const char *cond, const char *what)
{
	struct edu_str s = {0};
	PGresult *res;

	/* Numbering every row costs a sort: look for an offending row first. */
	edu_str_add(&s, "SELECT count(*) FROM (SELECT 1 FROM %s s WHERE %s LIMIT 1) x", rel, cond);
	if (count_of(s.p) == 0) {
		edu_str_free(&s);
		return;
	}
	s.len = 0;
	/* A freshly filled heap returns rows in insertion order: ctid order is input order. */
	edu_str_add(&s,
	            "SELECT line FROM (SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * "
	            "FROM %s) s WHERE %s ORDER BY line LIMIT 1",
	            rel, cond);
	res = edu_pg_exec(conn, s.p, 0, NULL);
	if (PQntuples(res) > 0)
		edu_die(EDU_EX_DATAERR, "stdin:%s: %s", PQgetvalue(res, 0, 0), what);
	PQclear(res);
	edu_str_free(&s);
}

void check_duplicates(const char *rel)
{
	struct edu_str s = {0}, keys = {0}, names = {0}, msg = {0};
	PGresult *res;

	for (size_t i = 0; i < ncols; i++) {
		if (!cols[i].key)
			continue;
		edu_str_add(&keys, "%s%s", keys.len ? ", " : "", cols[i].q);
		edu_str_add(&names, "%s%s", names.len ? ", " : "", cols[i].name);
	}
	edu_str_add(
	    &s, "SELECT count(*) FROM (SELECT 1 FROM %s GROUP BY %s HAVING count(*) > 1 LIMIT 1) x",
	    rel, keys.p);
	if (count_of(s.p) == 0) {
		edu_str_free(&s);
		edu_str_free(&keys);
		edu_str_free(&names);
		return;
	}
	s.len = 0;
	edu_str_add(&s,
	            "SELECT ROW(%s)::text, string_agg(line::text, ', ' ORDER BY line) FROM "
	            "(SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * FROM %s) s "
	            "GROUP BY %s HAVING count(*) > 1 ORDER BY min(line) LIMIT 3",
	            keys.p, rel, keys.p);
	res = edu_pg_exec(conn, s.p, 0, NULL);
	for (int i = 0; i < PQntuples(res); i++)
		edu_str_add(&msg, "%s(%s)=%s on lines %s", i ? "; " : "", names.p,
		            PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	if (PQntuples(res) > 0)
		edu_die(EDU_EX_DATAERR, "stdin: duplicate keys in the input: %s", msg.p);
	PQclear(res);
	edu_str_free(&s);
	edu_str_free(&keys);
	edu_str_free(&names);
}

/* INSERT ... ON CONFLICT that never touches a row equal to the input; returns ins, upd. */
void upsert(const struct edu_tsv_reader *r, long long *ins, long long *upd)
{
	struct edu_str s = {0};
	PGresult *res;
	int ndata;

	edu_str_add(&s, "WITH w AS (INSERT INTO %s AS t (", target);
	add_input_cols(&s, r, "");
	edu_str_add(&s, ") SELECT ");
	add_input_cols(&s, r, "s.");
	edu_str_add(&s, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE ", STAGE, target);
	add_key_eq(&s, "t", "s");
	/* Unchanged rows are filtered before the INSERT: not even a tuple lock is written. */
	edu_str_add(&s, " AND ");
	ndata = add_diff(&s, "t", "s", "IS NOT DISTINCT FROM");
	edu_str_add(&s, ") ON CONFLICT (");
	for (size_t i = 0, k = 0; i < ncols; i++)
		if (cols[i].key)
			edu_str_add(&s, "%s%s", k++ ? ", " : "", cols[i].q);
	if (ndata == 0) {
		edu_str_add(&s, ") DO NOTHING RETURNING true AS ins)");
	} else {
		edu_str_add(&s, ") DO UPDATE SET ");
		for (size_t i = 0, k = 0; i < ncols; i++)
			if (cols[i].input && !cols[i].key)
				edu_str_add(&s, "%s%s = EXCLUDED.%s", k++ ? ", " : "", cols[i].q,
				            cols[i].q);
		edu_str_add(&s, " WHERE ");
		add_diff(&s, "t", "EXCLUDED", "IS DISTINCT FROM");
		edu_str_add(&s, " RETURNING t.xmax = 0 AS ins)");
	}
	edu_str_add(&s, " SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) "
	                "FROM w");
	res = edu_pg_exec(conn, s.p, 0, NULL);
	*ins = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*upd = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	edu_str_free(&s);
}

/* Replace without a key: a multiset difference on each row's text, so that equal rows stay. */
void replace_rows(const struct edu_tsv_reader *r, const char *where, long long *ins, long long *del)
{
	struct edu_str s = {0}, row = {0};

	edu_str_add(&row, "ROW(");
	add_input_cols(&row, r, "");
	edu_str_add(&row, ")::text");
	/* A ctid is unique only within one relation: a partitioned (or inherited) table
	 * repeats it in each partition, so a row is named by (tableoid, ctid). */
	edu_str_add(&s,
	            "CREATE TEMP TABLE edu_old ON COMMIT DROP AS SELECT tableoid AS edu_rel, "
	            "ctid AS edu_tid, %s AS edu_r, row_number() OVER (PARTITION BY %s) AS edu_n "
	            "FROM %s WHERE %s",
	            row.p, row.p, target, where);
	edu_pg_cmd(conn, s.p);
	s.len = 0;
	edu_str_add(&s,
	            "CREATE TEMP TABLE edu_new ON COMMIT DROP AS SELECT ctid AS edu_tid, %s AS "
	            "edu_r, row_number() OVER (PARTITION BY %s) AS edu_n FROM %s",
	            row.p, row.p, STAGE);
	edu_pg_cmd(conn, s.p);
	s.len = 0;
	edu_str_add(&s,
	            "WITH d AS (DELETE FROM %s WHERE %s AND (tableoid, ctid) IN (SELECT "
	            "o.edu_rel, o.edu_tid FROM edu_old o LEFT JOIN edu_new n USING (edu_r, edu_n) "
	            "WHERE n.edu_r IS NULL) RETURNING 1) SELECT count(*) FROM d",
	            target, where);
	*del = count_of(s.p);
	s.len = 0;
	edu_str_add(&s, "WITH i AS (INSERT INTO %s (", target);
	add_input_cols(&s, r, "");
	edu_str_add(&s, ") SELECT ");
	add_input_cols(&s, r, "");
	edu_str_add(
	    &s,
	    " FROM %s WHERE ctid IN (SELECT n.edu_tid FROM edu_new n LEFT JOIN edu_old o "
	    "USING (edu_r, edu_n) WHERE o.edu_r IS NULL) RETURNING 1) SELECT count(*) FROM i",
	    STAGE);
	*ins = count_of(s.p);
	edu_str_free(&s);
	edu_str_free(&row);
}

void record_source(const char *source, unsigned long long rows, double secs)
{
	char nrows[32], nsecs[32];
	const char *p[3] = {source, nrows, nsecs};

	snprintf(nrows, sizeof(nrows), "%llu", rows);
	snprintf(nsecs, sizeof(nsecs), "%.3f", secs);
	PQclear(edu_pg_exec(conn,
	                    "INSERT INTO monitoring.data_sources (id, name) VALUES ($1, $1) "
	                    "ON CONFLICT (id) DO NOTHING",
	                    1, p));
	PQclear(edu_pg_exec(
	    conn,
	    "UPDATE monitoring.data_sources SET last_imported = now(), "
	    "rows_imported = $2::bigint, last_duration_seconds = $3::float8, "
	    /* Promote what edu-fetch saw only when it saw something: a load by hand
	     * (no fetch) must not blank the known validators. Pending is then
	     * cleared so that a later load cannot promote stale values. */
	    "known_etag = CASE WHEN pending_at IS NULL THEN known_etag ELSE pending_etag END, "
	    "last_known_modified = CASE WHEN pending_at IS NULL THEN last_known_modified "
	    "ELSE pending_last_modified END, "
	    "known_sha256 = CASE WHEN pending_at IS NULL THEN known_sha256 ELSE pending_sha256 "
	    "END, "
	    "known_size = CASE WHEN pending_at IS NULL THEN known_size ELSE pending_size END, "
	    "known_url = CASE WHEN pending_at IS NULL THEN known_url ELSE pending_url END, "
	    "pending_etag = NULL, pending_last_modified = NULL, pending_sha256 = NULL, "
	    "pending_size = NULL, pending_url = NULL, pending_at = NULL, "
	    "last_status = 'imported', last_error = NULL "
	    "WHERE id = $1",
	    3, p));
}
