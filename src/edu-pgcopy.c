/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy: loads a contract stream into one table in one transaction: COPY into a staging
 * table (or straight into the table when it, or the scope, is empty), checks, then append,
 * upsert, replace or replace within a scope, writing only the rows that differ. With -s the run
 * goes into the monitoring history: in the load's transaction, or after the rollback of a
 * failure or a dry run. Rows are passed to the server still escaped, as read. It never converts
 * values or coordinates (the database does), and it never commits a stream that lacked its
 * end-of-data line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "edu.h"
#include "edu-pgcopy.h"

#define SYNOPSIS                                                                                   \
	"edu-pgcopy [-afhnpqVvW] [-d conninfo] [-g percent] [-k column,...] [-L column]\n"         \
	"       [-P ms[,retries]] [-s unit] [-T seconds] [-w column=value] table"

#define COPYBUF (1024 * 1024)
/* What COPY's scope guard raises for a row outside the scope, recognised in its error. */
#define OUTSIDE_MARK "edu-pgcopy: outside the scope"

/* The load that the exit hook rolls back and records (atexit passes no argument). */
static struct pgcopy_load *active;
static int finished;

void pgcopy_verbose(const struct pgcopy_load *L, const char *what)
{
	if (L->verbose)
		edu_warn("%s (%.2fs)", what, edu_elapsed(&L->t0));
}

/* -P ms[,retries]: the partition swap's bound on its lock wait, and its retries. */
static void parse_swap(struct pgcopy_load *L, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char *ms = edu_strndup(arg, comma ? (size_t)(comma - arg) : strlen(arg));

	L->swap_ms = edu_strtonum(ms, 0, 600000, "-P");
	if (comma)
		L->swap_retries = edu_strtonum(comma + 1, 0, 100, "-P retries");
	free(ms);
}

/* What the options mean together: the mode, the unit and the -w scope, checked. */
static void check_args(struct pgcopy_load *L)
{
	if (L->append && (L->keys || L->scope))
		edu_die(EDU_EX_USAGE, "-a appends: it takes neither -k nor -w");
	if (L->keys && L->scope)
		edu_die(EDU_EX_USAGE, "-k upserts and -w replaces a scope: choose one");
	/* A unit is a source id, or a source id and a year: "ivac", "dvf:2023" (sql/005). */
	if (L->unit) {
		size_t idlen;

		edu_unit_year(L->unit, &idlen);
		if (!edu_id_valid(L->unit, idlen))
			edu_die(EDU_EX_USAGE, "-s %s: not a unit (a source id, or id:YYYY)",
			        L->unit);
	}
	if (L->scope) {
		char *eq = strchr(L->scope, '=');

		if (eq == NULL || eq == L->scope)
			edu_die(EDU_EX_USAGE, "-w %s: expected column=value", L->scope);
		L->scope_name = edu_strndup(L->scope, (size_t)(eq - L->scope));
		L->scope_val = edu_strdup(eq + 1);
	}
	L->mode = L->append ? PGCOPY_APPEND : L->keys ? PGCOPY_UPSERT : PGCOPY_REPLACE;
}

/* getopt's switch: one case per option, hence its length. */
static void parse_args(struct pgcopy_load *L, int argc, char **argv)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	L->min_pct = 50;
	L->lock_timeout = -1;
	L->swap_ms = PGCOPY_SWAP_MS;
	L->swap_retries = PGCOPY_SWAP_RETRIES;
	L->progress = EDU_PROGRESS_AUTO;
	while ((c = getopt_long(argc, argv, "ad:fg:hk:L:nP:pqs:T:VvWw:", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			L->append = 1;
			break;
		case 'd':
			L->conninfo = optarg;
			break;
		case 'f':
			L->force = 1;
			break;
		case 'g':
			L->min_pct = edu_strtonum(optarg, 0, 100, "-g");
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'k':
			L->keys = optarg;
			break;
		case 'L':
			L->label = optarg;
			break;
		case 'n':
			L->dry = 1;
			break;
		case 'P':
			parse_swap(L, optarg);
			break;
		case 'p':
			L->progress = EDU_PROGRESS_FORCE;
			break;
		case 'q':
			L->progress = EDU_PROGRESS_OFF;
			break;
		case 's':
			L->unit = optarg;
			break;
		case 'T':
			L->lock_timeout = edu_strtonum(optarg, 0, 86400, "-T");
			break;
		case 'V':
			edu_version();
		case 'v':
			L->verbose = 1;
			break;
		case 'W':
			L->wait = 1;
			break;
		case 'w':
			L->scope = optarg;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind != 1)
		edu_usage(SYNOPSIS, 0);
	L->table = argv[optind];
	check_args(L);
}
/* The run's history row; the caller checks the result. NULL outcome: the load committed. */
/* The input rows the load left as they were; an append compares nothing. */
static long long unchanged(const struct pgcopy_load *L)
{
	return L->mode == PGCOPY_APPEND ? 0 : (long long)L->rows - L->ins - L->upd;
}

static PGresult *record(const struct pgcopy_load *L, const char *outcome, int status,
                        const char *diag)
{
	char n[4][24], secs[32], st[16];
	const char *job = getenv("EDU_RUN_ID"), *p[12];
	long long v[4] = {L->ins, L->upd, L->del, unchanged(L)};
	int failed = outcome != NULL && strcmp(outcome, "failed") == 0;

	for (int i = 0; i < 4; i++)
		snprintf(n[i], sizeof(n[i]), "%lld", v[i]);
	snprintf(secs, sizeof(secs), "%.3f", edu_elapsed(&L->t0));
	snprintf(st, sizeof(st), "%d", status);
	if (job != NULL && *job == '\0')
		job = NULL;
	if (outcome == NULL) {
		const char *q[10] = {L->unit, L->started, n[0], n[1],        n[2],
		                     n[3],    secs,       job,  L->new_keys, L->removed_keys};

		return PQexecParams(
		    L->conn,
		    "SELECT monitoring.imported($1, $2::timestamptz, $3::bigint, "
		    "$4::bigint, $5::bigint, $6::bigint, $7::float8, $8, $9::text[], "
		    "$10::text[])",
		    10, NULL, q, NULL, NULL, 0);
	}
	p[0] = L->unit;
	p[1] = L->started;
	p[2] = outcome;
	p[3] = st;
	p[4] = diag;
	for (int i = 0; i < 4; i++)
		p[5 + i] = failed ? NULL : n[i];
	p[9] = job;
	p[10] = failed ? NULL : L->new_keys;
	p[11] = failed ? NULL : L->removed_keys;
	return PQexecParams(L->conn,
	                    "SELECT monitoring.attempt($1, 'load', $2::timestamptz, $3, "
	                    "$4::integer, $5, $6::bigint, $7::bigint, $8::bigint, $9::bigint, $10, "
	                    "$11::text[], $12::text[])",
	                    12, NULL, p, NULL, NULL, 0);
}

/*
 * At exit before the end (a truncated input, a bad row, a refusal): roll back explicitly, then,
 * with -s and the connection still up, record the failure; not exit 79, whose cause is an
 * upstream stage that the pipeline script records. It must not exit: it runs inside exit.
 */
static void end_failed(void)
{
	struct pgcopy_load *L = active;
	PGresult *res;
	int status = edu_die_status();

	if (L == NULL || L->conn == NULL)
		return;
	if (!finished) {
		if (L->in_copy)
			PQputCopyEnd(L->conn, "edu-pgcopy: load aborted");
		while ((res = PQgetResult(L->conn)) != NULL)
			PQclear(res);
		if (L->in_txn)
			PQclear(PQexec(L->conn, "ROLLBACK"));
		if (L->unit && status != EDU_EX_TRUNCATED && PQstatus(L->conn) == CONNECTION_OK) {
			res = record(L, "failed", status ? status : EDU_EX_SOFTWARE,
			             edu_first_diag());
			if (PQresultStatus(res) != PGRES_TUPLES_OK)
				edu_warn("monitoring: cannot record the failure: %s",
				         edu_pg_error(L->conn, res));
			PQclear(res);
		}
	}
	PQfinish(L->conn);
	L->conn = NULL;
}

/* The clock, the input's header, the connection, the exit hook. */
static void start(struct pgcopy_load *L)
{
	clock_gettime(CLOCK_MONOTONIC, &L->t0);
	edu_now_utc(L->started, sizeof(L->started));
	edu_tsv_open(&L->in, 0, "stdin");
	L->conn = edu_pg_connect(L->conninfo);
	active = L;
	atexit(end_failed);
	/* Staging lives in temp buffers: give them room before the first temp table. */
	edu_pg_cmd(L->conn, "SET temp_buffers = '64MB'");
	/* The checks and merges hash a whole input: let them do it in memory. */
	edu_pg_cmd(L->conn, "SET work_mem = '64MB'");
	/* A table held by another session (a migration, a long transaction) must not stall the
	 * nightly job, and the next runs behind its lock, without end: past the bound the load
	 * fails with 75 and is recorded. A bound the role or PGOPTIONS sets is kept. */
	if (L->lock_timeout >= 0) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SET lock_timeout = '%llds'", L->lock_timeout);
		edu_pg_cmd(L->conn, sql);
	} else {
		edu_pg_cmd(L->conn,
		           "SELECT set_config('lock_timeout', '" PGCOPY_LOCK_TIMEOUT "', false) "
		           "WHERE current_setting('lock_timeout') = '0'");
	}
}

/* Takes an advisory lock (sql: $1 the table, $2 the scope's key, if nparams is 2); dies when
 * busy. */
static void lock(struct pgcopy_load *L, const char *sql, int nparams)
{
	const char *p[2] = {L->table_q, L->scope_key};
	PGresult *res = edu_pg_exec(L->conn, sql, nparams, p);

	if (*PQgetvalue(res, 0, 0) == 't') {
		if (L->scope)
			edu_die(EDU_EX_TEMPFAIL,
			        "table %s: another load of this table is running, of the scope -w "
			        "%s or of the whole table (-W waits for it)",
			        L->shown, L->scope);
		edu_die(EDU_EX_TEMPFAIL,
		        "table %s: another load of this table is running (-W waits for it)",
		        L->shown);
	}
	PQclear(res);
}

/*
 * The load's transaction and its locks, on the table's qualified name: a whole-table load
 * takes it alone; a scoped load shares it with the loads of other scopes and takes its scope
 * alone, so years load in parallel and a whole-table load waits for all of them.
 */
static void begin(struct pgcopy_load *L)
{
	edu_pg_cmd(L->conn, "BEGIN");
	L->in_txn = 1;
	/* A merge join sorts both sides whole: hash joins stay linear and spill in batches. */
	edu_pg_cmd(L->conn, "SET LOCAL enable_mergejoin = off");
	if (L->scope == NULL) {
		lock(L,
		     L->wait ? "SELECT pg_advisory_xact_lock(hashtext($1)) IS NULL"
		             : "SELECT NOT pg_try_advisory_xact_lock(hashtext($1))",
		     1);
		return;
	}
	lock(L,
	     L->wait ? "SELECT pg_advisory_xact_lock_shared(hashtext($1)) IS NULL"
	             : "SELECT NOT pg_try_advisory_xact_lock_shared(hashtext($1))",
	     1);
	lock(L,
	     L->wait ? "SELECT pg_advisory_xact_lock(hashtext($1), $2::integer) IS NULL"
	             : "SELECT NOT pg_try_advisory_xact_lock(hashtext($1), $2::integer)",
	     2);
}

/* Reports a COPY that failed at an input line: column and value when the server names them. */
static _Noreturn void copy_failed_at(const struct pgcopy_load *L, PGresult *res, unsigned long line,
                                     const char *end)
{
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *p;
	int code = edu_pg_exitcode(L->conn, res);

	if (strstr(prim, OUTSIDE_MARK) != NULL)
		edu_die(EDU_EX_DATAERR, "stdin:%lu: column %s: row outside the scope -w %s", line,
		        L->scope_name, L->scope);
	if (strncmp(end, ", column ", 9) == 0) {
		const char *name = end + 9, *colon = strstr(name, ": ");
		const char *val = colon ? colon + 2 : "";
		size_t vn = strcspn(val, "\n");

		if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"')
			val++, vn -= 2;
		edu_die(code, "stdin:%lu: column %.*s: '%.*s': %s", line,
		        (int)(colon ? colon - name : (long)strlen(name)), name, (int)vn, val, prim);
	}
	if (detail && strncmp(detail, "Key ", 4) == 0 && state && strcmp(state, "23505") == 0) {
		/* Only a direct COPY runs under a unique index (staging has none), into a table
		 * that was empty, so the earlier row with this key came from the input itself.
		 * Say it in the same words as the staging path's check. */
		const char *key = detail + 4, *tail = strstr(key, " already exists");

		edu_die(code,
		        "stdin:%lu: duplicate keys in the input: %.*s repeats an earlier line",
		        line, (int)(tail ? tail - key : (long)strlen(key)), key);
	}
	/* Only a key's detail is short and useful; "Failing row contains" is neither. */
	if (detail && strncmp(detail, "Key ", 4) != 0)
		detail = NULL;
	if ((p = strstr(prim, "relation \"" PGCOPY_STAGE "\"")) != NULL)
		edu_die(code, "stdin:%lu: %.*stable %s%s%s%s", line, (int)(p - prim), prim,
		        L->shown, p + strlen("relation \"" PGCOPY_STAGE "\""), detail ? ": " : "",
		        detail ? detail : "");
	edu_die(code, "stdin:%lu: %s%s%s", line, prim, detail ? ": " : "", detail ? detail : "");
}

/* Reports a failed COPY, with its input line when the server says which. */
static _Noreturn void copy_failed(const struct pgcopy_load *L, PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *p = ctx ? strstr(ctx, ", line ") : NULL;
	char *end;

	if (p != NULL && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) != NULL) {
		unsigned long line = strtoul(p + 7, &end, 10) + 1;

		copy_failed_at(L, res, line, end);
	}
	edu_pg_die(L->conn, res, "COPY");
}

/* COPY rel (the input's columns) FROM STDIN, begun. */
static void start_copy(struct pgcopy_load *L, const char *rel)
{
	struct edu_str s = {0};
	PGresult *res;

	edu_str_add(&s, "COPY %s (", rel);
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, ") FROM STDIN");
	/* Straight into a scope of the table: a row outside it stops COPY at its line. The
	 * guard's text depends on the row, so that it is never evaluated ahead of time. */
	if (L->direct && L->scope_col)
		edu_str_add(&s,
		            " WHERE CASE WHEN (%s) IS TRUE THEN true ELSE (coalesce(%s::text, '') "
		            "|| ' " OUTSIDE_MARK "')::integer IS NULL END",
		            L->where.p, L->scope_col->q);
	res = PQexec(L->conn, s.p);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		edu_pg_die(L->conn, res, "COPY");
	PQclear(res);
	edu_str_free(&s);
}

/* The input's rows to the COPY, in batches of COPYBUF bytes; *sent is 0 when a write failed. */
static unsigned long long send_rows(struct pgcopy_load *L, int *sent)
{
	struct edu_tsv_reader *r = &L->in;
	struct edu_progress prog;
	unsigned long long n = 0;
	char *buf = edu_malloc(COPYBUF);
	size_t len = 0;

	*sent = 1;
	edu_progress_init(&prog, "rows", L->progress, 0);
	for (;;) {
		/* Flush whenever the next read could block, so that a slow producer's rows reach
		 * the server (and its errors reach us) without waiting for a full buffer. libpq
		 * keeps a failed write quiet until it has read the server's reason, so read it
		 * now: a server gone mid-load is reported as such (75), not later as whatever
		 * the input does next. */
		if (len > 0 && (len + r->end - r->start > COPYBUF || r->start == r->end)) {
			*sent = PQputCopyData(L->conn, buf, (int)len) == 1 &&
			        (r->start != r->end ||
			         (PQflush(L->conn) == 0 && PQconsumeInput(L->conn) == 1));
			len = 0;
			if (!*sent)
				break;
		}
		if (!edu_tsv_next(r))
			break;
		if (r->rowlen + 1 > COPYBUF - len) {
			if (len > 0 && !(*sent = PQputCopyData(L->conn, buf, (int)len) == 1))
				break;
			len = 0;
			if (r->rowlen + 1 > COPYBUF) {
				if (!(*sent = PQputCopyData(L->conn, r->row, (int)r->rowlen) == 1 &&
				              PQputCopyData(L->conn, "\n", 1) == 1))
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
	if (*sent && len > 0)
		*sent = PQputCopyData(L->conn, buf, (int)len) == 1;
	free(buf);
	edu_progress_done(&prog);
	return n;
}

/* Streams the rows to COPY; returns the row count. */
static unsigned long long copy_rows(struct pgcopy_load *L, const char *rel)
{
	unsigned long long n;
	PGresult *res;
	int sent;

	start_copy(L, rel);
	L->in_copy = 1;
	n = send_rows(L, &sent);
	if (sent)
		PQputCopyEnd(L->conn, NULL);
	L->in_copy = 0;
	res = PQgetResult(L->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		copy_failed(L, res);
	PQclear(res);
	while ((res = PQgetResult(L->conn)) != NULL)
		PQclear(res);
	if (!sent)
		edu_pg_die(L->conn, NULL, "COPY");
	return n;
}

/*
 * The rows go straight into the table when it is empty, or for a replace without a key when
 * the scope is: nothing to compare. Otherwise into a staging table that has the target's
 * types, NOT NULLs and CHECKs, so COPY itself names the line of a bad value, and only the
 * input's columns.
 */
static void stage(struct pgcopy_load *L)
{
	struct edu_str s = {0};

	if (L->scope_col == NULL)
		L->direct = !pgcopy_any(L, L->target, NULL);
	else if (L->mode == PGCOPY_REPLACE && L->nkey == 0)
		L->direct = !pgcopy_any(L, L->target, L->where.p);
	else
		L->direct = 0;
	if (!L->direct) {
		edu_str_add(&s,
		            "CREATE TEMP TABLE %s (LIKE %s INCLUDING CONSTRAINTS) ON COMMIT DROP",
		            PGCOPY_STAGE, L->target);
		edu_pg_cmd(L->conn, s.p);
		s.len = 0;
		for (size_t i = 0; i < L->ncols; i++)
			if (!L->cols[i].input)
				edu_str_add(&s, "%s DROP COLUMN %s",
				            s.len ? "," : "ALTER TABLE " PGCOPY_STAGE,
				            L->cols[i].q);
		if (s.len)
			edu_pg_cmd(L->conn, s.p);
	}
	pgcopy_verbose(L, !L->direct     ? "COPY into a staging table"
	                  : L->scope_col ? "scope empty: COPY straight into the table"
	                                 : "table empty: COPY straight into it");
	L->rows = copy_rows(L, L->direct ? L->target : PGCOPY_STAGE);
	/* Row counts for the planner of the joins on a key: without them it guesses, and may sort
	 * what it could hash. A load without a key joins nothing to the staged rows. */
	if (!L->direct && L->nkey > 0)
		edu_pg_cmd(L->conn, "ANALYZE " PGCOPY_STAGE);
	pgcopy_verbose(L, "COPY done");
	edu_str_free(&s);
}

/* The shrink guard: a replace never empties most of a table (or scope) by accident. */
static void guard(const struct pgcopy_load *L)
{
	if (L->mode == PGCOPY_REPLACE && !L->force && L->current > 0 &&
	    (long long)L->rows * 100 < L->current * L->min_pct)
		edu_die(EDU_EX_REFUSED,
		        "table %s: refusing to replace %lld rows%s%s with only %llu (below %lld%%; "
		        "-f forces, -g sets the threshold)",
		        L->shown, L->current, L->scope ? " in scope " : "",
		        L->scope ? L->scope : "", L->rows, L->min_pct);
}

/* -v: the keys of a text[] literal, one line each. */
static void show_keys(const struct pgcopy_load *L, const char *what, const char *keys)
{
	PGresult *res;

	if (!L->verbose || keys == NULL)
		return;
	res = edu_pg_exec(L->conn, "SELECT unnest($1::text[])", 1, &keys);
	for (int i = 0; i < PQntuples(res); i++)
		edu_warn("%s: %s", what, PQgetvalue(res, i, 0));
	PQclear(res);
}

/* Records, commits (or rolls back a dry run and records it), then says what was done. */
static void finish(struct pgcopy_load *L)
{
	PGresult *res;

	if (L->unit && !L->dry) {
		res = record(L, NULL, 0, NULL);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			edu_pg_die(L->conn, res, "monitoring");
		PQclear(res);
	}
	edu_pg_cmd(L->conn, L->dry ? "ROLLBACK" : "COMMIT");
	finished = 1;
	if (L->unit && L->dry) {
		res = record(L, "dry-run", EDU_EX_OK, NULL);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			edu_pg_die(L->conn, res, "monitoring");
		PQclear(res);
	}
	printf("table=%s inserted=%lld updated=%lld deleted=%lld unchanged=%lld seconds=%.2f%s\n",
	       L->shown, L->ins, L->upd, L->del, unchanged(L), edu_elapsed(&L->t0),
	       L->dry ? " dry_run=1" : "");
	show_keys(L, "new key", L->new_keys);
	show_keys(L, "removed key", L->removed_keys);
	PQfinish(L->conn);
	L->conn = NULL;
}

int main(int argc, char **argv)
{
	static struct pgcopy_load load;

	edu_setprog(argv[0]);
	parse_args(&load, argc, argv);
	start(&load);
	pgcopy_resolve(&load);
	pgcopy_ensure_partition(&load);
	begin(&load);
	stage(&load);
	pgcopy_check(&load);
	pgcopy_measure(&load);
	guard(&load);
	pgcopy_merge(&load);
	finish(&load);
	edu_close_stdout();
	return EDU_EX_OK;
}
