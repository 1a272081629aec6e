/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-normalize: the value rules (src/edu-normalize-rules.c) and the mapping file
 * (src/edu-normalize-map.c) that src/edu-normalize.c applies, and tests/fuzz/ too. Nothing here
 * is shared with other tools (that goes in src/lib).
 */
#ifndef EDU_NORMALIZE_H
#define EDU_NORMALIZE_H

#include <stddef.h>
#include <stdio.h>

#include "edu.h"

enum norm_rule {
	NORM_RAW,
	NORM_TEXT,
	NORM_INT,
	NORM_DECIMAL,
	NORM_DATE,
	NORM_YEAR,
	NORM_BOOL,
	NORM_PERCENT,
	NORM_UAI,
	NORM_INSEE,
	NORM_DEPT,
	NORM_POSTAL,
	NORM_LON,
	NORM_LAT,
	NORM_EPSG,
	NORM_SIRET,
	NORM_COMMUNE_IN_DEPT,
	NORM_LIST
};

/* A rule never writes more than its input length plus this many bytes. */
#define NORM_SLACK 16

/* Looks a rule up by name (aliases included); returns -1 when there is no such rule. */
int norm_rule_find(const char *name);
const char *norm_rule_name(enum norm_rule rule);

/* Length of s[0..n) without the leading and trailing blanks (ASCII, U+00A0, U+202F); *start set. */
size_t norm_trim(const char *s, size_t n, size_t *start);

/*
 * Applies a one-column rule to a trimmed, non-empty value v[0..n). On success writes the
 * result to dst (room for n + NORM_SLACK bytes), sets *dn and returns NULL; otherwise returns
 * the reason, worded "<rule> ...", and dst is undefined.
 */
const char *norm_apply(enum norm_rule rule, const char *v, size_t n, char *dst, size_t *dn);

/*
 * commune_in_dept: dept (already normalized by the dept rule) and a 1-3 digit commune
 * number make a 5-character INSEE code. Same contract as norm_apply.
 */
const char *norm_commune_in_dept(const char *dept, size_t dn, const char *v, size_t n, char *dst,
                                 size_t *len);

/*
 * list=SEP: the items of a cell separated by SEP (ONISEP's "Anglais, Espagnol" and "a | b"),
 * each trimmed and its blanks folded as by text, empty ones dropped, written as a PostgreSQL
 * array literal of quoted elements ({"Anglais","Espagnol"}). Each input byte gives at most three
 * output bytes (a one-byte item between separators gives its two quotes and a comma), so dst has
 * room for NORM_LIST_ROOM(n) bytes. Never fails: a cell of separators only is the empty array.
 */
#define NORM_LIST_ROOM(n) (3 * (n) + NORM_SLACK)
const char *norm_list(char sep, const char *v, size_t n, char *dst, size_t *dn);

/* A source column of the map: its names (alternatives for schema drift), its input column. */
struct norm_source {
	char *spec; /* as written in the map, for messages */
	char **alt;
	size_t nalt;
	int optional;
	long idx; /* input column, -1 when optional and absent */
};

/* A target column: its sources, rule and options, and its value in the row in hand. */
struct norm_column {
	struct norm_source src;
	struct norm_source arg; /* the département column of commune_in_dept */
	char *target;
	enum norm_rule rule;
	char sep; /* list=SEP */
	char **nulls, **only;
	size_t nnull, nonly;
	unsigned long line;
	char *out; /* this row's value */
	size_t outcap, outlen;
	int isnull;
};

/*
 * A column of the publisher's file left out on purpose (target "-" in the map): never required,
 * never loaded, never reported as new. Why it is left out is written in the map.
 */
struct norm_ignored {
	struct norm_source src;
	char *why;
};

/* A mapping file (docs/mapping.md), as read. */
struct norm_map {
	const char *file;
	struct norm_column *col;
	size_t n;
	struct norm_ignored *ign;
	size_t nign;
	FILE *fp; /* while it is read */
	char *text;
	size_t textcap;
	/* norm_map_check's lists for its messages, and the input columns it used */
	struct edu_str missing, expected, found;
	char *used;
	struct edu_names trimmed; /* the header's names without their blanks, while checked */
};

/*
 * Reads a mapping file; a mistake in it is fatal (EDU_EX_CONFIG, naming its line). What m holds
 * is freed by norm_map_free, also after that error (tests/fuzz).
 */
void norm_map_read(struct norm_map *m, const char *file);
/*
 * Finds each source column in the input header, by its exact name or else by its name without
 * surrounding blanks; a missing one is schema drift (EDU_EX_DATAERR, listing what is expected and
 * found). An input column the map does not name (loaded or ignored) is schema drift with strict,
 * else said in one warning per column unless quiet. An optional source that is absent loads NULL,
 * said once unless quiet.
 */
void norm_map_check(struct norm_map *m, const struct edu_tsv_reader *r, int strict, int quiet);
void norm_map_free(struct norm_map *m);

/*
 * -I: reads the whole stream r as a sample and writes to o a draft mapping file, a rule per
 * column with its evidence (src/edu-normalize-infer.c). input names the stream in the draft.
 */
void norm_infer(struct edu_tsv_reader *r, struct edu_out *o, const char *input);

#endif
