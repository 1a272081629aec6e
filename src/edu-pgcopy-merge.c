/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy's SQL after the COPY: the checks on the staged rows (NULL and duplicate keys,
 * scope), reported with input line numbers, and the merges that write only rows that differ:
 * upsert on a key, replace on a key, and replace without a key by a multiset difference of
 * whole rows. Every identifier in the SQL comes quoted from the catalog (struct pgcopy_col).
 */
#include <stdlib.h>
#include <string.h>

#include "edu-pgcopy.h"

/* Column list of the input, in input order (the COPY order). */
void pgcopy_add_input_cols(const struct pgcopy_load *L, struct edu_str *s, const char *alias)
{
	for (size_t i = 0; i < L->in.ncols; i++)
		edu_str_add(s, "%s%s%s", i ? ", " : "", alias, L->incol[i]->q);
}

/* "a.k1 = b.k1 AND ..." over the key columns. */
void pgcopy_add_key_eq(const struct pgcopy_load *L, struct edu_str *s, const char *a, const char *b)
{
	int first = 1;

	for (size_t i = 0; i < L->ncols; i++) {
		if (!L->cols[i].key)
			continue;
		edu_str_add(s, "%s%s.%s = %s.%s", first ? "" : " AND ", a, L->cols[i].q, b,
		            L->cols[i].q);
		first = 0;
	}
}

/* "(a.c1, a.c2) IS [NOT] DISTINCT FROM (b.c1, b.c2)" over the non-key input columns. */
static int add_diff(const struct pgcopy_load *L, struct edu_str *s, const char *a, const char *b,
                    const char *op)
{
	int n = 0;

	for (int side = 0; side < 2; side++) {
		const char *alias = side ? b : a;

		edu_str_add(s, side ? ") %s ROW(" : "ROW(", op);
		n = 0;
		for (size_t i = 0; i < L->ncols; i++) {
			const struct pgcopy_col *c = &L->cols[i];

			if (c->key || !c->input)
				continue;
			edu_str_add(s, "%s%s.%s%s", n++ ? ", " : "", alias, c->q,
			            c->textcmp ? "::text" : "");
		}
	}
	edu_str_add(s, ")");
	return n;
}

long long pgcopy_count(const struct pgcopy_load *L, const char *sql)
{
	PGresult *res = edu_pg_exec(L->conn, sql, 0, NULL);
	long long n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

	PQclear(res);
	return n;
}

/* Runs a statement and returns the rows it affected or made. */
static long long affected(const struct pgcopy_load *L, const char *sql)
{
	PGresult *res = edu_pg_exec(L->conn, sql, 0, NULL);
	long long n = strtoll(PQcmdTuples(res), NULL, 10);

	PQclear(res);
	return n;
}

/* Dies naming the input line of the first row of rel that matches cond. */
static void check_rows(const struct pgcopy_load *L, const char *rel, const char *cond,
                       const char *what)
{
	struct edu_str s = {0};
	PGresult *res;

	/* Numbering every row costs a sort: look for an offending row first. */
	edu_str_add(&s, "SELECT count(*) FROM (SELECT 1 FROM %s s WHERE %s LIMIT 1) x", rel, cond);
	if (pgcopy_count(L, s.p) == 0) {
		edu_str_free(&s);
		return;
	}
	s.len = 0;
	/* A freshly filled heap returns rows in insertion order: ctid order is input order. */
	edu_str_add(&s,
	            "SELECT line FROM (SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * "
	            "FROM %s) s WHERE %s ORDER BY line LIMIT 1",
	            rel, cond);
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	if (PQntuples(res) > 0)
		edu_die(EDU_EX_DATAERR, "stdin:%s: %s", PQgetvalue(res, 0, 0), what);
	PQclear(res);
	edu_str_free(&s);
}

static void check_duplicates(const struct pgcopy_load *L, const char *rel)
{
	struct edu_str s = {0}, keys = {0}, names = {0}, msg = {0};
	PGresult *res;

	for (size_t i = 0; i < L->ncols; i++) {
		if (!L->cols[i].key)
			continue;
		edu_str_add(&keys, "%s%s", keys.len ? ", " : "", L->cols[i].q);
		edu_str_add(&names, "%s%s", names.len ? ", " : "", L->cols[i].name);
	}
	edu_str_add(
	    &s, "SELECT count(*) FROM (SELECT 1 FROM %s GROUP BY %s HAVING count(*) > 1 LIMIT 1) x",
	    rel, keys.p);
	if (pgcopy_count(L, s.p) > 0) {
		s.len = 0;
		edu_str_add(&s,
		            "SELECT ROW(%s)::text, string_agg(line::text, ', ' ORDER BY line) FROM "
		            "(SELECT row_number() OVER (ORDER BY ctid) + 1 AS line, * FROM %s) s "
		            "GROUP BY %s HAVING count(*) > 1 ORDER BY min(line) LIMIT 3",
		            keys.p, rel, keys.p);
		res = edu_pg_exec(L->conn, s.p, 0, NULL);
		for (int i = 0; i < PQntuples(res); i++)
			edu_str_add(&msg, "%s(%s)=%s on lines %s", i ? "; " : "", names.p,
			            PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		if (PQntuples(res) > 0)
			edu_die(EDU_EX_DATAERR, "stdin: duplicate keys in the input: %s", msg.p);
		PQclear(res);
	}
	edu_str_free(&s);
	edu_str_free(&keys);
	edu_str_free(&names);
}

/*
 * The checks COPY cannot make: NULL and duplicate keys, rows outside the scope, keys that
 * belong to another scope.
 */
void pgcopy_check(struct pgcopy_load *L)
{
	const char *rel = L->direct ? L->target : PGCOPY_STAGE;
	struct edu_str s = {0}, m = {0};

	for (size_t i = 0; i < L->ncols; i++) {
		if (!L->cols[i].key || L->cols[i].notnull)
			continue;
		s.len = m.len = 0;
		edu_str_add(&s, "%s IS NULL", L->cols[i].q);
		edu_str_add(&m, "column %s: key column is NULL", L->cols[i].name);
		check_rows(L, rel, s.p, m.p);
	}
	if (L->nkey > 0 && !L->direct)
		check_duplicates(L, PGCOPY_STAGE);
	if (L->scope_col) {
		s.len = m.len = 0;
		edu_str_add(&s, "NOT (%s) IS TRUE", L->where.p);
		edu_str_add(&m, "column %s: row outside the scope -w %s", L->scope_name, L->scope);
		check_rows(L, rel, s.p, m.p);
		/* The key is the table's, not the scope's: an input row whose key belongs to a
		 * row of another scope would move that row into this one. */
		if (L->nkey > 0 && !L->scope_col->key) {
			s.len = m.len = 0;
			edu_str_add(&s, "EXISTS (SELECT 1 FROM %s t WHERE ", L->target);
			pgcopy_add_key_eq(L, &s, "t", "s");
			edu_str_add(&s, " AND NOT (t.%s IS NOT DISTINCT FROM s.%s))",
			            L->scope_col->q, L->scope_col->q);
			edu_str_add(
			    &m,
			    "column %s: its key belongs to a row outside the scope -w %s (a "
			    "scoped replace never moves rows between scopes)",
			    L->scope_name, L->scope);
			check_rows(L, PGCOPY_STAGE, s.p, m.p);
		}
	}
	edu_str_free(&s);
	edu_str_free(&m);
}

/* What a replace replaces, before the shrink guard. */
void pgcopy_measure(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	if (L->mode != PGCOPY_REPLACE || L->direct)
		return;
	edu_str_add(&s, "SELECT count(*) FROM %s WHERE %s", L->target, L->where.p);
	L->current = pgcopy_count(L, s.p);
	edu_str_free(&s);
}

/* Replace without a key: a multiset difference on each row's text, so that equal rows stay. */
static void replace_rows(struct pgcopy_load *L)
{
	struct edu_str s = {0}, row = {0};

	edu_str_add(&row, "ROW(");
	pgcopy_add_input_cols(L, &row, "");
	edu_str_add(&row, ")::text");
	/* A ctid is unique only within one relation: a partitioned (or inherited) table
	 * repeats it in each partition, so a row is named by (tableoid, ctid). */
	edu_str_add(&s,
	            "CREATE TEMP TABLE edu_old ON COMMIT DROP AS SELECT tableoid AS edu_rel, "
	            "ctid AS edu_tid, %s AS edu_r, row_number() OVER (PARTITION BY %s) AS edu_n "
	            "FROM %s WHERE %s",
	            row.p, row.p, L->target, L->where.p);
	edu_pg_cmd(L->conn, s.p);
	s.len = 0;
	edu_str_add(&s,
	            "CREATE TEMP TABLE edu_new ON COMMIT DROP AS SELECT ctid AS edu_tid, %s AS "
	            "edu_r, row_number() OVER (PARTITION BY %s) AS edu_n FROM %s",
	            row.p, row.p, PGCOPY_STAGE);
	edu_pg_cmd(L->conn, s.p);
	s.len = 0;
	edu_str_add(
	    &s,
	    "DELETE FROM %s WHERE %s AND (tableoid, ctid) IN (SELECT o.edu_rel, o.edu_tid "
	    "FROM edu_old o LEFT JOIN edu_new n USING (edu_r, edu_n) WHERE n.edu_r IS NULL)",
	    L->target, L->where.p);
	L->del = affected(L, s.p);
	s.len = 0;
	edu_str_add(&s, "INSERT INTO %s (", L->target);
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, ") SELECT ");
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s,
	            " FROM %s WHERE ctid IN (SELECT n.edu_tid FROM edu_new n LEFT JOIN edu_old o "
	            "USING (edu_r, edu_n) WHERE o.edu_r IS NULL)",
	            PGCOPY_STAGE);
	L->ins = affected(L, s.p);
	edu_str_free(&s);
	edu_str_free(&row);
}

/* INSERT ... ON CONFLICT that never touches a row equal to the input. */
static void upsert(struct pgcopy_load *L)
{
	struct edu_str s = {0};
	PGresult *res;
	int ndata;

	edu_str_add(&s, "WITH w AS (INSERT INTO %s AS t (", L->target);
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, ") SELECT ");
	pgcopy_add_input_cols(L, &s, "s.");
	edu_str_add(&s, " FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE ", PGCOPY_STAGE,
	            L->target);
	pgcopy_add_key_eq(L, &s, "t", "s");
	/* Unchanged rows are filtered before the INSERT: not even a tuple lock is written. */
	edu_str_add(&s, " AND ");
	ndata = add_diff(L, &s, "t", "s", "IS NOT DISTINCT FROM");
	edu_str_add(&s, ") ON CONFLICT (");
	for (size_t i = 0, k = 0; i < L->ncols; i++)
		if (L->cols[i].key)
			edu_str_add(&s, "%s%s", k++ ? ", " : "", L->cols[i].q);
	if (ndata == 0) {
		edu_str_add(&s, ") DO NOTHING RETURNING true AS ins)");
	} else {
		edu_str_add(&s, ") DO UPDATE SET ");
		for (size_t i = 0, k = 0; i < L->ncols; i++)
			if (L->cols[i].input && !L->cols[i].key)
				edu_str_add(&s, "%s%s = EXCLUDED.%s", k++ ? ", " : "", L->cols[i].q,
				            L->cols[i].q);
		edu_str_add(&s, " WHERE ");
		add_diff(L, &s, "t", "EXCLUDED", "IS DISTINCT FROM");
		edu_str_add(&s, " RETURNING t.xmax = 0 AS ins)");
	}
	edu_str_add(&s, " SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) "
	                "FROM w");
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	L->ins = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	L->upd = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	edu_str_free(&s);
}

/* Replace on a key: the rows of the scope whose key the input lacks go, then an upsert. */
static void replace_keyed(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	edu_str_add(&s, "DELETE FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM %s s WHERE ",
	            L->target, L->where.p, PGCOPY_STAGE);
	pgcopy_add_key_eq(L, &s, "s", "t");
	edu_str_add(&s, ")");
	L->del = affected(L, s.p);
	edu_str_free(&s);
	upsert(L);
}

void pgcopy_merge(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	if (L->direct) {
		L->ins = (long long)L->rows;
	} else if (L->mode == PGCOPY_APPEND) {
		edu_str_add(&s, "INSERT INTO %s (", L->target);
		pgcopy_add_input_cols(L, &s, "");
		edu_str_add(&s, ") SELECT ");
		pgcopy_add_input_cols(L, &s, "");
		edu_str_add(&s, " FROM %s", PGCOPY_STAGE);
		L->ins = affected(L, s.p);
	} else if (L->nkey > 0 && L->mode == PGCOPY_REPLACE) {
		replace_keyed(L);
	} else if (L->nkey > 0) {
		upsert(L);
	} else {
		replace_rows(L);
	}
	edu_str_free(&s);
	pgcopy_verbose(L, "merge done");
}
