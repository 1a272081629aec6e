/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-pgcopy's partition swap: a scope that is a partition (a year of dvf_mutations), replaced
 * without a key and rewritten whole, becomes a new partition instead of being deleted and
 * inserted row by row through its indexes: the staged rows go into a shadow table without
 * indexes, its indexes are built after them, and it takes the old partition's place in one
 * short step that waits for its lock on the table at most -P milliseconds, a few times. All of
 * it in the load's transaction, in a savepoint: when the lock cannot be had (or anything else
 * fails but the connection), the savepoint is rolled back and the caller rewrites in place.
 * The DDL is in SQL functions (sql/012) that run as their owner; nothing here names a catalog.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edu-pgcopy.h"

/* The SQLSTATE of a lock not had within lock_timeout. */
#define LOCK_NOT_AVAILABLE "55P03"
/* The longest sleep between two tries, in ms. */
#define MAX_BACKOFF 30000

static PGresult *exec(const struct pgcopy_load *L, const char *sql, int nparams,
                      const char *const *p)
{
	return PQexecParams(L->conn, sql, nparams, NULL, p, NULL, NULL, 0);
}

/* Runs sql; returns 1 on success. On an error, keeps it in *why (unless why is NULL) and returns
 * 0; a lost connection is fatal, as on every other path. */
static int try_exec(struct pgcopy_load *L, const char *sql, int nparams, const char *const *p,
                    PGresult **out, char **why)
{
	PGresult *res = exec(L, sql, nparams, p);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return 1;
	}
	if (PQstatus(L->conn) != CONNECTION_OK)
		edu_pg_die(L->conn, res, "partition swap");
	if (why != NULL) {
		free(*why);
		*why = edu_strdup(edu_pg_error(L->conn, res));
	}
	PQclear(res);
	return 0;
}

static int lock_missed(const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st != NULL && strcmp(st, LOCK_NOT_AVAILABLE) == 0;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * The swap itself, tried once and then -P's retries more times, sleeping the bound, then twice,
 * four times as long between tries. Returns 1 when swapped; else 0 with the reason in *why.
 */
static int attach(struct pgcopy_load *L, const char *shadow, char **why)
{
	char ms[24];
	const char *p[4] = {shadow, L->oid, L->scope_canon, ms};
	long long backoff = L->swap_ms;
	PGresult *res;

	snprintf(ms, sizeof(ms), "%lld", L->swap_ms);
	for (long long i = 0; i <= L->swap_retries; i++) {
		if (i > 0) {
			sleep_ms(backoff);
			backoff = backoff * 2 > MAX_BACKOFF ? MAX_BACKOFF : backoff * 2;
		}
		edu_pg_cmd(L->conn, "SAVEPOINT edu_swap_try");
		res = exec(L,
		           "SELECT edu_partition_swap($1::regclass, $2::oid::regclass, $3, "
		           "$4::integer)",
		           4, p);
		if (PQresultStatus(res) == PGRES_TUPLES_OK) {
			PQclear(res);
			edu_pg_cmd(L->conn, "RELEASE SAVEPOINT edu_swap_try");
			if (L->verbose)
				edu_warn("partition swapped (try %lld of %lld, %.2fs)", i + 1,
				         L->swap_retries + 1, edu_elapsed(&L->t0));
			return 1;
		}
		if (PQstatus(L->conn) != CONNECTION_OK)
			edu_pg_die(L->conn, res, "partition swap");
		if (!lock_missed(res)) {
			*why = edu_strdup(edu_pg_error(L->conn, res));
			PQclear(res);
			return 0;
		}
		PQclear(res);
		edu_pg_cmd(L->conn, "ROLLBACK TO SAVEPOINT edu_swap_try");
	}
	*why = edu_malloc(128);
	snprintf(*why, 128, "its lock on the table not had in %lld %s of %lld ms",
	         L->swap_retries + 1, L->swap_retries ? "tries" : "try", L->swap_ms);
	return 0;
}

/* Fills the shadow with the staged rows and builds its indexes. */
static int fill(struct pgcopy_load *L, const char *shadow, char **why)
{
	struct edu_str s = {0};
	const char *p[2] = {shadow, L->oid};
	PGresult *res;
	int ok;

	edu_str_add(&s, "INSERT INTO %s (", shadow);
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, ") SELECT ");
	pgcopy_add_input_cols(L, &s, "");
	edu_str_add(&s, " FROM %s", PGCOPY_STAGE);
	ok = try_exec(L, s.p, 0, NULL, &res, why);
	edu_str_free(&s);
	if (!ok)
		return 0;
	L->ins = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	pgcopy_verbose(L, "shadow partition filled");
	if (!try_exec(L, "SELECT edu_partition_index($1::regclass, $2::oid::regclass)", 2, p, NULL,
	              why))
		return 0;
	pgcopy_verbose(L, "shadow partition indexed");
	return 1;
}

/*
 * Replaces the scope's partition by a new one holding the staged rows: returns 1 when done (the
 * counts set), 0 when the caller must rewrite the partition in place (said on stderr, unless
 * the swap was not for this load: no partition, a key, -P 0, a dry run, no row).
 */
int pgcopy_swap(struct pgcopy_load *L)
{
	const char *p[2] = {L->oid, L->scope_canon};
	PGresult *res;
	char *shadow = NULL, *why = NULL;
	int done = 0;

	if (L->part == NULL || L->nkey > 0 || L->swap_ms == 0 || L->dry || L->rows == 0)
		return 0;
	edu_pg_cmd(L->conn, "SAVEPOINT edu_swap");
	if (try_exec(L, "SELECT edu_partition_shadow($1::oid::regclass, $2)", 2, p, &res, &why)) {
		shadow = edu_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		done = fill(L, shadow, &why) && attach(L, shadow, &why);
	}
	if (done) {
		edu_pg_cmd(L->conn, "RELEASE SAVEPOINT edu_swap");
		L->del = L->current;
	} else {
		L->ins = 0;
		edu_pg_cmd(L->conn, "ROLLBACK TO SAVEPOINT edu_swap");
		edu_pg_cmd(L->conn, "RELEASE SAVEPOINT edu_swap");
		edu_warn(
		    "table %s: -w %s: no partition swap (%s): rewriting the partition in place",
		    L->shown, L->scope, why ? why : "unknown reason");
	}
	free(shadow);
	free(why);
	return done;
}
