/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-pgcopy: what one load knows (struct pgcopy_load), passed to every step.
 * src/edu-pgcopy.c holds the options, the locks, the COPY and the record of the run;
 * src/edu-pgcopy-catalog.c what the table is (columns, header, key, scope, partition);
 * src/edu-pgcopy-merge.c the SQL that checks the staged rows and merges them into the table;
 * src/edu-pgcopy-swap.c the partition swap that replaces a year rewritten whole.
 * Functions shared between them carry the prefix pgcopy_. Nothing here is part of the suite's
 * library.
 */
#ifndef EDU_PGCOPY_H
#define EDU_PGCOPY_H

#include <stddef.h>
#include <time.h>

#include <libpq-fe.h>

#include "edu.h"

#define PGCOPY_STAGE "edu_stage"
/* Keys named in the history row and by -v, each way. */
#define PGCOPY_MAX_KEYS 10
/* A replace without a key samples both sides so that about this many rows match when nothing
 * changed, and rewrites the scope when fewer than PGCOPY_REWRITE_PCT percent are unchanged. */
#define PGCOPY_SAMPLE 1000
#define PGCOPY_REWRITE_PCT 5

/* How long a load waits for a lock when neither -T nor the session bounds it. */
#define PGCOPY_LOCK_TIMEOUT "600s"
/* How long a partition swap waits for its lock on the table, in ms, and how many more times it
 * tries (-P). */
#define PGCOPY_SWAP_MS 2000
#define PGCOPY_SWAP_RETRIES 3

enum pgcopy_mode { PGCOPY_REPLACE, PGCOPY_UPSERT, PGCOPY_APPEND };

struct pgcopy_col {
	char *name, *q; /* name and quoted name */
	char *type;     /* its type, as format_type names it, for casts */
	int generated, notnull, hasdef;
	int textcmp;  /* no btree '=' (json, point): compared as text */
	int hashable; /* a default hash opclass: digested as is, else as text */
	int input, key;
};

struct pgcopy_load {
	/* Options. */
	const char *conninfo, *keys, *label, *scope, *unit, *table;
	int append, dry, force, verbose, wait;
	long long min_pct;
	long long lock_timeout;          /* -T seconds, -1 when not given */
	long long swap_ms, swap_retries; /* -P: 0 ms never swaps */
	enum edu_progress_mode progress;

	/* The table, from the catalog. */
	PGconn *conn;
	char *table_q;   /* quoted schema.table, which the locks are keyed on */
	char *target;    /* what the load reads and writes: the table, or the scope's partition */
	char shown[512]; /* the table as messages name it */
	char oid[16];
	struct pgcopy_col *cols;
	size_t ncols;
	struct edu_names byname;   /* the columns' names, sorted */
	struct pgcopy_col **incol; /* the table column of each input column */
	struct pgcopy_col *scope_col, *label_col;
	char *scope_name, *scope_val;
	char *scope_canon;    /* the -w value as its column's type reads it */
	char scope_key[16];   /* the scope's lock key (an integer) */
	struct edu_str where; /* the scope as SQL; "true" without -w */
	int list_partitioned; /* partitioned by a list of the scope column alone */
	char *part;           /* then the scope's partition, which a load without a key writes */
	enum pgcopy_mode mode;
	int nkey;

	/* The run. */
	struct edu_tsv_reader in;
	struct timespec t0;
	char started[48]; /* wall clock at start, for the run history */
	int direct;       /* COPY straight into the table: it, or the scope, is empty */
	int in_txn, in_copy;
	unsigned long long rows;
	long long current; /* rows the replace replaces */
	long long ins, upd, del;
	char *new_keys, *removed_keys; /* text[] literals "{...}", NULL when not a keyed load */
};

void pgcopy_add_input_cols(const struct pgcopy_load *L, struct edu_str *s, const char *alias);
void pgcopy_add_key_eq(const struct pgcopy_load *L, struct edu_str *s, const char *a,
                       const char *b);
long long pgcopy_count(const struct pgcopy_load *L, const char *sql);
/*
 * Whether rel (aliased s, for cond) holds a row where cond, or any row when cond is NULL: the
 * cheap question before a costly one.
 */
int pgcopy_any(const struct pgcopy_load *L, const char *rel, const char *cond);
void pgcopy_verbose(const struct pgcopy_load *L, const char *what);
void pgcopy_check(struct pgcopy_load *L);
void pgcopy_measure(struct pgcopy_load *L);
void pgcopy_merge(struct pgcopy_load *L);
struct pgcopy_col *pgcopy_find_col(const struct pgcopy_load *L, const char *name);
void pgcopy_resolve(struct pgcopy_load *L);
void pgcopy_ensure_partition(struct pgcopy_load *L);
int pgcopy_swap(struct pgcopy_load *L);

#endif
