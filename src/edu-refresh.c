/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-refresh: refreshes materialized views, the named ones or (-t) every one that depends on a
 * table, found in the catalog through plain views and other materialized views, in dependency
 * order. Each refresh is its own transaction, CONCURRENTLY when the view is populated and has
 * a unique index, so readers keep the previous contents until it commits. It stops at the
 * first failure: the views after it may depend on the one that failed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "edu.h"

#define SYNOPSIS                                                                                   \
	"edu-refresh [-hnVv] [-d conninfo] [-T seconds] view ...\n"                                \
	"       edu-refresh [-hnVv] [-d conninfo] [-T seconds] -t table"

/* A view can be refreshed CONCURRENTLY only with a plain unique index over all its rows. */
#define COLS                                                                                       \
	"n.nspname, c.relname, c.relkind, c.relispopulated AND EXISTS (SELECT 1 FROM pg_index i "  \
	"WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL "       \
	"AND i.indexprs IS NULL)"

/* Longest path from the table first: a valid order for a DAG, since a view is always at
 * least one step further than everything it reads. Each step goes through a rewrite rule. */
#define DEPENDENTS                                                                                 \
	"WITH RECURSIVE dep (oid, depth) AS ( "                                                    \
	"  SELECT $1::regclass::oid, 0 "                                                           \
	"  UNION ALL "                                                                             \
	"  SELECT r.ev_class, dep.depth + 1 FROM dep "                                             \
	"  JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = dep.oid "      \
	"   AND d.classid = 'pg_rewrite'::regclass "                                               \
	"  JOIN pg_rewrite r ON r.oid = d.objid AND r.ev_class <> dep.oid "                        \
	"  WHERE dep.depth < 64) "                                                                 \
	"SELECT " COLS " FROM (SELECT oid, max(depth) AS depth FROM dep WHERE depth > 0 "          \
	"  GROUP BY oid) x JOIN pg_class c ON c.oid = x.oid "                                      \
	"JOIN pg_namespace n ON n.oid = c.relnamespace "                                           \
	"WHERE c.relkind = 'm' ORDER BY x.depth, n.nspname, c.relname"

static struct {
	const char *conninfo, *table;
	int dry, verbose;
	long long lock_timeout;
} opt = {.lock_timeout = 30};

/* Runs a catalog query on a name given by the user: one that does not parse ("a b" unquoted)
 * is a wrong name, like one that does not exist. */
static PGresult *lookup(PGconn *conn, const char *sql, const char *name, const char *what)
{
	const char *p[1] = {name};
	PGresult *res = PQexecParams(conn, sql, 1, NULL, p, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(conn) == CONNECTION_OK)
		edu_die(EDU_EX_CONFIG, "%s: %s: %s", name, what,
		        PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		edu_pg_die(conn, res, "database");
	return res;
}

static void refresh(PGconn *conn, const char *nsp, const char *rel, int concurrently)
{
	struct timespec t0;
	char *qn = edu_pg_ident(conn, nsp), *qr = edu_pg_ident(conn, rel);
	struct edu_str sql = {0}, what = {0};
	const char *shown = strcmp(nsp, "public") == 0 ? rel : NULL;
	PGresult *res;

	if (shown == NULL) {
		edu_str_add(&what, "%s.%s", nsp, rel);
		shown = what.p;
	}
	edu_str_add(&sql, "REFRESH MATERIALIZED VIEW %s%s.%s", concurrently ? "CONCURRENTLY " : "",
	            qn, qr);
	if (opt.verbose)
		edu_warn("%s", sql.p);
	if (opt.dry) {
		printf("view=%s mode=%s dry_run=1\n", shown,
		       concurrently ? "concurrently" : "plain");
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		res = PQexec(conn, sql.p);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			edu_warn("%s: refresh failed, previous contents kept: %s", shown,
			         edu_pg_error(conn, res));
			exit(edu_pg_exitcode(conn, res));
		}
		PQclear(res);
		printf("view=%s mode=%s seconds=%.2f\n", shown,
		       concurrently ? "concurrently" : "plain", edu_elapsed(&t0));
	}
	/* Each line reaches a reader (a log, edu-notify) as soon as its view is done. */
	edu_flush_stdout();
	free(qn);
	free(qr);
	edu_str_free(&sql);
	edu_str_free(&what);
}

/* getopt's switch, one case per option; the views named are left in argv from optind on. */
static void parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "d:hnT:t:Vv", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			opt.conninfo = optarg;
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'n':
			opt.dry = 1;
			break;
		case 'T':
			opt.lock_timeout = edu_strtonum(optarg, 0, 86400, "-T");
			break;
		case 't':
			opt.table = optarg;
			break;
		case 'V':
			edu_version();
		case 'v':
			opt.verbose = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if ((opt.table != NULL) == (argc > optind))
		edu_usage(SYNOPSIS, 0);
}

/* -t: every materialized view that depends on the table, in dependency order. */
static void refresh_dependents(PGconn *conn)
{
	const char *p[1] = {opt.table};
	PGresult *res =
	    lookup(conn, "SELECT to_regclass($1) IS NULL", opt.table, "no such table or view");

	if (*PQgetvalue(res, 0, 0) == 't')
		edu_die(EDU_EX_CONFIG, "table %s: no such table or view", opt.table);
	PQclear(res);
	res = edu_pg_exec(conn, DEPENDENTS, 1, p);
	if (opt.verbose)
		edu_warn("%s: %d materialized views depend on it", opt.table, PQntuples(res));
	for (int i = 0; i < PQntuples(res); i++)
		refresh(conn, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		        *PQgetvalue(res, i, 3) == 't');
	PQclear(res);
}

/* The views named, each checked before any is refreshed, so that a typo refreshes nothing. */
static void refresh_named(PGconn *conn, int n, char **names)
{
	PGresult **views = edu_malloc((size_t)n * sizeof(*views));

	for (int i = 0; i < n; i++) {
		views[i] = lookup(conn,
		                  "SELECT " COLS " FROM pg_class c JOIN pg_namespace n "
		                  "ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
		                  names[i], "no such materialized view");
		if (PQntuples(views[i]) != 1 || *PQgetvalue(views[i], 0, 2) != 'm')
			edu_die(EDU_EX_CONFIG, "%s: no such materialized view", names[i]);
	}
	for (int i = 0; i < n; i++) {
		refresh(conn, PQgetvalue(views[i], 0, 0), PQgetvalue(views[i], 0, 1),
		        *PQgetvalue(views[i], 0, 3) == 't');
		PQclear(views[i]);
	}
	free(views);
}

int main(int argc, char **argv)
{
	PGconn *conn;
	char sql[64];

	edu_setprog(argv[0]);
	parse_options(argc, argv);
	conn = edu_pg_connect(opt.conninfo);
	/* A plain refresh queues an exclusive lock that blocks the app's readers: bound it. */
	snprintf(sql, sizeof(sql), "SET lock_timeout = '%llds'", opt.lock_timeout);
	edu_pg_cmd(conn, sql);
	if (opt.table)
		refresh_dependents(conn);
	else
		refresh_named(conn, argc - optind, argv + optind);
	PQfinish(conn);
	edu_close_stdout();
	return EDU_EX_OK;
}
