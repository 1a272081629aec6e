/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-normalize: the value rules that src/edu-normalize-rules.c implements and
 * src/edu-normalize.c applies. Nothing here is shared with other tools (that goes in src/lib).
 */
#ifndef EDU_NORMALIZE_H
#define EDU_NORMALIZE_H

#include <stddef.h>

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
	NORM_COMMUNE_IN_DEPT
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

#endif
