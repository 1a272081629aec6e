/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-pgcopy: the load's state shared by src/edu-pgcopy.c (options, catalog, COPY)
 * and src/edu-pgcopy-merge.c (the SQL that checks the staged rows and merges them into the
 * table). Nothing here is part of the suite's library.
 */
#ifndef EDU_PGCOPY_H
#define EDU_PGCOPY_H

#include <stddef.h>

#include <libpq-fe.h>

#include "edu.h"

#define STAGE "edu_stage"

struct col {
	char *name, *q; /* name and quoted name */
	int generated, notnull, textcmp, hasdef;
	int input, key;
};

extern PGconn *conn;
extern struct col *cols;
extern size_t ncols;
extern char *target;           /* quoted schema.table */
extern const char *shown_name; /* the table as messages name it */

struct col *find_col(const char *name);
void add_input_cols(struct edu_str *s, const struct edu_tsv_reader *r, const char *alias);
void add_key_eq(struct edu_str *s, const char *a, const char *b);
int add_diff(struct edu_str *s, const char *a, const char *b, const char *op);
long long count_of(const char *sql);
void check_rows(const char *rel, const char *cond, const char *what);
void check_duplicates(const char *rel);
void upsert(const struct edu_tsv_reader *r, long long *ins, long long *upd);
void replace_rows(const struct edu_tsv_reader *r, const char *where, long long *ins,
                  long long *del);
void record_source(const char *source, unsigned long long rows, double secs);

#endif
