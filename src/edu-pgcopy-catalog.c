/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy, what the table is: its columns from the catalog, the header matched against them,
 * the key, the -w scope as the column's type reads it, the -L label, and the scope's partition.
 * All of it before the load's transaction, so that a wrong table or option is refused before a
 * row is read.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "edu.h"
#include "edu-pgcopy.h"

/* The table column of that name, or NULL, in O(log n): a header may be hostile. */
struct pgcopy_col *pgcopy_find_col(const struct pgcopy_load *L, const char *name)
{
	long i = edu_names_find(&L->byname, name, strlen(name));

	return i < 0 ? NULL : &L->cols[i];
}

/* Resolves the table through the catalog: its oid, its quoted name, the name shown. */
static void resolve_table(struct pgcopy_load *L)
{
	const char *p[1] = {L->table};
	PGresult *res;
	char *qn, *qr;

	res = PQexecParams(L->conn,
	                   "SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c "
	                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
	                   "WHERE c.oid = to_regclass($1)",
	                   1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(L->conn) == CONNECTION_OK)
		edu_die(EDU_EX_CONFIG, "table %s: %s", L->table, edu_pg_error(L->conn, res));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		edu_pg_die(L->conn, res, "database");
	if (PQntuples(res) != 1)
		edu_die(EDU_EX_CONFIG, "table %s: no such table (did `make db` run?)", L->table);
	if (strcmp(PQgetvalue(res, 0, 3), "r") != 0 && strcmp(PQgetvalue(res, 0, 3), "p") != 0)
		edu_die(EDU_EX_CONFIG, "table %s: not a table", L->table);
	snprintf(L->oid, sizeof(L->oid), "%s", PQgetvalue(res, 0, 0));
	qn = edu_pg_ident(L->conn, PQgetvalue(res, 0, 1));
	qr = edu_pg_ident(L->conn, PQgetvalue(res, 0, 2));
	L->target = edu_malloc(strlen(qn) + strlen(qr) + 2);
	sprintf(L->target, "%s.%s", qn, qr);
	L->table_q = L->target;
	if (strcmp(PQgetvalue(res, 0, 1), "public") == 0)
		snprintf(L->shown, sizeof(L->shown), "%s", PQgetvalue(res, 0, 2));
	else
		snprintf(L->shown, sizeof(L->shown), "%s.%s", PQgetvalue(res, 0, 1),
		         PQgetvalue(res, 0, 2));
	free(qn);
	free(qr);
	PQclear(res);
}

/* The table's columns, and what each needs: generated, NOT NULL, compared or hashed as text. */
static void read_columns(struct pgcopy_load *L)
{
	const char *p[1] = {L->oid};
	PGresult *res;

	/* A type without a default btree opclass (json, point) has no '=': compare its text.
	 * One without a default hash opclass is digested as its text. */
	res = edu_pg_exec(L->conn,
	                  "SELECT a.attname, a.attgenerated <> '', a.attnotnull, "
	                  "t.typcategory <> 'A' AND NOT EXISTS (SELECT 1 FROM pg_opclass o "
	                  "  JOIN pg_am m ON m.oid = o.opcmethod AND m.amname = 'btree' "
	                  "  WHERE o.opcdefault AND o.opcintype = t.oid), "
	                  "a.atthasdef OR a.attidentity <> '', "
	                  "EXISTS (SELECT 1 FROM pg_opclass o "
	                  "  JOIN pg_am m ON m.oid = o.opcmethod AND m.amname = 'hash' "
	                  "  WHERE o.opcdefault AND o.opcintype = CASE t.typtype WHEN 'd' "
	                  "  THEN t.typbasetype ELSE t.oid END), "
	                  "format_type(a.atttypid, NULL) "
	                  "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
	                  "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
	                  "ORDER BY a.attnum",
	                  1, p);
	L->ncols = (size_t)PQntuples(res);
	L->cols = edu_malloc(L->ncols * sizeof(*L->cols));
	for (size_t i = 0; i < L->ncols; i++) {
		struct pgcopy_col *c = &L->cols[i];

		c->name = edu_strdup(PQgetvalue(res, (int)i, 0));
		c->q = edu_pg_ident(L->conn, c->name);
		c->generated = *PQgetvalue(res, (int)i, 1) == 't';
		c->notnull = *PQgetvalue(res, (int)i, 2) == 't';
		c->textcmp = *PQgetvalue(res, (int)i, 3) == 't';
		c->hasdef = *PQgetvalue(res, (int)i, 4) == 't';
		c->hashable = *PQgetvalue(res, (int)i, 5) == 't';
		c->type = edu_strdup(PQgetvalue(res, (int)i, 6));
		c->input = c->key = 0;
	}
	PQclear(res);
}

/* Resolves the table through the catalog and reads its columns. */
static void load_catalog(struct pgcopy_load *L)
{
	resolve_table(L);
	read_columns(L);
}

/*
 * Matches the header against the table, each name by a binary search: any unknown column is
 * schema drift. Then the table's required columns the input lacks.
 */
static void match_header(struct pgcopy_load *L)
{
	L->incol = edu_malloc(L->in.ncols * sizeof(*L->incol));
	for (size_t i = 0; i < L->in.ncols; i++) {
		struct pgcopy_col *c = pgcopy_find_col(L, L->in.header[i]);

		if (c == NULL)
			edu_die(
			    EDU_EX_DATAERR,
			    "stdin:1: column %zu '%s': no such column in table %s (schema drift: "
			    "fix the mapping or migrate the table)",
			    i + 1, L->in.header[i], L->shown);
		if (c->generated)
			edu_die(EDU_EX_DATAERR,
			        "stdin:1: column %zu '%s': computed by the database in table %s",
			        i + 1, L->in.header[i], L->shown);
		c->input = 1;
		L->incol[i] = c;
	}
	/* Otherwise every row would fail, in the merge, where no input line can be named. */
	for (size_t i = 0; i < L->ncols; i++) {
		const struct pgcopy_col *c = &L->cols[i];

		if (c->notnull && !c->hasdef && !c->generated && !c->input)
			edu_die(EDU_EX_DATAERR,
			        "stdin:1: column %s: NOT NULL without a default in table %s, "
			        "missing from the input (schema drift)",
			        c->name, L->shown);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -k: the columns named, which must be exactly those of one of the unique indexes in res. */
static void key_from_option(struct pgcopy_load *L, const PGresult *res)
{
	char *list = edu_strdup(L->keys), *save = NULL, **names = NULL;
	struct edu_str want = {0};
	size_t n = 0;
	int found = 0;

	for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		struct pgcopy_col *c = pgcopy_find_col(L, k);

		if (c == NULL)
			edu_die(EDU_EX_USAGE, "-k %s: no such column in table %s", k, L->shown);
		if (c->key)
			edu_die(EDU_EX_USAGE, "-k: column %s given twice", k);
		c->key = 1;
		names = edu_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = k;
	}
	if (n == 0)
		edu_die(EDU_EX_USAGE, "-k: no column");
	/* Sorted like the catalog query (C collation) to compare the sets. */
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		edu_str_add(&want, "%s%s", i ? "," : "", names[i]);
	for (int i = 0; i < PQntuples(res); i++)
		found |= strcmp(PQgetvalue(res, i, 1), want.p) == 0;
	if (!found)
		edu_die(EDU_EX_USAGE,
		        "-k %s: table %s has no unique index on exactly these columns", L->keys,
		        L->shown);
	free(names);
	free(list);
	edu_str_free(&want);
}

/* Without -k: the primary key's columns, among the unique indexes in res. */
static void key_from_primary(struct pgcopy_load *L, const PGresult *res)
{
	for (int i = 0; i < PQntuples(res); i++) {
		char *list, *save = NULL;

		if (*PQgetvalue(res, i, 0) != 't')
			continue;
		list = edu_strdup(PQgetvalue(res, i, 1));
		for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save))
			pgcopy_find_col(L, k)->key = 1;
		free(list);
	}
}

/* Marks the key: -k columns (which need a unique index) or else the primary key. */
static void choose_key(struct pgcopy_load *L)
{
	PGresult *res;
	const char *p[1] = {L->oid};

	res = edu_pg_exec(L->conn,
	                  "SELECT i.indisprimary, array_to_string(ARRAY(SELECT a.attname "
	                  "  FROM pg_attribute a WHERE a.attrelid = i.indrelid "
	                  "  AND a.attnum = ANY (i.indkey) ORDER BY a.attname COLLATE \"C\"), ',') "
	                  "FROM pg_index i WHERE i.indrelid = $1::oid AND i.indisunique "
	                  "AND i.indpred IS NULL AND i.indexprs IS NULL",
	                  1, p);
	if (L->keys)
		key_from_option(L, res);
	else
		key_from_primary(L, res);
	PQclear(res);
	for (size_t i = 0; i < L->ncols; i++) {
		if (!L->cols[i].key)
			continue;
		if (!L->cols[i].input)
			edu_die(EDU_EX_DATAERR, "stdin:1: key column %s missing from the input",
			        L->cols[i].name);
		L->nkey++;
	}
}

/* The -w column and value, checked against the table; whether its partitions are a list of it. */
static void resolve_scope(struct pgcopy_load *L)
{
	struct pgcopy_col *c = pgcopy_find_col(L, L->scope_name);
	struct edu_str s = {0};
	const char *p[2] = {L->oid, NULL};
	PGresult *res;
	char *lit;

	if (c == NULL || !c->input)
		edu_die(EDU_EX_USAGE, "-w %s: column %s is not in %s", L->scope, L->scope_name,
		        c ? "the input" : "the table");
	L->scope_col = c;
	lit = PQescapeLiteral(L->conn, L->scope_val, strlen(L->scope_val));
	if (lit == NULL)
		edu_pg_die(L->conn, NULL, "-w");
	L->where.len = 0;
	edu_str_add(&L->where, "%s = %s", c->q, lit);
	/* The value as the column's type reads it (02023 is 2023), for the partition, and the
	 * scope's lock key: the hash of the column and that value, equal for equal values (1.0
	 * and 1.00 are one numeric). A value the type rejects is a bad -w, not bad input data. */
	p[1] = c->name;
	edu_str_add(&s, "SELECT v::text, %s FROM (SELECT CAST(%s AS %s) AS v) x",
	            c->hashable ? "hash_record(ROW($1::text, v))"
	                        : "hashtext($1 || '=' || v::text)",
	            lit, c->type);
	PQfreemem(lit);
	res = PQexecParams(L->conn, s.p, 1, NULL, &p[1], NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(L->conn) == CONNECTION_OK)
		edu_die(EDU_EX_USAGE, "-w %s: %s", L->scope,
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		edu_pg_die(L->conn, res, "database");
	L->scope_canon = edu_strdup(PQgetvalue(res, 0, 0));
	snprintf(L->scope_key, sizeof(L->scope_key), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	edu_str_free(&s);
	res = edu_pg_exec(L->conn,
	                  "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
	                  "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
	                  "WHERE p.partrelid = $1::oid AND p.partstrat = 'l' AND p.partnatts = 1",
	                  1, p);
	L->list_partitioned = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), c->name) == 0;
	PQclear(res);
}

/* Everything the load needs to know from the catalog, before its transaction. */
void pgcopy_resolve(struct pgcopy_load *L)
{
	const char **names;

	load_catalog(L);
	names = edu_malloc(L->ncols * sizeof(*names));
	for (size_t i = 0; i < L->ncols; i++)
		names[i] = L->cols[i].name;
	edu_names_index(&L->byname, names, NULL, L->ncols);
	free(names);
	match_header(L);
	if (L->mode != PGCOPY_APPEND)
		choose_key(L);
	edu_str_add(&L->where, "true");
	if (L->scope)
		resolve_scope(L);
	if (L->label) {
		L->label_col = pgcopy_find_col(L, L->label);
		if (L->label_col == NULL)
			edu_die(EDU_EX_USAGE, "-L %s: no such column in table %s", L->label,
			        L->shown);
		if (L->nkey == 0)
			edu_die(EDU_EX_USAGE,
			        "-L %s: only a load on a key (-k, or a table with a primary key) "
			        "names its rows",
			        L->label);
	}
}

/*
 * A scope that is a partition gets its partition now, in a short transaction of its own: the
 * DDL's lock must not be held for the whole load, nor wait behind it. The partition's name is
 * stable: a swap gives the new partition the old one's.
 */
void pgcopy_ensure_partition(struct pgcopy_load *L)
{
	const char *p[2] = {L->oid, L->scope_canon};
	PGresult *res;

	if (!L->list_partitioned)
		return;
	res = PQexecParams(L->conn, "SELECT edu_ensure_partition($1::oid::regclass, $2)", 2, NULL,
	                   p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(L->conn) == CONNECTION_OK &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "22023") == 0)
		edu_die(EDU_EX_USAGE, "-w %s: %s", L->scope,
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		edu_pg_die(L->conn, res, "partition");
	if (L->verbose)
		edu_warn("partition %s ready (%.2fs)", PQgetvalue(res, 0, 0), edu_elapsed(&L->t0));
	/* A replace without a key reads and writes the partition itself, never its parent, so
	 * that its transaction holds no lock on the table that a partition swap of another
	 * scope would wait for (an INSERT into a partition still takes one, for its bound). */
	if (L->mode == PGCOPY_REPLACE && L->nkey == 0) {
		L->part = edu_strdup(PQgetvalue(res, 0, 0));
		L->target = L->part;
	}
	PQclear(res);
}
