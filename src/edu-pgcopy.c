/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy: loads a contract stream into one table in one transaction: COPY into a staging
 * table (or straight into the table when it is empty), checks, then append, upsert, replace or
 * replace within a scope, writing only the rows that differ. Rows are passed to the server
 * still escaped, as read. It never converts values or coordinates (the database does), and it
 * never commits a stream that lacked its end-of-data line.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "edu.h"
#include "edu-pgcopy.h"

#define SYNOPSIS                                                                                   \
	"edu-pgcopy [-afhnpqVvW] [-d conninfo] [-g percent] [-k column,...] [-s source]\n"         \
	"       [-w column=value] table"

#define COPYBUF (1024 * 1024)

enum mode { REPLACE, UPSERT, APPEND };

static struct {
	const char *conninfo, *keys, *scope, *source;
	int append, dry, force, verbose, wait;
	long long min_pct;
	enum edu_progress_mode progress;
} opt = {.min_pct = 50, .progress = EDU_PROGRESS_AUTO};

PGconn *conn;
struct col *cols;
size_t ncols;
char *target;
const char *shown_name;
static int in_copy;
static char *scope_col, *scope_val;

/* An exit in the middle of the load (truncated input, bad row) rolls back explicitly. */
static void abort_load(void)
{
	PGresult *res;

	if (conn == NULL)
		return;
	if (in_copy)
		PQputCopyEnd(conn, "edu-pgcopy: load aborted");
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	conn = NULL;
}

static void verbose(const struct timespec *t0, const char *what)
{
	if (opt.verbose)
		edu_warn("%s (%.2fs)", what, edu_elapsed(t0));
}

/* Resolves the table through the catalog and reads its columns. */
static void load_catalog(const char *table, const char **nsp_rel)
{
	const char *p[1] = {table};
	PGresult *res;
	char oid[32], *qn, *qr;
	static char shown[512];

	res = PQexecParams(conn,
	                   "SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c "
	                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
	                   "WHERE c.oid = to_regclass($1)",
	                   1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(conn) == CONNECTION_OK)
		edu_die(EDU_EX_CONFIG, "table %s: %s", table, edu_pg_error(conn, res));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		edu_pg_die(conn, res, "database");
	if (PQntuples(res) != 1)
		edu_die(EDU_EX_CONFIG, "table %s: no such table (did `make db` run?)", table);
	if (strcmp(PQgetvalue(res, 0, 3), "r") != 0 && strcmp(PQgetvalue(res, 0, 3), "p") != 0)
		edu_die(EDU_EX_CONFIG, "table %s: not a table", table);
	snprintf(oid, sizeof(oid), "%s", PQgetvalue(res, 0, 0));
	qn = edu_pg_ident(conn, PQgetvalue(res, 0, 1));
	qr = edu_pg_ident(conn, PQgetvalue(res, 0, 2));
	target = edu_malloc(strlen(qn) + strlen(qr) + 2);
	sprintf(target, "%s.%s", qn, qr);
	if (strcmp(PQgetvalue(res, 0, 1), "public") == 0)
		snprintf(shown, sizeof(shown), "%s", PQgetvalue(res, 0, 2));
	else
		snprintf(shown, sizeof(shown), "%s.%s", PQgetvalue(res, 0, 1),
		         PQgetvalue(res, 0, 2));
	*nsp_rel = shown;
	free(qn);
	free(qr);
	PQclear(res);

	p[0] = oid;
	/* A type without a default btree opclass (json, point) has no '=': compare its text. */
	res = edu_pg_exec(conn,
	                  "SELECT a.attname, a.attgenerated <> '', a.attnotnull, "
	                  "t.typcategory <> 'A' AND NOT EXISTS (SELECT 1 FROM pg_opclass o "
	                  "  JOIN pg_am m ON m.oid = o.opcmethod AND m.amname = 'btree' "
	                  "  WHERE o.opcdefault AND o.opcintype = t.oid), "
	                  "a.atthasdef OR a.attidentity <> '' "
	                  "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
	                  "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
	                  "ORDER BY a.attnum",
	                  1, p);
	ncols = (size_t)PQntuples(res);
	cols = edu_malloc(ncols * sizeof(*cols));
	for (size_t i = 0; i < ncols; i++) {
		cols[i].name = edu_strdup(PQgetvalue(res, (int)i, 0));
		cols[i].q = edu_pg_ident(conn, cols[i].name);
		cols[i].generated = *PQgetvalue(res, (int)i, 1) == 't';
		cols[i].notnull = *PQgetvalue(res, (int)i, 2) == 't';
		cols[i].textcmp = *PQgetvalue(res, (int)i, 3) == 't';
		cols[i].hasdef = *PQgetvalue(res, (int)i, 4) == 't';
		cols[i].input = cols[i].key = 0;
	}
	PQclear(res);
}

/* Matches the header against the table: any unknown column is schema drift. */
static void match_header(const struct edu_tsv_reader *r, const char *shown)
{
	for (size_t i = 0; i < r->ncols; i++) {
		struct col *c = find_col(r->header[i]);

		if (c == NULL)
			edu_die(
			    EDU_EX_DATAERR,
			    "stdin:1: column %zu '%s': no such column in table %s (schema drift: "
			    "fix the mapping or migrate the table)",
			    i + 1, r->header[i], shown);
		if (c->generated)
			edu_die(EDU_EX_DATAERR,
			        "stdin:1: column %zu '%s': computed by the database in table %s",
			        i + 1, r->header[i], shown);
		c->input = 1;
	}
	/* Otherwise every row would fail, in the merge, where no input line can be named. */
	for (size_t i = 0; i < ncols; i++)
		if (cols[i].notnull && !cols[i].hasdef && !cols[i].generated && !cols[i].input)
			edu_die(EDU_EX_DATAERR,
			        "stdin:1: column %s: NOT NULL without a default in table %s, "
			        "missing from the input (schema drift)",
			        cols[i].name, shown);
}

/* Marks the key: -k columns (which need a unique index) or else the primary key. */
static int choose_key(const char *oid_table, const char *shown)
{
	PGresult *res;
	const char *p[1] = {oid_table};
	int nkey = 0, found = 0;
	struct edu_str want = {0};

	res = edu_pg_exec(conn,
	                  "SELECT i.indisprimary, array_to_string(ARRAY(SELECT a.attname "
	                  "  FROM pg_attribute a WHERE a.attrelid = i.indrelid "
	                  "  AND a.attnum = ANY (i.indkey) ORDER BY a.attname COLLATE \"C\"), ',') "
	                  "FROM pg_index i WHERE i.indrelid = to_regclass($1) AND i.indisunique "
	                  "AND i.indpred IS NULL AND i.indexprs IS NULL",
	                  1, p);
	if (opt.keys) {
		char *list = edu_strdup(opt.keys), *save = NULL;
		char **names = NULL;
		size_t n = 0;

		for (char *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
			struct col *c = find_col(k);

			if (c == NULL)
				edu_die(EDU_EX_USAGE, "-k %s: no such column in table %s", k,
				        shown);
			if (c->key)
				edu_die(EDU_EX_USAGE, "-k: column %s given twice", k);
			c->key = 1;
			names = edu_realloc(names, (n + 1) * sizeof(*names));
			names[n++] = k;
		}
		if (n == 0)
			edu_die(EDU_EX_USAGE, "-k: no column");
		/* Sorted like the catalog query (C collation) to compare the sets. */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				char *t = names[j];
				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		for (size_t i = 0; i < n; i++)
			edu_str_add(&want, "%s%s", i ? "," : "", names[i]);
		for (int i = 0; i < PQntuples(res); i++)
			found |= strcmp(PQgetvalue(res, i, 1), want.p) == 0;
		if (!found)
			edu_die(EDU_EX_USAGE,
			        "-k %s: table %s has no unique index on exactly these columns",
			        opt.keys, shown);
		free(names);
		free(list);
		edu_str_free(&want);
	} else {
		for (int i = 0; i < PQntuples(res); i++) {
			char *list, *save = NULL;

			if (*PQgetvalue(res, i, 0) != 't')
				continue;
			list = edu_strdup(PQgetvalue(res, i, 1));
			for (char *k = strtok_r(list, ",", &save); k;
			     k = strtok_r(NULL, ",", &save))
				find_col(k)->key = 1;
			free(list);
		}
	}
	PQclear(res);
	for (size_t i = 0; i < ncols; i++) {
		if (!cols[i].key)
			continue;
		if (!cols[i].input)
			edu_die(EDU_EX_DATAERR, "stdin:1: key column %s missing from the input",
			        cols[i].name);
		nkey++;
	}
	return nkey;
}

/* Reports a failed COPY as input line, column and value when the server says which. */
static _Noreturn void copy_failed(PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *p = ctx ? strstr(ctx, ", line ") : NULL;
	int code = edu_pg_exitcode(conn, res);
	unsigned long line;
	char *end;

	if (p != NULL && prim != NULL) {
		line = strtoul(p + 7, &end, 10) + 1;
		if (strncmp(end, ", column ", 9) == 0) {
			const char *name = end + 9, *colon = strstr(name, ": ");
			const char *val = colon ? colon + 2 : "";
			size_t vn = strcspn(val, "\n");

			if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"')
				val++, vn -= 2;
			edu_warn("stdin:%lu: column %.*s: '%.*s': %s", line,
			         (int)(colon ? colon - name : (long)strlen(name)), name, (int)vn,
			         val, prim);
		} else if (detail && strncmp(detail, "Key ", 4) == 0 &&
		           strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23505") == 0) {
			/* Only the straight-into-an-empty-table path COPYs under a unique index
			 * (staging has none), so the earlier row with this key came from the
			 * input itself. Say it in the same words as the staging path's check. */
			const char *key = detail + 4, *tail = strstr(key, " already exists");

			edu_warn(
			    "stdin:%lu: duplicate keys in the input: %.*s repeats an earlier line",
			    line, (int)(tail ? tail - key : (long)strlen(key)), key);
		} else {
			const char *stage = strstr(prim, "relation \"" STAGE "\"");

			/* Only a key's detail is short and useful; "Failing row contains" is
			 * neither. */
			if (detail && strncmp(detail, "Key ", 4) != 0)
				detail = NULL;
			if (stage)
				edu_warn("stdin:%lu: %.*stable %s%s%s%s", line, (int)(stage - prim),
				         prim, shown_name, stage + strlen("relation \"" STAGE "\""),
				         detail ? ": " : "", detail ? detail : "");
			else
				edu_warn("stdin:%lu: %s%s%s", line, prim, detail ? ": " : "",
				         detail ? detail : "");
		}
		exit(code);
	}
	edu_pg_die(conn, res, "COPY");
}

/* Streams the rows to COPY; returns the row count. */
static unsigned long long copy_rows(struct edu_tsv_reader *r, const char *rel)
{
	struct edu_str s = {0};
	struct edu_progress prog;
	unsigned long long n = 0;
	char *buf = edu_malloc(COPYBUF);
	size_t len = 0;
	PGresult *res;
	int sent = 1;

	edu_str_add(&s, "COPY %s (", rel);
	add_input_cols(&s, r, "");
	edu_str_add(&s, ") FROM STDIN");
	res = PQexec(conn, s.p);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		edu_pg_die(conn, res, "COPY");
	PQclear(res);
	edu_str_free(&s);
	in_copy = 1;
	edu_progress_init(&prog, "rows", opt.progress, 0);
	for (;;) {
		/* Flush whenever the next read could block, so that a slow producer's rows reach
		 * the server (and its errors reach us) without waiting for a full buffer. libpq
		 * keeps a failed write quiet until it has read the server's reason, so read it
		 * now: a server gone mid-load is reported as such (75), not later as whatever
		 * the input does next. */
		if (len > 0 && (len + r->end - r->start > COPYBUF || r->start == r->end)) {
			sent = PQputCopyData(conn, buf, (int)len) == 1 &&
			       (r->start != r->end ||
			        (PQflush(conn) == 0 && PQconsumeInput(conn) == 1));
			len = 0;
			if (!sent)
				break;
		}
		if (!edu_tsv_next(r))
			break;
		if (r->rowlen + 1 > COPYBUF - len) {
			if (len > 0 && !(sent = PQputCopyData(conn, buf, (int)len) == 1))
				break;
			len = 0;
			if (r->rowlen + 1 > COPYBUF) {
				if (!(sent = PQputCopyData(conn, r->row, (int)r->rowlen) == 1 &&
				             PQputCopyData(conn, "\n", 1) == 1))
					break;
				n++;
				continue;
			}
		}
		memcpy(buf + len, r->row, r->rowlen);
		len += r->rowlen;
		buf[len++] = '\n';
		n++;
		edu_progress_add(&prog, 1);
	}
	if (sent && len > 0)
		sent = PQputCopyData(conn, buf, (int)len) == 1;
	free(buf);
	if (sent)
		PQputCopyEnd(conn, NULL);
	in_copy = 0;
	edu_progress_done(&prog);
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		copy_failed(res);
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	if (!sent)
		edu_pg_die(conn, NULL, "COPY");
	return n;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "ad:fg:hk:npqs:Vvw:W", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			opt.append = 1;
			break;
		case 'd':
			opt.conninfo = optarg;
			break;
		case 'f':
			opt.force = 1;
			break;
		case 'g':
			opt.min_pct = edu_strtonum(optarg, 0, 100, "-g");
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'k':
			opt.keys = optarg;
			break;
		case 'n':
			opt.dry = 1;
			break;
		case 'p':
			opt.progress = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			opt.progress = EDU_PROGRESS_OFF;
			break;
		case 's':
			opt.source = optarg;
			break;
		case 'V':
			edu_version();
		case 'v':
			opt.verbose = 1;
			break;
		case 'w':
			opt.scope = optarg;
			break;
		case 'W':
			opt.wait = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind != 1)
		edu_usage(SYNOPSIS, 0);
	if (opt.append && (opt.keys || opt.scope))
		edu_die(EDU_EX_USAGE, "-a appends: it takes neither -k nor -w");
	if (opt.keys && opt.scope)
		edu_die(EDU_EX_USAGE, "-k upserts and -w replaces a scope: choose one");
	if (opt.scope) {
		char *eq = strchr(opt.scope, '=');

		if (eq == NULL || eq == opt.scope)
			edu_die(EDU_EX_USAGE, "-w %s: expected column=value", opt.scope);
		scope_col = edu_strndup(opt.scope, (size_t)(eq - opt.scope));
		scope_val = edu_strdup(eq + 1);
	}
}

int main(int argc, char **argv)
{
	struct edu_tsv_reader r;
	struct timespec t0;
	struct edu_str s = {0}, where = {0}, outside = {0};
	const char *shown, *p[1];
	enum mode mode;
	long long current = 0, ins = 0, upd = 0, del = 0;
	unsigned long long n;
	int nkey = 0, direct;
	PGresult *res;

	edu_setprog(argv[0]);
	parse_args(argc, argv);
	mode = opt.append ? APPEND : opt.keys ? UPSERT : REPLACE;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	edu_tsv_open(&r, 0, "stdin");
	conn = edu_pg_connect(opt.conninfo);
	atexit(abort_load);
	/* Staging lives in temp buffers: give them room before the first temp table. */
	edu_pg_cmd(conn, "SET temp_buffers = '64MB'");
	/* The checks and merges hash a whole input: let them do it in memory. */
	edu_pg_cmd(conn, "SET work_mem = '64MB'");
	edu_pg_cmd(conn, "BEGIN");
	load_catalog(argv[optind], &shown);
	shown_name = shown;

	p[0] = target;
	res = edu_pg_exec(conn,
	                  opt.wait ? "SELECT pg_advisory_xact_lock(hashtext($1)) IS NULL"
	                           : "SELECT NOT pg_try_advisory_xact_lock(hashtext($1))",
	                  1, p);
	if (*PQgetvalue(res, 0, 0) == 't')
		edu_die(EDU_EX_TEMPFAIL,
		        "table %s: another load of this table is running (-W waits for it)", shown);
	PQclear(res);

	match_header(&r, shown);
	if (mode != APPEND)
		nkey = choose_key(target, shown);
	if (scope_col) {
		struct col *c = find_col(scope_col);
		char *lit;

		if (c == NULL || !c->input)
			edu_die(EDU_EX_USAGE, "-w %s: column %s is not in %s", opt.scope, scope_col,
			        c ? "the input" : "the table");
		lit = PQescapeLiteral(conn, scope_val, strlen(scope_val));
		edu_str_add(&where, "%s = %s", c->q, lit);
		/* A value the column's type rejects is a bad -w, not bad input data. */
		edu_str_add(&s, "SELECT 1 FROM %s WHERE %s LIMIT 0", target, where.p);
		res = PQexec(conn, s.p);
		if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(conn) == CONNECTION_OK)
			edu_die(EDU_EX_USAGE, "-w %s: %s", opt.scope,
			        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			edu_pg_die(conn, res, "database");
		PQclear(res);
		/* The key is the table's, not the scope's: an input row whose key belongs to a
		 * row of another scope would move that row into this one. */
		if (nkey > 0 && !c->key) {
			edu_str_add(&outside, "EXISTS (SELECT 1 FROM %s t WHERE ", target);
			add_key_eq(&outside, "t", "s");
			edu_str_add(&outside, " AND NOT (t.%s = %s) IS TRUE)", c->q, lit);
		}
		PQfreemem(lit);
	} else {
		edu_str_add(&where, "true");
	}

	s.len = 0;
	edu_str_add(&s, "SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 1) e", target);
	direct = count_of(s.p) == 0;
	if (mode == REPLACE && !direct) {
		s.len = 0;
		edu_str_add(&s, "SELECT count(*) FROM %s WHERE %s", target, where.p);
		current = count_of(s.p);
	}
	if (!direct) {
		/* The staging table has the target's types, NOT NULLs and CHECKs, so COPY itself
		 * names the line of a bad value, and only the input's columns. */
		s.len = 0;
		edu_str_add(&s,
		            "CREATE TEMP TABLE %s (LIKE %s INCLUDING CONSTRAINTS) ON COMMIT DROP",
		            STAGE, target);
		edu_pg_cmd(conn, s.p);
		s.len = 0;
		for (size_t i = 0; i < ncols; i++)
			if (!cols[i].input)
				edu_str_add(&s, "%s DROP COLUMN %s",
				            s.len ? "," : "ALTER TABLE " STAGE, cols[i].q);
		if (s.len)
			edu_pg_cmd(conn, s.p);
	}
	verbose(&t0, direct ? "table empty: COPY straight into it" : "COPY into a staging table");
	n = copy_rows(&r, direct ? target : STAGE);
	verbose(&t0, "COPY done");

	for (size_t i = 0; i < ncols; i++) {
		if (!cols[i].key || cols[i].notnull)
			continue;
		struct edu_str m = {0};

		s.len = 0;
		edu_str_add(&s, "%s IS NULL", cols[i].q);
		edu_str_add(&m, "column %s: key column is NULL", cols[i].name);
		check_rows(direct ? target : STAGE, s.p, m.p);
		edu_str_free(&m);
	}
	if (nkey > 0 && !direct)
		check_duplicates(STAGE);
	if (scope_col) {
		struct edu_str m = {0};

		s.len = 0;
		edu_str_add(&s, "NOT (%s) IS TRUE", where.p);
		edu_str_add(&m, "column %s: row outside the scope -w %s", scope_col, opt.scope);
		check_rows(direct ? target : STAGE, s.p, m.p);
		m.len = 0;
		edu_str_add(&m,
		            "column %s: its key belongs to a row outside the scope -w %s (a scoped "
		            "replace never moves rows between scopes)",
		            scope_col, opt.scope);
		if (outside.len && !direct)
			check_rows(STAGE, outside.p, m.p);
		edu_str_free(&m);
	}
	if (mode == REPLACE && !opt.force && current > 0 &&
	    (long long)n * 100 < current * opt.min_pct)
		edu_die(EDU_EX_REFUSED,
		        "table %s: refusing to replace %lld rows%s%s with only %llu (below %lld%%; "
		        "-f forces, -g sets the threshold)",
		        shown, current, scope_col ? " in scope " : "", scope_col ? opt.scope : "",
		        n, opt.min_pct);

	if (direct) {
		ins = (long long)n;
	} else if (mode == APPEND) {
		s.len = 0;
		edu_str_add(&s, "WITH i AS (INSERT INTO %s (", target);
		add_input_cols(&s, &r, "");
		edu_str_add(&s, ") SELECT ");
		add_input_cols(&s, &r, "");
		edu_str_add(&s, " FROM %s RETURNING 1) SELECT count(*) FROM i", STAGE);
		ins = count_of(s.p);
	} else if (nkey > 0) {
		if (mode == REPLACE) {
			s.len = 0;
			edu_str_add(&s,
			            "WITH d AS (DELETE FROM %s t WHERE %s AND NOT EXISTS (SELECT 1 "
			            "FROM %s s WHERE ",
			            target, where.p, STAGE);
			add_key_eq(&s, "s", "t");
			edu_str_add(&s, ") RETURNING 1) SELECT count(*) FROM d");
			del = count_of(s.p);
		}
		upsert(&r, &ins, &upd);
	} else if (mode == REPLACE) {
		replace_rows(&r, where.p, &ins, &del);
	}
	verbose(&t0, "merge done");

	if (opt.source)
		record_source(opt.source, n, edu_elapsed(&t0));
	edu_pg_cmd(conn, opt.dry ? "ROLLBACK" : "COMMIT");
	PQfinish(conn);
	conn = NULL;
	printf("table=%s inserted=%lld updated=%lld deleted=%lld unchanged=%lld seconds=%.2f%s\n",
	       shown, ins, upd, del, mode == APPEND ? 0 : (long long)n - ins - upd,
	       edu_elapsed(&t0), opt.dry ? " dry_run=1" : "");
	edu_tsv_close(&r);
	edu_str_free(&s);
	edu_str_free(&where);
	edu_str_free(&outside);
	free(scope_col);
	free(scope_val);
	edu_close_stdout();
	return EDU_EX_OK;
}
