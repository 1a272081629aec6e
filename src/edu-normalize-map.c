/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The mapping file of edu-normalize (docs/mapping.md): read into a struct norm_map, every
 * mistake a configuration error naming its line, then checked against the input header before
 * any row is written. It does not convert values: src/edu-normalize.c does, with the rules of
 * src/edu-normalize-rules.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "edu-normalize.h"

static _Noreturn void map_die(const struct norm_map *m, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void map_die(const struct norm_map *m, unsigned long line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	edu_die(EDU_EX_CONFIG, "%s:%lu: %s", m->file, line, buf);
}

static char **split_list(const char *s, char sep, size_t *n)
{
	char **v = NULL;

	*n = 0;
	for (;;) {
		const char *e = strchr(s, sep);
		size_t len = e ? (size_t)(e - s) : strlen(s);

		v = edu_realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = edu_strndup(s, len);
		if (!e)
			return v;
		s = e + 1;
	}
}

static void parse_source(const struct norm_map *m, unsigned long line, const char *text,
                         struct norm_source *s, int optional_ok)
{
	if (*text == '?') {
		if (!optional_ok)
			map_die(m, line, "'%s': the département column cannot be optional", text);
		s->optional = 1;
		text++;
	}
	s->spec = edu_strdup(text);
	s->alt = split_list(text, '|', &s->nalt);
	for (size_t i = 0; i < s->nalt; i++)
		if (s->alt[i][0] == '\0')
			map_die(m, line, "'%s': empty source column name", text);
	s->idx = -1;
}

static int valid_target(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Splits a map line on runs of tabs (so columns can be aligned), trimming spaces. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (*line) {
		char *end;

		while (*line == '\t' || *line == ' ')
			line++;
		if (*line == '\0')
			break;
		end = strchr(line, '\t');
		if (n < max)
			f[n] = line;
		n++;
		if (end == NULL)
			end = line + strlen(line);
		else
			*end++ = '\0';
		for (char *t = line + strlen(line); t > line && t[-1] == ' ';)
			*--t = '\0';
		line = end;
	}
	return n;
}

/* "source<TAB>-<TAB>why": a column of the file left out on purpose, and the reason. */
static void parse_ignored(struct norm_map *m, unsigned long line, char **f, size_t nf)
{
	struct norm_ignored *g;

	if (nf != 3)
		map_die(m, line,
		        "a column left out (target -) takes one reason after it, nothing more");
	m->ign = edu_realloc(m->ign, (m->nign + 1) * sizeof(*m->ign));
	g = &m->ign[m->nign++];
	memset(g, 0, sizeof(*g));
	parse_source(m, line, f[0], &g->src, 1);
	g->src.optional = 1; /* a column we do not load may come and go */
	g->why = edu_strdup(f[2]);
}

/* The argument of a rule: the département column of commune_in_dept, the separator of list. */
static void parse_arg(struct norm_map *m, unsigned long line, struct norm_column *c,
                      const char *rule, char *arg)
{
	c->arg.idx = -1;
	if (c->rule == NORM_COMMUNE_IN_DEPT) {
		if (arg == NULL || *arg == '\0')
			map_die(m, line, "commune_in_dept needs =<département source column>");
		parse_source(m, line, arg, &c->arg, 0);
	} else if (c->rule == NORM_LIST) {
		if (arg == NULL || strlen(arg) != 1 || (unsigned char)*arg < 0x21 ||
		    (unsigned char)*arg > 0x7e)
			map_die(m, line,
			        "list needs =<separator>, one ASCII punctuation character");
		c->sep = *arg;
	} else if (arg) {
		map_die(m, line, "rule '%s' takes no argument", rule);
	}
}

static void parse_line(struct norm_map *m, unsigned long line, char *text)
{
	char *f[16], *arg;
	size_t nf = split_fields(text, f, 16);
	struct norm_column *c;
	int rule;

	if (nf < 3)
		map_die(m, line, "expected source, target and rule separated by tabs");
	if (nf > 16)
		map_die(m, line, "too many fields");
	if (strcmp(f[1], "-") == 0) {
		parse_ignored(m, line, f, nf);
		return;
	}
	m->col = edu_realloc(m->col, (m->n + 1) * sizeof(*m->col));
	c = &m->col[m->n++];
	memset(c, 0, sizeof(*c));
	c->line = line;
	parse_source(m, line, f[0], &c->src, 1);
	if (!valid_target(f[1]))
		map_die(m, line, "'%s': target column names are lower-case letters, digits and _",
		        f[1]);
	for (size_t i = 0; i + 1 < m->n; i++)
		if (strcmp(m->col[i].target, f[1]) == 0)
			map_die(m, line, "'%s': target column already mapped on line %lu", f[1],
			        m->col[i].line);
	c->target = edu_strdup(f[1]);
	arg = strchr(f[2], '=');
	if (arg)
		*arg++ = '\0';
	rule = norm_rule_find(f[2]);
	if (rule < 0)
		map_die(m, line, "unknown rule '%s'", f[2]);
	c->rule = (enum norm_rule)rule;
	parse_arg(m, line, c, f[2], arg);
	for (size_t i = 3; i < nf; i++) {
		if (strncmp(f[i], "null=", 5) == 0 && c->nulls == NULL)
			c->nulls = split_list(f[i] + 5, ',', &c->nnull);
		else if (strncmp(f[i], "only=", 5) == 0 && c->only == NULL)
			c->only = split_list(f[i] + 5, ',', &c->nonly);
		else
			map_die(m, line, "'%s': unknown or repeated option (null=, only=)", f[i]);
	}
}

void norm_map_read(struct norm_map *m, const char *file)
{
	ssize_t len;
	unsigned long line = 0;

	memset(m, 0, sizeof(*m));
	m->file = file;
	if ((m->fp = fopen(file, "r")) == NULL)
		edu_die(EDU_EX_CONFIG, "%s:", file);
	while ((len = getline(&m->text, &m->textcap, m->fp)) >= 0) {
		char *text = m->text, *p = text;

		line++;
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		if (memchr(text, '\0', (size_t)len))
			map_die(m, line, "NUL byte");
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		parse_line(m, line, text);
	}
	if (ferror(m->fp))
		edu_die(EDU_EX_CONFIG, "%s: read error:", file);
	fclose(m->fp);
	m->fp = NULL;
	free(m->text);
	m->text = NULL;
	if (m->n == 0)
		edu_die(EDU_EX_CONFIG, "%s: no column mapped", file);
}

/*
 * The column of one name: exactly, else without the blanks around the header's names (some
 * exports pad them, and readers of ONISEP's file strip them); -1 when none. Both lookups are on
 * sorted indexes.
 */
static long find_name(const struct edu_tsv_reader *r, const struct edu_names *trimmed,
                      const char *name)
{
	long idx = edu_tsv_column(r, name);

	return idx >= 0 ? idx : edu_names_find(trimmed, name, strlen(name));
}

/* The column of the first of a source's names that the header has. */
static void resolve(struct norm_source *s, const struct edu_tsv_reader *r,
                    const struct edu_names *trimmed)
{
	for (size_t i = 0; i < s->nalt && s->idx < 0; i++)
		s->idx = find_name(r, trimmed, s->alt[i]);
}

/* The header's names without their surrounding blanks, indexed (the pointers into r->header). */
static void index_trimmed(struct edu_names *x, const struct edu_tsv_reader *r)
{
	const char **p = edu_malloc((r->ncols ? r->ncols : 1) * sizeof(*p));
	size_t *len = edu_malloc((r->ncols ? r->ncols : 1) * sizeof(*len));

	for (size_t i = 0; i < r->ncols; i++) {
		size_t start;

		len[i] = norm_trim(r->header[i], strlen(r->header[i]), &start);
		p[i] = r->header[i] + start;
	}
	edu_names_index(x, p, len, r->ncols);
	free(p);
	free(len);
}

/* Appends "'name'" to a list for messages. */
static void list_add(struct edu_str *list, const char *name)
{
	edu_str_add(list, "%s'%s'", list->len ? ", " : "", name);
}

/*
 * Whether source k of column i repeats an earlier one, optional or required as it is (to list
 * it once): a column that one line requires is checked even when another calls it optional.
 */
static int listed_before(const struct norm_map *m, size_t i, size_t k)
{
	const struct norm_source *me = k ? &m->col[i].arg : &m->col[i].src;

	for (size_t j = 0; j <= i; j++) {
		const struct norm_source *s[2] = {&m->col[j].src, &m->col[j].arg};

		for (size_t l = 0; l < (j == i ? k : 2); l++)
			if (s[l]->spec && s[l]->optional == me->optional &&
			    strcmp(s[l]->spec, me->spec) == 0)
				return 1;
	}
	return 0;
}

/* The required sources missing from the header: schema drift, named with what was expected. */
static void check_required(struct norm_map *m, const struct edu_tsv_reader *r,
                           const struct edu_names *trimmed)
{
	struct edu_str *missing = &m->missing, *expected = &m->expected, *found = &m->found;

	for (size_t i = 0; i < m->n; i++) {
		struct norm_source *s[2] = {&m->col[i].src, &m->col[i].arg};

		for (size_t k = 0; k < 2; k++) {
			if (s[k]->spec == NULL)
				continue;
			resolve(s[k], r, trimmed);
			if (s[k]->idx >= 0)
				m->used[s[k]->idx] = 1;
			if (listed_before(m, i, k) || s[k]->optional)
				continue;
			list_add(expected, s[k]->spec);
			if (s[k]->idx < 0)
				list_add(missing, s[k]->spec);
		}
	}
	/* A line that leaves columns out names each one it leaves out: every name counts. */
	for (size_t i = 0; i < m->nign; i++) {
		struct norm_source *g = &m->ign[i].src;

		for (size_t k = 0; k < g->nalt; k++) {
			long idx = find_name(r, trimmed, g->alt[k]);

			if (idx >= 0)
				m->used[idx] = 1;
			if (g->idx < 0)
				g->idx = idx;
		}
	}
	if (missing->len) {
		for (size_t i = 0; i < r->ncols; i++)
			list_add(found, r->header[i]);
		edu_warn("%s:1: schema drift: mapped columns missing from the input: %s", r->name,
		         missing->p);
		edu_warn("%s:1: expected (%s): %s", r->name, m->file, expected->p);
		edu_die(EDU_EX_DATAERR, "%s:1: found: %s", r->name, found->p);
	}
}

/*
 * The input columns the map does not name, loaded or left out: schema drift with strict; else
 * one warning each (the first NEW_SHOWN, then their number), since a publisher adds columns more
 * often than it removes them and a new one is news, not a reason to stop loading.
 */
#define NEW_SHOWN 20
static void check_unnamed(struct norm_map *m, const struct edu_tsv_reader *r, int strict, int quiet)
{
	struct edu_str *found = &m->found;
	size_t nnew = 0;

	for (size_t i = 0; i < r->ncols; i++) {
		if (m->used[i])
			continue;
		if (strict)
			list_add(found, r->header[i]);
		else if (!quiet && nnew++ < NEW_SHOWN)
			edu_warn("%s:1: column '%s' is not in %s: not loaded", r->name,
			         r->header[i], m->file);
	}
	if (nnew > NEW_SHOWN)
		edu_warn("%s:1: and %zu more columns not in %s: not loaded", r->name,
		         nnew - NEW_SHOWN, m->file);
	if (found->len)
		edu_die(EDU_EX_DATAERR, "%s:1: schema drift: input columns not in %s (-s): %s",
		        r->name, m->file, found->p);
}

/*
 * An optional source that is absent loads NULL, said once per source (a renamed column the map
 * does not know yet would otherwise load NULL for ever, unnoticed).
 */
static void check_optional(const struct norm_map *m, const struct edu_tsv_reader *r)
{
	for (size_t i = 0; i < m->n; i++) {
		struct edu_str targets = {0};

		if (!m->col[i].src.optional || m->col[i].src.idx >= 0 || listed_before(m, i, 0))
			continue;
		for (size_t j = i; j < m->n; j++)
			if (strcmp(m->col[j].src.spec, m->col[i].src.spec) == 0)
				edu_str_add(&targets, "%s%s", targets.len ? ", " : "",
				            m->col[j].target);
		edu_warn("%s:1: optional column '%s' is absent: NULL in %s", r->name,
		         m->col[i].src.spec, targets.p);
		edu_str_free(&targets);
	}
}

/* Checks the input header against the map before any row is written. */
void norm_map_check(struct norm_map *m, const struct edu_tsv_reader *r, int strict, int quiet)
{
	m->used = edu_malloc(r->ncols ? r->ncols : 1);
	memset(m->used, 0, r->ncols);
	index_trimmed(&m->trimmed, r);
	check_required(m, r, &m->trimmed);
	edu_names_free(&m->trimmed);
	check_unnamed(m, r, strict, quiet);
	if (!quiet)
		check_optional(m, r);
	edu_str_free(&m->expected);
	free(m->used);
	m->used = NULL;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void norm_map_free(struct norm_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct norm_column *c = &m->col[i];

		free(c->src.spec);
		free_list(c->src.alt, c->src.nalt);
		free(c->arg.spec);
		free_list(c->arg.alt, c->arg.nalt);
		free(c->target);
		free_list(c->nulls, c->nnull);
		free_list(c->only, c->nonly);
		free(c->out);
	}
	free(m->col);
	for (size_t i = 0; i < m->nign; i++) {
		free(m->ign[i].src.spec);
		free_list(m->ign[i].src.alt, m->ign[i].src.nalt);
		free(m->ign[i].why);
	}
	free(m->ign);
	if (m->fp != NULL)
		fclose(m->fp);
	free(m->text);
	edu_str_free(&m->missing);
	edu_str_free(&m->expected);
	edu_str_free(&m->found);
	free(m->used);
	edu_names_free(&m->trimmed);
	memset(m, 0, sizeof(*m));
}
