/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy's SQL after the COPY: the checks on the staged rows (NULL and duplicate keys,
 * scope), reported with input line numbers, and the merges that write only rows that differ:
 * upsert on a key, replace on a key, and replace without a key by a multiset difference of
 * fixed-width row digests, or by a rewrite when a sample of both sides says that few rows are
 * in both. Every plan here is linear: hash joins and aggregates on keys or digests, and rows
 * fetched by sorted tuple ids, never a sort or a nested loop over whole rows.
 * Every identifier in the SQL comes quoted from the catalog (struct pgcopy_col).
 */
#include <math.h>
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

/* How a keyed row is named in the history: its key values, then its -L label. */
static void add_key_text(const struct pgcopy_load *L, struct edu_str *s, const char *alias)
{
	edu_str_add(s, "concat_ws(' '");
	for (size_t i = 0; i < L->ncols; i++)
		if (L->cols[i].key)
			edu_str_add(s, ", %s.%s::text", alias, L->cols[i].q);
	if (L->label_col)
		edu_str_add(s, ", %s.%s::text", alias, L->label_col->q);
	edu_str_add(s, ")");
}

/* "k1, k2" over the key columns. */
static void add_key_list(const struct pgcopy_load *L, struct edu_str *s)
{
	for (size_t i = 0, k = 0; i < L->ncols; i++)
		if (L->cols[i].key)
			edu_str_add(s, "%s%s", k++ ? ", " : "", L->cols[i].q);
}

int pgcopy_any(const struct pgcopy_load *L, const char *rel, const char *cond)
{
	struct edu_str s = {0};
	long long n;

	edu_str_add(&s, "SELECT count(*) FROM (SELECT 1 FROM %s s%s%s LIMIT 1) x", rel,
	            cond ? " WHERE " : "", cond ? cond : "");
	n = pgcopy_count(L, s.p);
	edu_str_free(&s);
	return n > 0;
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

/*
 * Dies naming the input line of the first row of rel that matches cond. Only rows of the scope
 * are numbered: a direct load into a table (or scope) that was empty holds nothing else there.
 */
static void check_rows(const struct pgcopy_load *L, const char *rel, const char *cond,
                       const char *what)
{
	struct edu_str s = {0};
	PGresult *res;

	/* Numbering every row costs a sort: look for an offending row first. */
	if (!pgcopy_any(L, rel, cond))
		return;
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

	add_key_list(L, &keys);
	for (size_t i = 0; i < L->ncols; i++)
		if (L->cols[i].key)
			edu_str_add(&names, "%s%s", names.len ? ", " : "", L->cols[i].name);
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
 * belong to another scope. A direct load into an empty scope had its scope checked by COPY.
 */
void pgcopy_check(struct pgcopy_load *L)
{
	const char *rel = L->direct ? L->target : PGCOPY_STAGE;
	struct edu_str s = {0}, m = {0};

	if (L->direct && L->scope_col)
		return;
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

/*
 * A row's digest: two 64-bit hashes of the row's values, with different seeds, so that two
 * different rows share a digest with a chance near 2^-128. Values are hashed as their type
 * compares them (1.0 and 1.00 are one numeric); a type without a hash function, as its text.
 * The digest is 16 bytes whatever the width of the row: hashing and grouping on it never sorts
 * or spills whole rows. "SELECT digest, cols FROM (SELECT row, inner FROM rel WHERE cond)":
 * OFFSET 0 keeps the row built once for both hashes.
 */
static void add_digests(const struct pgcopy_load *L, struct edu_str *s, const char *cols,
                        const char *inner, const char *rel, const char *cond)
{
	edu_str_add(s,
	            "SELECT hash_record_extended(edu_r, 0) AS edu_d0, hash_record_extended(edu_r, "
	            "1) AS edu_d1, %s FROM (SELECT ROW(",
	            cols);
	for (size_t i = 0; i < L->in.ncols; i++)
		edu_str_add(s, "%s%s%s", i ? ", " : "", L->incol[i]->q,
		            L->incol[i]->hashable ? "" : "::text");
	edu_str_add(s, ") AS edu_r, %s FROM %s WHERE %s OFFSET 0) x", inner, rel, cond);
}

/* The digests of the rows in the scope, with their tuple ids, or of the staged input. */
static void add_side(const struct pgcopy_load *L, struct edu_str *s, int old, const char *cols,
                     const char *sample)
{
	struct edu_str rel = {0};

	edu_str_add(&rel, "%s%s", old ? L->target : PGCOPY_STAGE, sample);
	add_digests(L, s, cols, old ? "tableoid AS edu_rel, ctid AS edu_tid" : "ctid AS edu_tid",
	            rel.p, old ? L->where.p : "true");
	edu_str_free(&rel);
}

/* What a replace replaces, before the shrink guard: the rows in the scope. */
void pgcopy_measure(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	if (L->mode != PGCOPY_REPLACE || L->direct)
		return;
	edu_str_add(&s, "SELECT count(*) FROM %s WHERE %s", L->target, L->where.p);
	L->current = pgcopy_count(L, s.p);
	edu_str_free(&s);
}

/*
 * Whether to rewrite the scope (delete every row of it, insert every input row) rather than
 * compare every row: when few rows are in both. A republication that renumbers its rows (geo-DVF's
 * id_mutation) changes them all, and comparing 2N digests then only adds to the N deletes and N
 * inserts. The share is estimated on two independent random samples of about sqrt(S N) rows
 * each (a block sample of the scope, a row sample of the input), whose matches number about
 * S times that share: 3% of a million rows, every row below S. The samples decide only which
 * exact path runs: no row is ever taken as unchanged on a sample.
 */
static int rewrite_is_cheaper(struct pgcopy_load *L)
{
	struct edu_str s = {0}, o = {0}, n = {0};
	double big = (double)(L->current > (long long)L->rows ? L->current : (long long)L->rows);
	double pct = 100 * sqrt(PGCOPY_SAMPLE / big), so, sn, m, share;
	PGresult *res;

	if (L->rows == 0 || L->current == 0)
		return 1;
	if (pct > 100)
		pct = 100;
	edu_str_add(&o, " TABLESAMPLE SYSTEM (%.6f) REPEATABLE (1)", pct);
	edu_str_add(&n, " TABLESAMPLE BERNOULLI (%.6f) REPEATABLE (2)", pct);
	edu_str_add(&s, "WITH o AS MATERIALIZED (");
	add_side(L, &s, 1, "edu_tid", o.p);
	edu_str_add(&s, "), n AS MATERIALIZED (");
	add_side(L, &s, 0, "edu_tid", n.p);
	edu_str_add(&s, ") SELECT (SELECT count(*) FROM o), (SELECT count(*) FROM n), (SELECT "
	                "count(*) FROM n WHERE EXISTS (SELECT 1 FROM o WHERE o.edu_d0 = n.edu_d0 "
	                "AND o.edu_d1 = n.edu_d1))");
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	so = strtod(PQgetvalue(res, 0, 0), NULL);
	sn = strtod(PQgetvalue(res, 0, 1), NULL);
	m = strtod(PQgetvalue(res, 0, 2), NULL);
	PQclear(res);
	edu_str_free(&s);
	edu_str_free(&o);
	edu_str_free(&n);
	/* An empty sample tells nothing: compare. */
	if (so == 0 || sn == 0)
		return 0;
	share = 100 * m / so * (double)L->current / sn * (double)L->rows / big;
	if (L->verbose)
		edu_warn("sample: %.0f of %.0f input rows among %.0f rows of the %s: about %.1f%% "
		         "unchanged, %s (%.2fs)",
		         m, sn, so, L->scope ? "scope" : "table", share > 100 ? 100 : share,
		         share < PGCOPY_REWRITE_PCT ? "rewritten" : "every row compared",
		         edu_elapsed(&L->t0));
	return share < PGCOPY_REWRITE_PCT;
}

/*
 * The multiset difference of the scope and the input, in one hash aggregate over the digests
 * of both (edu_diff: the digests whose counts differ, with both counts). A digest held by one
 * row alone, the usual case, keeps that row's tuple id: it is deleted or inserted as is.
 */
static void diff_rows(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	edu_str_add(&s,
	            "CREATE TEMP TABLE edu_diff ON COMMIT DROP AS SELECT edu_d0, edu_d1, "
	            "count(*) FILTER (WHERE edu_o) AS edu_co, count(*) FILTER (WHERE NOT "
	            "edu_o) AS edu_cn, min(edu_rel) AS edu_rel, min(edu_tid) AS edu_tid FROM (");
	add_side(L, &s, 1, "true AS edu_o, edu_rel, edu_tid", "");
	edu_str_add(&s, " UNION ALL ");
	add_side(L, &s, 0, "false, 0::oid, edu_tid", "");
	edu_str_add(&s, ") x GROUP BY edu_d0, edu_d1 HAVING count(*) FILTER (WHERE edu_o) <> "
	                "count(*) FILTER (WHERE NOT edu_o)");
	/* No sort, which would group the digests by sorting them: a hash aggregate spills in
	 * batches and stays linear. */
	edu_pg_cmd(L->conn, "SET LOCAL enable_sort = off");
	edu_pg_cmd(L->conn, s.p);
	edu_pg_cmd(L->conn, "SET LOCAL enable_sort = DEFAULT");
	pgcopy_verbose(L, "rows compared");
	edu_str_free(&s);
}

/*
 * The tuple ids of the rows of one side (old: the scope, with their relation; else the input)
 * that the difference removes from it: the row of a digest that side alone holds once, and for
 * a digest held more than once (repeated rows) only the surplus, numbered within that digest
 * alone, from a second reading of that side: needed only when such a digest differs (nrep).
 */
static void add_surplus(const struct pgcopy_load *L, struct edu_str *s, int old, long long nrep)
{
	const char *cols = old ? "edu_rel, edu_tid" : "edu_tid";
	const char *more = old ? "edu_co" : "edu_cn", *fewer = old ? "edu_cn" : "edu_co";

	edu_str_add(s, "SELECT %s FROM edu_diff WHERE %s = 1 AND %s = 0", cols, more, fewer);
	if (nrep == 0)
		return;
	edu_str_add(s,
	            " UNION ALL SELECT %s FROM (SELECT o.*, x.%s - x.%s AS edu_k, row_number() "
	            "OVER (PARTITION BY o.edu_d0, o.edu_d1) AS edu_n FROM (",
	            cols, more, fewer);
	add_side(L, s, old, cols, "");
	edu_str_add(s,
	            ") o JOIN edu_diff x USING (edu_d0, edu_d1) WHERE x.%s > x.%s AND x.edu_co + "
	            "x.edu_cn > 1) y WHERE edu_n <= edu_k",
	            more, fewer);
}

/* Deletes the rows of the scope that the difference removes, by their tuple ids. */
static void delete_rows(struct pgcopy_load *L, long long nrep)
{
	struct edu_str s = {0};
	PGresult *rels;

	edu_str_add(&s, "CREATE TEMP TABLE edu_del ON COMMIT DROP AS ");
	add_surplus(L, &s, 1, nrep);
	edu_pg_cmd(L->conn, s.p);
	/* A tuple id is unique within one relation only (partitions repeat them). */
	rels = edu_pg_exec(L->conn, "SELECT DISTINCT edu_rel FROM edu_del", 0, NULL);
	for (int i = 0; i < PQntuples(rels); i++) {
		s.len = 0;
		edu_str_add(&s,
		            "DELETE FROM %s WHERE %s AND tableoid = '%s'::oid AND ctid = ANY "
		            "(ARRAY(SELECT edu_tid FROM edu_del WHERE edu_rel = '%s'::oid))",
		            L->target, L->where.p, PQgetvalue(rels, i, 0), PQgetvalue(rels, i, 0));
		L->del += affected(L, s.p);
	}
	PQclear(rels);
	edu_str_free(&s);
}

/* Inserts the input rows that the difference adds, by their tuple ids, or every row (!tids). */
static void insert_rows(struct pgcopy_load *L, int tids, long long nrep)
{
	struct edu_str s = {0};

	edu_str_add(&s, "INSERT INTO %s (", L->target);
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, ") SELECT ");
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, " FROM %s", PGCOPY_STAGE);
	if (tids) {
		edu_str_add(&s, " WHERE ctid = ANY (ARRAY(");
		add_surplus(L, &s, 0, nrep);
		edu_str_add(&s, "))");
	}
	L->ins = affected(L, s.p);
	edu_str_free(&s);
}

/*
 * Replace without a key: the scope rewritten when few rows are in both, else the difference:
 * the old rows it removes deleted and the new rows it adds inserted, by their tuple ids (a
 * sorted TID scan: pages in order, no join). A row is kept only when its digest is in the input
 * as many times as in the scope. When the difference keeps no row (every new row comes, so
 * every old row goes), a plain DELETE of the scope and INSERT of the input do it: what that
 * DELETE sees is what the table holds then, so the table ends equal to the input. A scope that
 * is a partition is rather swapped for a new one (src/edu-pgcopy-swap.c), when it can be.
 */
static void replace_rows(struct pgcopy_load *L)
{
	struct edu_str s = {0};
	PGresult *res;
	long long del = 0, ins = 0, nrep = 0;
	int all;

	/* The joins here are on digests without an index: a nested loop would be quadratic. */
	edu_pg_cmd(L->conn, "SET LOCAL enable_nestloop = off");
	all = rewrite_is_cheaper(L);
	if (!all) {
		diff_rows(L);
		res = edu_pg_exec(L->conn,
		                  "SELECT coalesce(sum(greatest(edu_co - edu_cn, 0)), 0), "
		                  "coalesce(sum(greatest(edu_cn - edu_co, 0)), 0), "
		                  "count(*) FILTER (WHERE edu_co + edu_cn > 1) FROM edu_diff",
		                  0, NULL);
		del = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		ins = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		nrep = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		PQclear(res);
		all = ins == (long long)L->rows;
		/* Row counts for the planner of the surplus's joins. */
		if (nrep > 0 && !all)
			edu_pg_cmd(L->conn, "ANALYZE edu_diff");
	}
	if (all && pgcopy_swap(L)) {
		pgcopy_verbose(L, "partition replaced");
	} else if (all) {
		edu_str_add(&s, "DELETE FROM %s WHERE %s", L->target, L->where.p);
		L->del = affected(L, s.p);
		pgcopy_verbose(L, "deleted");
		if (L->rows > 0)
			insert_rows(L, 0, 0);
	} else {
		if (del > 0)
			delete_rows(L, nrep);
		pgcopy_verbose(L, "deleted");
		if (ins > 0)
			insert_rows(L, 1, nrep);
	}
	edu_pg_cmd(L->conn, "SET LOCAL enable_nestloop = DEFAULT");
	edu_str_free(&s);
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
	add_key_list(L, &s);
	if (ndata == 0) {
		edu_str_add(&s, ") DO NOTHING RETURNING true AS ins, ");
	} else {
		edu_str_add(&s, ") DO UPDATE SET ");
		for (size_t i = 0, k = 0; i < L->ncols; i++)
			if (L->cols[i].input && !L->cols[i].key)
				edu_str_add(&s, "%s%s = EXCLUDED.%s", k++ ? ", " : "", L->cols[i].q,
				            L->cols[i].q);
		edu_str_add(&s, " WHERE ");
		add_diff(L, &s, "t", "EXCLUDED", "IS DISTINCT FROM");
		edu_str_add(&s, " RETURNING t.xmax = 0 AS ins, ");
	}
	add_key_text(L, &s, "t");
	edu_str_add(&s,
	            " AS k) SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins), "
	            "ARRAY(SELECT k FROM w WHERE ins ORDER BY k LIMIT %d) FROM w",
	            PGCOPY_MAX_KEYS);
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	L->ins = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	L->upd = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	L->new_keys = edu_strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	edu_str_free(&s);
}

/* Replace on a key: the rows of the scope whose key the input lacks go, then an upsert. */
static void replace_keyed(struct pgcopy_load *L)
{
	struct edu_str s = {0};
	PGresult *res;

	edu_str_add(&s,
	            "WITH d AS (DELETE FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 FROM %s s "
	            "WHERE ",
	            L->target, L->where.p, PGCOPY_STAGE);
	pgcopy_add_key_eq(L, &s, "s", "t");
	edu_str_add(&s, ") RETURNING ");
	add_key_text(L, &s, "t");
	edu_str_add(&s, " AS k) SELECT count(*), ARRAY(SELECT k FROM d ORDER BY k LIMIT %d) FROM d",
	            PGCOPY_MAX_KEYS);
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	L->del = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	L->removed_keys = edu_strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	edu_str_free(&s);
	upsert(L);
}

/* Every row of a direct load is new: the first keys are read back from the table. */
static void direct_keys(struct pgcopy_load *L)
{
	struct edu_str s = {0};
	PGresult *res;

	edu_str_add(&s, "SELECT ARRAY(SELECT ");
	add_key_text(L, &s, "t");
	edu_str_add(&s, " AS k FROM %s t WHERE %s ORDER BY k LIMIT %d)", L->target, L->where.p,
	            PGCOPY_MAX_KEYS);
	res = edu_pg_exec(L->conn, s.p, 0, NULL);
	L->new_keys = edu_strdup(PQgetvalue(res, 0, 0));
	L->removed_keys = edu_strdup("{}");
	PQclear(res);
	edu_str_free(&s);
}

void pgcopy_merge(struct pgcopy_load *L)
{
	if (L->direct) {
		L->ins = (long long)L->rows;
		if (L->nkey > 0)
			direct_keys(L);
	} else if (L->mode == PGCOPY_APPEND) {
		insert_rows(L, 0, 0);
	} else if (L->nkey > 0 && L->mode == PGCOPY_REPLACE) {
		replace_keyed(L);
	} else if (L->nkey > 0) {
		upsert(L);
		L->removed_keys = edu_strdup("{}");
	} else {
		replace_rows(L);
	}
	pgcopy_verbose(L, "merge done");
}
