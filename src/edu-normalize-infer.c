/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-normalize -I: drafts a mapping file from a sample in the contract. Each column's values go
 * through every rule of src/edu-normalize-rules.c (the same code that will check the real file),
 * and the narrowest rule they all pass is proposed, with the evidence on a comment line above
 * it: counts, null tokens, distinct values, leading zeros, ranges. A column equal to another one
 * (or to two others joined by ", ") on every row is drafted as left out, one empty in the whole
 * sample as optional. The draft is for a person to review, never to load unread: rules are
 * guesses, and a sample may not show what the full file holds. The whole sample is kept in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "edu-normalize.h"

/* The candidate rules, as bits; the null tokens the sources use, as bits too. */
enum {
	C_UAI = 1 << 0,
	C_SIRET = 1 << 1,
	C_BOOL = 1 << 2,
	C_EPSG = 1 << 3,
	C_INSEE = 1 << 4,
	C_POSTAL = 1 << 5,
	C_DEPT = 1 << 6,
	C_YEAR = 1 << 7,
	C_DATE = 1 << 8,
	C_INT = 1 << 9,
	C_DECIMAL = 1 << 10,
	C_PERCENT = 1 << 11,
	C_LON = 1 << 12,
	C_LAT = 1 << 13,
	C_ALL = (1 << 14) - 1
};
static const enum norm_rule rule_of[] = {
    NORM_UAI,  NORM_SIRET, NORM_BOOL, NORM_EPSG,    NORM_INSEE,   NORM_POSTAL, NORM_DEPT,
    NORM_YEAR, NORM_DATE,  NORM_INT,  NORM_DECIMAL, NORM_PERCENT, NORM_LON,    NORM_LAT};
static const char *const tokens[] = {"ND", "NC", "NS", "-", "s", "NR", "N/A"};
#define NTOKENS (sizeof(tokens) / sizeof(tokens[0]))

/* What the sample shows of one column. */
struct icol {
	char *name, *target;
	unsigned long values, empty, ntok;
	unsigned pass, tok;
	int zero_lead, pct, sep_date, epsg_prefix, frac, bool_word, seen0, seen1;
	char **v; /* the values as read, for the distinct count and the key */
	unsigned long distinct;
	unsigned char *eq, *pa, *pb; /* equal to column j on every row; "A, B" halves */
	int pair_started, pair_broken;
	unsigned long pipes; /* values holding " | ": a list */
};

struct infer {
	struct icol *c;
	size_t n;
	unsigned long rows;
	char **row; /* this row's trimmed values, NULL for NULL */
	char *buf, *out;
	size_t cap, outcap;
};

static int token_of(const char *v)
{
	for (size_t i = 0; i < NTOKENS; i++)
		if (strcmp(v, tokens[i]) == 0)
			return (int)i;
	return -1;
}

/* Runs one value through the candidate rules still standing, and notes its shape. */
static void try_rules(struct infer *x, struct icol *c, const char *v, size_t n)
{
	if (x->outcap < n + NORM_SLACK + 1)
		x->out = edu_realloc(x->out, x->outcap = n + NORM_SLACK + 1);
	for (size_t k = 0; k < sizeof(rule_of) / sizeof(rule_of[0]); k++) {
		size_t len;

		if ((c->pass & (1u << k)) && norm_apply(rule_of[k], v, n, x->out, &len) != NULL)
			c->pass &= ~(1u << k);
	}
	if (n > 1 && v[0] == '0' && v[1] >= '0' && v[1] <= '9')
		c->zero_lead = 1;
	c->pct |= v[n - 1] == '%';
	c->sep_date |= strchr(v, '/') != NULL || (n > 4 && strchr(v + 1, '-') != NULL);
	c->epsg_prefix |= strncmp(v, "EPSG:", 5) == 0;
	c->frac |= strchr(v, '.') != NULL || strchr(v, ',') != NULL;
	c->seen0 |= strcmp(v, "0") == 0;
	c->seen1 |= strcmp(v, "1") == 0;
	c->bool_word |= (c->pass & C_BOOL) && !(v[0] >= '0' && v[0] <= '9');
	c->pipes += strstr(v, " | ") != NULL;
}

/* One row's value of column i: NULL, a null token, or a value to judge. */
static void take(struct infer *x, size_t i, const struct edu_field *f)
{
	struct icol *c = &x->c[i];
	size_t n = 0, start = 0;
	int t;

	x->row[i] = NULL;
	if (!edu_field_is_null(f)) {
		n = edu_field_unescape(f, &x->buf, &x->cap);
		if (n == (size_t)-1)
			n = 0, c->pass = 0; /* a bad escape: text at most */
		n = norm_trim(x->buf, n, &start);
	}
	if (n == 0) {
		c->empty++;
		return;
	}
	x->row[i] = edu_strndup(x->buf + start, n);
	if ((t = token_of(x->row[i])) >= 0) {
		c->tok |= 1u << t;
		c->ntok++;
		return;
	}
	c->v = edu_realloc(c->v, (c->values + 1) * sizeof(*c->v));
	c->v[c->values++] = edu_strdup(x->row[i]);
	try_rules(x, c, x->row[i], n);
}

/* Whether the whole row keeps column i equal to j, and its "A, B" halves equal to others. */
static void compare(struct infer *x, size_t i)
{
	struct icol *c = &x->c[i];
	const char *v = x->row[i], *comma = v ? strstr(v, ", ") : NULL;

	for (size_t j = 0; j < x->n; j++)
		if (c->eq[j] &&
		    (v == NULL || x->row[j] == NULL ? v != x->row[j] : strcmp(v, x->row[j])))
			c->eq[j] = 0;
	if (v == NULL || c->pair_broken)
		return;
	if (comma == NULL) {
		c->pair_broken = 1;
		return;
	}
	for (size_t j = 0; j < x->n; j++) {
		const char *w = x->row[j];
		int a = w && j != i && strlen(w) == (size_t)(comma - v) && !memcmp(w, v, strlen(w));
		int b = w && j != i && strcmp(w, comma + 2) == 0;

		c->pa[j] = c->pair_started ? c->pa[j] && a : a;
		c->pb[j] = c->pair_started ? c->pb[j] && b : b;
	}
	c->pair_started = 1;
}

/* A target name from a header name: lower-case ASCII, accents folded, the rest '_'. */
static char *plain_name(const char *s, size_t col)
{
	static const char *const fold[][2] = {
	    {"à", "a"},  {"â", "a"},  {"ä", "a"}, {"á", "a"}, {"ç", "c"}, {"é", "e"},  {"è", "e"},
	    {"ê", "e"},  {"ë", "e"},  {"î", "i"}, {"ï", "i"}, {"í", "i"}, {"ô", "o"},  {"ö", "o"},
	    {"ó", "o"},  {"ù", "u"},  {"û", "u"}, {"ü", "u"}, {"ú", "u"}, {"ÿ", "y"},  {"ñ", "n"},
	    {"œ", "oe"}, {"æ", "ae"}, {"À", "a"}, {"Â", "a"}, {"Ç", "c"}, {"É", "e"},  {"È", "e"},
	    {"Ê", "e"},  {"Î", "i"},  {"Ô", "o"}, {"Ù", "u"}, {"Û", "u"}, {"Œ", "oe"}, {"°", ""}};
	struct edu_str t = {0};

	while (*s) {
		size_t k = 0, len;

		for (; k < sizeof(fold) / sizeof(fold[0]); k++)
			if (strncmp(s, fold[k][0], len = strlen(fold[k][0])) == 0)
				break;
		if (k < sizeof(fold) / sizeof(fold[0])) {
			edu_str_add(&t, "%s", fold[k][1]);
			s += len;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) {
			edu_str_addn(&t, s++, 1);
		} else if (*s >= 'A' && *s <= 'Z') {
			/* camelCase (geo.api's codeDepartement) splits where the case changes */
			if (t.len && t.p[t.len - 1] >= 'a' && t.p[t.len - 1] <= 'z' &&
			    s[1] >= 'a' && s[1] <= 'z')
				edu_str_addn(&t, "_", 1);
			edu_str_add(&t, "%c", *s++ - 'A' + 'a');
		} else {
			if (t.len && t.p[t.len - 1] != '_')
				edu_str_addn(&t, "_", 1);
			s++;
		}
	}
	while (t.len && t.p[t.len - 1] == '_')
		t.p[--t.len] = '\0';
	if (t.len == 0)
		edu_str_add(&t, "column_%zu", col + 1);
	else if (t.p[0] >= '0' && t.p[0] <= '9') {
		struct edu_str u = {0};

		edu_str_add(&u, "c_%s", t.p);
		edu_str_free(&t);
		t = u;
	}
	if (t.len > 60)
		t.p[t.len = 60] = '\0';
	return t.p;
}

/* Target names unique in the map: a repeated one gets _2, _3... */
static void name_targets(struct infer *x)
{
	for (size_t i = 0; i < x->n; i++) {
		char *base = plain_name(x->c[i].name, i);
		struct edu_str t = {0};

		edu_str_add(&t, "%s", base);
		for (unsigned k = 2;; k++) {
			size_t j = 0;

			while (j < i && strcmp(x->c[j].target, t.p) != 0)
				j++;
			if (j == i)
				break;
			t.len = 0;
			edu_str_add(&t, "%s_%u", base, k);
		}
		free(base);
		x->c[i].target = t.p;
	}
}

static int has(const char *target, const char *word)
{
	return strstr(target, word) != NULL;
}

static int starts(const char *target, const char *word)
{
	return strncmp(target, word, strlen(word)) == 0;
}

/* A measure by its name: a rate (percent), an amount or area, a value added (decimal). */
static int named_rate(const char *t)
{
	return has(t, "taux") || has(t, "pourcent") || starts(t, "part_") || has(t, "_part_");
}
static int named_amount(const char *t)
{
	return has(t, "surface") || has(t, "valeur") || has(t, "montant") || has(t, "prix") ||
	       starts(t, "va_");
}

/* An identifier by its name: a code, a lot or plan number (a count of lots is a number). */
static int named_identifier(const char *t)
{
	if (has(t, "code") || has(t, "cog") || starts(t, "reg"))
		return 1;
	return (has(t, "lot") || has(t, "plan")) && !has(t, "nombre") && !has(t, "surface") &&
	       !starts(t, "nb_");
}

/* A code by its name: a commune, a postal code, a département, or another code (text). */
static const char *code_rule(const struct icol *c)
{
	const char *t = c->target;
	unsigned p = c->pass;

	if ((p & C_POSTAL) && (has(t, "postal") || strcmp(t, "cp") == 0))
		return "postal";
	if ((p & C_INSEE) && (has(t, "commune") || has(t, "insee") || starts(t, "com")))
		return "insee";
	if ((p & C_DEPT) && (has(t, "depart") || strcmp(t, "dep") == 0 || has(t, "dept")))
		return "dept";
	/* DGFiP pads its numbers (000001): a number by its name, whatever its zeros. */
	if ((p & C_INT) && c->zero_lead && (starts(t, "no_") || has(t, "numero")) &&
	    !named_identifier(t))
		return "int";
	if (c->zero_lead || named_identifier(t))
		return "text"; /* an identifier: never a number, its leading zeros matter */
	return NULL;
}

/* The number rules: whole numbers unless written with a fraction or named as a measure. */
static const char *number_rule(const struct icol *c)
{
	const char *t = c->target;
	unsigned p = c->pass;

	if ((p & C_YEAR) && (p & C_INT) && !c->frac &&
	    (has(t, "annee") || has(t, "year") || has(t, "session")))
		return "year";
	if ((p & C_PERCENT) && (c->pct || named_rate(t)))
		return "percent";
	if ((p & C_INT) && !c->frac && !named_amount(t))
		return "int";
	if ((p & C_LON) && (has(t, "longitude") || strcmp(t, "lon") == 0 || strcmp(t, "lng") == 0))
		return "lon";
	if ((p & C_LAT) && (has(t, "latitude") || strcmp(t, "lat") == 0))
		return "lat";
	if (p & (C_DECIMAL | C_INT))
		return "decimal";
	return NULL;
}

/* The narrowest rule every value passed, the name breaking ties between code rules. */
static const char *choose(const struct icol *c)
{
	unsigned p = c->pass;
	const char *r;

	if (c->values == 0)
		return "text";
	if (p & C_UAI)
		return "uai";
	if (p & C_SIRET)
		return "siret";
	if ((p & C_BOOL) && (c->bool_word || (c->seen0 && c->seen1)))
		return "bool";
	if ((p & C_EPSG) && (c->epsg_prefix || has(c->target, "epsg")))
		return "epsg";
	if ((p & C_DATE) && c->sep_date)
		return "date";
	if ((r = code_rule(c)) != NULL || (r = number_rule(c)) != NULL)
		return r;
	return c->pipes ? "list=|" : "text";
}

/* Counts the distinct values of a column (sorting them). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
static void count_distinct(struct icol *c)
{
	if (c->values == 0) {
		c->distinct = 0;
		return;
	}
	qsort(c->v, c->values, sizeof(*c->v), cmp_str);
	c->distinct = c->values > 0;
	for (unsigned long k = 1; k < c->values; k++)
		c->distinct += strcmp(c->v[k - 1], c->v[k]) != 0;
}

/* The column that another one repeats on every row, or -1; "A, B" as two columns in *a, *b. */
static long repeats(const struct infer *x, size_t i, long *a, long *b)
{
	const struct icol *c = &x->c[i];

	*a = *b = -1;
	for (size_t j = 0; j < i && c->values > 0; j++)
		if (c->eq[j])
			return (long)j;
	for (size_t j = 0; j < x->n && c->pair_started && !c->pair_broken; j++) {
		if (c->pa[j] && *a < 0)
			*a = (long)j;
		if (c->pb[j] && *b < 0)
			*b = (long)j;
	}
	return -1;
}

/* The null tokens seen in a column, as null=A,B (empty when none). */
static void null_option(const struct icol *c, struct edu_str *s)
{
	for (size_t k = 0; k < NTOKENS; k++)
		if (c->tok & (1u << k))
			edu_str_add(s, "%s%s", s->len ? "," : "null=", tokens[k]);
}

/*
 * Whether a header name can be a source of a map line: no tab or line end (the map's own
 * separators), no '|' (alternatives), no leading '#' (a comment) or '?' (optional), and no
 * blank at either end (the map's fields are trimmed).
 */
static int nameable(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && strpbrk(name, "\t\n\r|") == NULL && name[0] != '#' && name[0] != '?' &&
	       name[0] != ' ' && name[n - 1] != ' ';
}

/* A header name for a comment: control characters shown as '?', so that it stays one line. */
static char *shown(const char *name)
{
	char *s = edu_strdup(name);

	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

/* The key: the first column never empty and never repeated, a UAI first; or NULL. */
static const struct icol *guess_key(const struct infer *x)
{
	const struct icol *key = NULL;

	for (size_t i = 0; i < x->n; i++) {
		const struct icol *c = &x->c[i];

		if (c->values != x->rows || c->distinct != x->rows || x->rows == 0 ||
		    !nameable(c->name))
			continue;
		if (strcmp(choose(c), "uai") == 0)
			return c;
		if (key == NULL && strcmp(choose(c), "decimal") != 0 &&
		    strcmp(choose(c), "date") != 0)
			key = c;
	}
	return key;
}

/* One column: its evidence on a comment line, then its line of the map. */
static void write_column(struct edu_out *o, const struct infer *x, size_t i)
{
	const struct icol *c = &x->c[i];
	struct edu_str line = {0}, opt = {0};
	const char *rule = choose(c);
	long a, b, same = repeats(x, i, &a, &b);
	char *name = shown(c->name);

	if (!nameable(c->name)) {
		edu_str_add(&line,
		            "# column %zu '%s': its name cannot be written in a map (a tab, a line "
		            "end, '|', a leading '#' or '?', a blank at an end): not drafted\n",
		            i + 1, name);
		edu_out_puts(o, line.p);
		edu_str_free(&line);
		free(name);
		return;
	}
	edu_str_add(&line, "# %s: %lu value%s, %lu empty", name, c->values,
	            c->values == 1 ? "" : "s", c->empty);
	if (c->ntok)
		edu_str_add(&line, ", %lu null token%s", c->ntok, c->ntok == 1 ? "" : "s");
	edu_str_add(&line, ", %lu distinct%s%s", c->distinct,
	            c->values && c->distinct == x->rows ? " (unique)" : "",
	            c->zero_lead ? ", leading zeros" : "");
	edu_str_add(&line, "; %s\n", c->values == 0 ? "empty in the whole sample: optional" : rule);
	edu_out_puts(o, line.p);
	line.len = 0;
	if (same >= 0 || (a >= 0 && b >= 0)) {
		char *s1 = shown(x->c[same >= 0 ? same : a].name);
		char *s2 = shown(x->c[b >= 0 ? b : 0].name);

		if (same >= 0)
			edu_str_add(&line,
			            "%s\t-\tTODO: equal to '%s' on every row of the sample\n",
			            c->name, s1);
		else
			edu_str_add(&line,
			            "%s\t-\tTODO: '%s', '%s' again on every row of the sample\n",
			            c->name, s1, s2);
		free(s1);
		free(s2);
	} else {
		if (strcmp(rule, "text") != 0 && strcmp(rule, "list=|") != 0)
			null_option(c, &opt);
		edu_str_add(&line, "%s%s\t%s\t%s%s%s\n", c->values == 0 ? "?" : "", c->name,
		            c->target, rule, opt.len ? "\t" : "", opt.len ? opt.p : "");
	}
	edu_out_puts(o, line.p);
	edu_str_free(&line);
	edu_str_free(&opt);
	free(name);
}

static void write_draft(struct edu_out *o, const struct infer *x, const char *input)
{
	const struct icol *key = guess_key(x);
	struct edu_str head = {0};

	edu_str_add(
	    &head,
	    "# Drafted by edu-normalize -I from %s: %lu rows, %zu columns. Review every\n"
	    "# line before use: each rule is the narrowest one that every value of the\n"
	    "# sample passed (the evidence is on the comment above it), and a column drafted\n"
	    "# as left out (-) needs its reason written. Fields are separated by tabs.\n",
	    input, x->rows, x->n);
	if (key)
		edu_str_add(&head, "# key: %s (%s: never empty, never repeated in the sample)\n",
		            key->target, key->name);
	else
		edu_str_add(&head, "# key: none (no column is never empty and never repeated)\n");
	edu_str_add(&head, "# source\ttarget\trule\toptions\n");
	edu_out_puts(o, head.p);
	edu_str_free(&head);
	for (size_t i = 0; i < x->n; i++)
		write_column(o, x, i);
}

static void infer_free(struct infer *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct icol *c = &x->c[i];

		for (unsigned long k = 0; k < c->values; k++)
			free(c->v[k]);
		free(c->v);
		free(c->target);
		free(c->eq);
		free(c->pa);
		free(c->pb);
	}
	free(x->c);
	free(x->row);
	free(x->buf);
	free(x->out);
}

static void infer_init(struct infer *x, const struct edu_tsv_reader *r)
{
	memset(x, 0, sizeof(*x));
	x->n = r->ncols;
	x->c = edu_malloc((x->n ? x->n : 1) * sizeof(*x->c));
	x->row = edu_malloc((x->n ? x->n : 1) * sizeof(*x->row));
	memset(x->c, 0, (x->n ? x->n : 1) * sizeof(*x->c));
	for (size_t i = 0; i < x->n; i++) {
		struct icol *c = &x->c[i];

		c->name = r->header[i];
		c->pass = C_ALL;
		c->eq = edu_malloc(x->n);
		memset(c->eq, 1, x->n);
		c->eq[i] = 0;
		c->pa = edu_malloc(x->n);
		c->pb = edu_malloc(x->n);
	}
	name_targets(x);
}

void norm_infer(struct edu_tsv_reader *r, struct edu_out *o, const char *input)
{
	struct infer x;

	infer_init(&x, r);
	while (edu_tsv_next(r)) {
		x.rows++;
		for (size_t i = 0; i < x.n; i++)
			take(&x, i, &r->fields[i]);
		for (size_t i = 0; i < x.n; i++)
			compare(&x, i);
		for (size_t i = 0; i < x.n; i++)
			free(x.row[i]);
	}
	for (size_t i = 0; i < x.n; i++)
		count_distinct(&x.c[i]);
	write_draft(o, &x, input);
	infer_free(&x);
}
