/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The years a source published one file per year offers, read at run time, never from a list
 * in the config: the links of a directory index page (geo-DVF's latest/csv/, whose entries are
 * YYYY/), or the resources of its data.gouv.fr dataset (valeursfoncieres-YYYY.txt.zip). The
 * config's "years.match", a POSIX extended regular expression, picks the entries and its first
 * group is the year. An index that lists no year is a failure, so an error page served with
 * status 200 is never read as "no year". It does not check the years' files.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edu.h"

#define INDEX_MAX (4 << 20) /* bytes: a directory index is small; more is not one */
#define YEAR_MIN 1900
#define YEAR_MAX 9999

int edu_source_match_year(const struct edu_source *s, const char *name)
{
	regmatch_t m[2];
	int year = 0;

	if (s->years_re == NULL || regexec(s->years_re, name, 2, m, 0) != 0 || m[1].rm_so < 0 ||
	    m[1].rm_eo - m[1].rm_so != 4)
		return 0;
	for (regoff_t i = m[1].rm_so; i < m[1].rm_eo; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		year = year * 10 + (name[i] - '0');
	}
	return year >= YEAR_MIN && year <= YEAR_MAX ? year : 0;
}

/* The index page in memory: a sink that keeps at most INDEX_MAX bytes and says it had more. */
struct page {
	struct edu_str text;
	int over;
};
static void page_sink(void *ctx, const char *p, size_t n)
{
	struct page *pg = ctx;

	if (pg->over || pg->text.len + n > INDEX_MAX)
		pg->over = 1;
	else
		edu_str_addn(&pg->text, p, n);
}
static void page_restart(void *ctx)
{
	struct page *pg = ctx;

	pg->text.len = 0;
	if (pg->text.p)
		pg->text.p[0] = '\0';
	pg->over = 0;
}

/*
 * The last segment of a link, a trailing '/' kept ("/geo-dvf/latest/csv/2023/" and "2023/"
 * give "2023/"), without query or fragment; "" when it does not fit in n bytes.
 */
static void link_segment(const char *v, size_t len, char *seg, size_t n)
{
	size_t end = 0, start;

	while (end < len && v[end] != '?' && v[end] != '#')
		end++;
	start = end > 0 && v[end - 1] == '/' ? end - 1 : end;
	while (start > 0 && v[start - 1] != '/')
		start--;
	if (end - start >= n) {
		*seg = '\0';
		return;
	}
	memcpy(seg, v + start, end - start);
	seg[end - start] = '\0';
}

/* Marks the year of every href="..." of the page whose last segment years_match accepts. */
static void index_years(const struct edu_source *s, const char *p, size_t len, unsigned char *seen)
{
	char seg[256];

	for (size_t i = 0; i + 4 < len; i++) {
		size_t j = i + 4, start;
		char quote = 0;
		int year;

		if (strncasecmp(p + i, "href", 4) != 0)
			continue;
		while (j < len && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' || p[j] == '\n'))
			j++;
		if (j >= len || p[j] != '=')
			continue;
		for (j++; j < len && (p[j] == ' ' || p[j] == '\t'); j++)
			;
		if (j < len && (p[j] == '"' || p[j] == '\''))
			quote = p[j++];
		for (start = j; j < len; j++)
			if (quote ? p[j] == quote : strchr(" \t\r\n>", p[j]) != NULL)
				break;
		link_segment(p + start, j - start, seg, sizeof(seg));
		if ((year = edu_source_match_year(s, seg)) != 0)
			seen[year] = 1;
		i = j;
	}
}

static int read_index(const struct edu_source *s, const struct edu_http *o, unsigned char *seen,
                      struct edu_http_res *rs, char *err, size_t n)
{
	struct edu_http rq;
	struct page pg = {{0}, 0};
	int rc;

	edu_http_small(&rq, o, s->years_url, EDU_FMT_ANY);
	rq.sink = page_sink;
	rq.restart = page_restart;
	rq.ctx = &pg;
	edu_str_addn(&pg.text, "", 0);
	if ((rc = edu_http_get(&rq, rs)) != EDU_EX_OK) {
		snprintf(err, n, "%s: %s", s->years_url, rs->error);
	} else if (pg.over) {
		snprintf(err, n, "%s: more than %d MiB: not a directory index", s->years_url,
		         INDEX_MAX >> 20);
		rc = EDU_EX_UNAVAILABLE;
	} else {
		index_years(s, pg.text.p, pg.text.len, seen);
	}
	edu_str_free(&pg.text);
	return rc;
}

const char *edu_source_years_url(const struct edu_source *s)
{
	return strcmp(s->years_from, "index") == 0 ? s->years_url : s->resolve_api;
}

int edu_source_years(struct edu_source *s, const struct edu_http *o, int **years, size_t *n,
                     struct edu_http_res *rs, char *err, size_t en)
{
	unsigned char *seen = calloc(YEAR_MAX + 1, 1);
	int rc;

	if (seen == NULL)
		edu_die(EDU_EX_OSERR, "out of memory");
	memset(rs, 0, sizeof(*rs));
	*years = NULL;
	*n = 0;
	if (strcmp(s->years_from, "index") == 0) {
		rc = read_index(s, o, seen, rs, err, en);
	} else {
		rc = edu_source_resources(s, o, rs, err, en);
		for (size_t i = 0; rc == EDU_EX_OK && i < s->nres; i++) {
			int y = edu_source_match_year(s, s->res[i].name);

			if (y)
				seen[y] = 1;
		}
	}
	for (int y = YEAR_MIN; rc == EDU_EX_OK && y <= YEAR_MAX; y++) {
		if (!seen[y])
			continue;
		*years = edu_realloc(*years, (*n + 1) * sizeof(**years));
		(*years)[(*n)++] = y;
	}
	free(seen);
	if (rc == EDU_EX_OK && *n == 0) {
		snprintf(err, en, "%s: no year listed (no entry matches %s): not the list of years",
		         edu_source_years_url(s), s->years_match);
		rc = EDU_EX_UNAVAILABLE;
	}
	return rc;
}
