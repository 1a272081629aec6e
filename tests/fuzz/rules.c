/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Fuzzes every value rule of edu-normalize (src/edu-normalize-rules.c). The first byte picks the
 * rule, the rest is the value, trimmed as edu-normalize trims it; commune_in_dept takes the
 * département before a tab and the commune number after it, the département through the dept
 * rule first, as edu-normalize does; list takes its separator from the value's first byte.
 * Buffers are exactly as large as the contract says, so ASan sees any byte written past it. A
 * value a rule accepts must come out valid UTF-8 when it went in so, and be a fixed point: the
 * rule gives it back unchanged (list writes an array literal, which is not its input's form).
 */
#include <stdlib.h>
#include <string.h>

#include "edu-normalize.h"
#include "fuzz.h"

#define MAX_INPUT 4096
#define NRULES (NORM_LIST + 1)

/* The rule on a heap copy of exactly n bytes, into exactly n + NORM_SLACK bytes. */
static const char *apply(enum norm_rule rule, const char *v, size_t n, char **out, size_t *len)
{
	char *copy = malloc(n ? n : 1);
	const char *why;

	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, v, n);
	*out = malloc(n + NORM_SLACK);
	FUZZ_ASSERT(*out != NULL);
	why = norm_apply(rule, copy, n, *out, len);
	free(copy);
	if (why == NULL)
		FUZZ_ASSERT(*len <= n + NORM_SLACK);
	return why;
}

/* A one-column rule, and its result through it again. */
static void one(enum norm_rule rule, const char *v, size_t n)
{
	char *out, *again;
	size_t len, len2;

	if (apply(rule, v, n, &out, &len) == NULL) {
		FUZZ_ASSERT(len > 0);
		FUZZ_ASSERT(!fuzz_utf8(v, n) || fuzz_utf8(out, len));
		FUZZ_ASSERT(apply(rule, out, len, &again, &len2) == NULL);
		FUZZ_ASSERT(len2 == len && memcmp(again, out, len) == 0);
		free(again);
	}
	free(out);
}

/*
 * commune_in_dept as edu-normalize applies it: the département through the dept rule into its
 * char dept[NORM_SLACK + 4], then the commune number.
 */
static void commune(const char *v, size_t n)
{
	const char *tab = memchr(v, '\t', n);
	char *copy, *dept, *out, *again;
	size_t dn, dstart, len, len2, cstart, cn;
	const char *why;

	if (tab == NULL)
		return;
	dn = norm_trim(v, (size_t)(tab - v), &dstart);
	cn = norm_trim(tab + 1, n - (size_t)(tab + 1 - v), &cstart);
	if (dn == 0 || cn == 0)
		return;
	copy = malloc(dn);
	dept = malloc(NORM_SLACK + 4);
	FUZZ_ASSERT(copy != NULL && dept != NULL);
	memcpy(copy, v + dstart, dn);
	why = norm_apply(NORM_DEPT, copy, dn, dept, &dn);
	free(copy);
	if (why != NULL) {
		free(dept);
		return;
	}
	copy = malloc(cn);
	out = malloc(cn + NORM_SLACK);
	FUZZ_ASSERT(copy != NULL && out != NULL);
	memcpy(copy, tab + 1 + cstart, cn);
	if (norm_commune_in_dept(dept, dn, copy, cn, out, &len) == NULL) {
		/* An INSEE commune code, which the insee rule keeps as it is. */
		FUZZ_ASSERT(len == 5);
		FUZZ_ASSERT(apply(NORM_INSEE, out, len, &again, &len2) == NULL);
		FUZZ_ASSERT(len2 == 5 && memcmp(again, out, 5) == 0);
		free(again);
	}
	free(copy);
	free(out);
	free(dept);
}

/*
 * list=SEP as edu-normalize applies it, into exactly NORM_LIST_ROOM(n) bytes: an array literal
 * in braces, whose quotes balance once the escaped ones are skipped.
 */
static void list(const char *v, size_t n)
{
	char sep = n > 0 && v[0] > 0x20 && v[0] < 0x7f ? v[0] : ',';
	size_t start, tn, len, quotes = 0;
	char *copy, *out;

	if (n == 0)
		return;
	tn = norm_trim(v + 1, n - 1, &start);
	if (tn == 0)
		return;
	copy = malloc(tn);
	out = malloc(NORM_LIST_ROOM(tn));
	FUZZ_ASSERT(copy != NULL && out != NULL);
	memcpy(copy, v + 1 + start, tn);
	FUZZ_ASSERT(norm_list(sep, copy, tn, out, &len) == NULL);
	FUZZ_ASSERT(len >= 2 && len <= NORM_LIST_ROOM(tn));
	FUZZ_ASSERT(out[0] == '{' && out[len - 1] == '}');
	FUZZ_ASSERT(!fuzz_utf8(copy, tn) || fuzz_utf8(out, len));
	for (size_t i = 1; i + 1 < len; i++) {
		if (out[i] == '\\')
			i++;
		else if (out[i] == '"')
			quotes++;
	}
	FUZZ_ASSERT(quotes % 2 == 0);
	free(copy);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data + 1;
	enum norm_rule rule;
	size_t n, start;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	rule = (enum norm_rule)(data[0] % NRULES);
	FUZZ_ASSERT(norm_rule_find(norm_rule_name(rule)) == (int)rule ||
	            rule == NORM_RAW); /* "raw" and its alias "keep" */
	if (rule == NORM_COMMUNE_IN_DEPT) {
		commune(v, size - 1);
		return 0;
	}
	if (rule == NORM_LIST) {
		list(v, size - 1);
		return 0;
	}
	n = norm_trim(v, size - 1, &start);
	FUZZ_ASSERT(start + n <= size - 1);
	if (n > 0)
		one(rule, v + start, n);
	return 0;
}
