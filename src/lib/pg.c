/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The suite's libpq layer: one way to connect (-d conninfo, $DATABASE_URL, or libpq's own
 * environment), one way to report a server error (one line, "prog: what: message") and one
 * mapping from SQLSTATE to the exit-code table, so that a lost connection is always 75. It
 * never prints a connection string, since one may hold a password.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "edu.h"

static char *last_fatal;

static char *one_line(const char *src);

/*
 * libpq hands a server's FATAL that arrives mid-COPY (a shutdown) to the notice processor, then
 * reports a vaguer "server closed the connection": keep the FATAL for edu_pg_error instead of
 * printing a second line. Real notices are printed in the suite's format.
 */
static void notice(void *arg, const char *msg)
{
	(void)arg;
	if (strncmp(msg, "FATAL:", 6) == 0 || strncmp(msg, "ERROR:", 6) == 0) {
		free(last_fatal);
		last_fatal = one_line(msg);
		return;
	}
	msg = one_line(msg);
	edu_warn("server: %s", msg);
	free((char *)msg);
}

/*
 * What libpq says, before it tries any server, about a connection option it cannot use: a bad
 * sslmode, a port that is not a number, host and hostaddr lists that do not match. PostgreSQL
 * 14 and later put "connection to server at ... failed: " before some of them.
 */
static int option_error(const char *msg)
{
	static const char *const bad[] = {
	    "invalid ",      "could not match ", "could not parse network address",
	    "sslmode value", "gssencmode value", "Unix-domain socket path"};
	const char *p = msg;

	for (;;) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strncmp(p, bad[i], strlen(bad[i])) == 0)
				return 1;
		if ((p = strstr(p, "failed: ")) == NULL)
			return 0;
		p += strlen("failed: ");
	}
}

/*
 * A failed connection is worth a retry when the server could not be reached or was busy; when
 * it answered and refused us (wrong password, no such role or database), or when libpq
 * refused an option of the connection string before trying, retrying every night changes
 * nothing and a person must fix the settings. libpq gives no SQLSTATE for a failed
 * connection, so the server's refusal is told by its FATAL line, the few FATALs that are
 * temporary and libpq's own option errors by their (English: no tool sets a locale) text.
 */
static int connect_status(PGconn *conn)
{
	static const char *const busy[] = {"starting up",       "shutting down",
	                                   "too many clients",  "connection slots are reserved",
	                                   "not yet accepting", "in recovery mode"};
	const char *msg = PQerrorMessage(conn);

	if (PQconnectionNeedsPassword(conn) || option_error(msg))
		return EDU_EX_CONFIG;
	if (strstr(msg, "FATAL:") == NULL)
		return EDU_EX_TEMPFAIL;
	for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (strstr(msg, busy[i]))
			return EDU_EX_TEMPFAIL;
	return EDU_EX_CONFIG;
}

PGconn *edu_pg_connect(const char *conninfo)
{
	const char *keys[3], *vals[3];
	PQconninfoOption *opts;
	char *err = NULL;
	PGconn *conn;
	int n = 0;

	if (conninfo == NULL || *conninfo == '\0')
		conninfo = getenv("DATABASE_URL");
	if (conninfo != NULL && *conninfo != '\0') {
		/* libpq's parse errors quote the string, password included: say less. */
		opts = PQconninfoParse(conninfo, &err);
		if (opts == NULL)
			edu_die(EDU_EX_CONFIG,
			        "database: invalid connection string (-d or DATABASE_URL)");
		PQconninfoFree(opts);
		keys[n] = "dbname";
		vals[n++] = conninfo;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = edu_prog;
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		edu_die(EDU_EX_OSERR, "database: out of memory");
	if (PQstatus(conn) != CONNECTION_OK)
		edu_die(connect_status(conn), "database: cannot connect: %s",
		        edu_pg_error(conn, NULL));
	PQsetNoticeProcessor(conn, notice, NULL);
	return conn;
}

int edu_pg_exitcode(PGconn *conn, const PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	/* A server gone in the middle of a COPY (a crash, an immediate shutdown) comes back as an
	 * error without SQLSTATE on a connection libpq still calls open: reading from it tells. */
	if (st == NULL && PQstatus(conn) == CONNECTION_OK)
		PQconsumeInput(conn);
	if (PQstatus(conn) == CONNECTION_BAD)
		return EDU_EX_TEMPFAIL;
	if (st == NULL)
		return EDU_EX_UNAVAILABLE;
	/* Retryable: connection, shutdown, cancel/timeout, serialization, locks, resources. */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 || strncmp(st, "40", 2) == 0 ||
	    strncmp(st, "53", 2) == 0 || strcmp(st, "55P03") == 0)
		return EDU_EX_TEMPFAIL;
	if (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0)
		return EDU_EX_DATAERR;
	return EDU_EX_UNAVAILABLE;
}

const char *edu_pg_error(PGconn *conn, const PGresult *res)
{
	static char *msg;
	const char *src = res ? PQresultErrorMessage(res) : NULL;

	if (src == NULL || *src == '\0')
		src = PQerrorMessage(conn);
	if (PQstatus(conn) == CONNECTION_BAD && last_fatal != NULL)
		src = last_fatal;
	if (src == NULL || *src == '\0')
		src = "unknown error";
	free(msg);
	msg = one_line(src);
	return msg;
}

/* A multi-line libpq message (DETAIL, HINT, "Is the server running") on one line. */
static char *one_line(const char *src)
{
	char *msg = edu_malloc(strlen(src) + 1);
	size_t j = 0;

	for (const char *p = src; *p; p++) {
		if (*p == '\n' || *p == '\t') {
			while (p[1] == '\n' || p[1] == '\t' || p[1] == ' ')
				p++;
			if (p[1] != '\0' && j > 0 && msg[j - 1] != ' ')
				msg[j++] = ' ';
			continue;
		}
		msg[j++] = *p;
	}
	while (j > 0 && msg[j - 1] == ' ')
		j--;
	msg[j] = '\0';
	/* "ERROR:  x" is noise on a line that already says which program failed. */
	if (strncmp(msg, "ERROR:  ", 8) == 0)
		memmove(msg, msg + 8, j - 7);
	return msg;
}

void edu_pg_die(PGconn *conn, PGresult *res, const char *what)
{
	/* Through edu_die, so that an exit hook knows the status (edu_die_status). */
	edu_die(edu_pg_exitcode(conn, res), "%s: %s", what, edu_pg_error(conn, res));
}

PGresult *edu_pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		edu_pg_die(conn, res, "database");
	return res;
}

void edu_pg_cmd(PGconn *conn, const char *sql)
{
	PQclear(edu_pg_exec(conn, sql, 0, NULL));
}

char *edu_pg_ident(PGconn *conn, const char *name)
{
	char *q = PQescapeIdentifier(conn, name, strlen(name));
	char *copy;

	if (q == NULL)
		edu_die(EDU_EX_DATAERR, "identifier '%s': %s", name, edu_pg_error(conn, NULL));
	copy = edu_strdup(q);
	PQfreemem(q);
	return copy;
}
