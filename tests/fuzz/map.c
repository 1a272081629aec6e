/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Fuzzes the mapping file of edu-normalize (src/edu-normalize-map.c). The input is a map, then
 * optionally a NUL byte, a flag byte (bit 0 -s, bit 1 -q) and a header line to check the map
 * against. A map is refused with 78 only, a header with 65 or 79 only; a map that is read holds
 * what docs/mapping.md promises, and a check that passes found each source column at the first
 * of its names that the header has (exactly, else without the blanks around it); with -s, every
 * input column is loaded or left out.
 */
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "edu-normalize.h"
#include "fuzz.h"

#define MAX_INPUT 65536

struct map_run {
	struct norm_map m;
	const char *path;
	struct edu_tsv_reader r;
	int fd, strict, quiet;
};

static void read_map(void *arg)
{
	struct map_run *s = arg;

	norm_map_read(&s->m, s->path);
}

static void check_map(void *arg)
{
	struct map_run *s = arg;

	edu_tsv_open(&s->r, s->fd, "in");
	norm_map_check(&s->m, &s->r, s->strict, s->quiet);
}

static int valid_target(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && n <= 63 && s[n] == '\0' && !(s[0] >= '0' && s[0] <= '9');
}

static void check_read(const struct norm_map *m)
{
	FUZZ_ASSERT(m->n > 0);
	for (size_t i = 0; i < m->n; i++) {
		const struct norm_column *c = &m->col[i];

		FUZZ_ASSERT(valid_target(c->target));
		for (size_t j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(m->col[j].target, c->target) != 0);
		FUZZ_ASSERT(strcmp(norm_rule_name(c->rule), "?") != 0);
		FUZZ_ASSERT((c->rule == NORM_COMMUNE_IN_DEPT) == (c->arg.spec != NULL));
		FUZZ_ASSERT(c->src.nalt > 0 && !c->arg.optional);
		for (size_t k = 0; k < c->src.nalt; k++)
			FUZZ_ASSERT(c->src.alt[k][0] != '\0');
	}
}

/* Whether header name h is name, exactly (trim 0) or once the blanks around h are off. */
static int same(const char *h, const char *name, int trim)
{
	size_t start, n = strlen(h);

	if (trim)
		n = norm_trim(h, n, &start);
	else
		start = 0;
	return n == strlen(name) && memcmp(h + start, name, n) == 0;
}

/* The column of one name: the first exact match, else the first trimmed one, else -1. */
static long find(const struct edu_tsv_reader *r, const char *name)
{
	for (int trim = 0; trim < 2; trim++)
		for (size_t i = 0; i < r->ncols; i++)
			if (same(r->header[i], name, trim))
				return (long)i;
	return -1;
}

/* Where a source column is, as its names and the header say. */
static void check_found(const struct norm_source *s, const struct edu_tsv_reader *r,
                        unsigned char *used)
{
	long want = -1;

	if (s->spec == NULL)
		return;
	for (size_t k = 0; k < s->nalt && want < 0; k++)
		want = find(r, s->alt[k]);
	FUZZ_ASSERT(s->idx == want);
	FUZZ_ASSERT(want >= 0 || s->optional);
	if (want >= 0)
		used[want] = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int mapfd = -1, hdrfd = -1;
	struct map_run s;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t maplen = nul ? (size_t)(nul - data) : size;
	int status;

	if (size > MAX_INPUT)
		return 0;
	memset(&s, 0, sizeof(s));
	s.path = fuzz_path(fuzz_file(&mapfd, data, maplen));
	status = fuzz_call(read_map, &s);
	FUZZ_ASSERT(status == 0 || status == EDU_EX_CONFIG);
	if (status == 0)
		check_read(&s.m);
	if (status == 0 && nul != NULL && maplen + 1 < size) {
		const uint8_t *hdr = nul + 2;
		size_t n = size - maplen - 2;
		char *text = malloc(n + 4);

		FUZZ_ASSERT(text != NULL);
		memcpy(text, hdr, n);
		memcpy(text + n, "\n\\.\n", 4);
		s.strict = nul[1] & 1;
		s.quiet = (nul[1] >> 1) & 1;
		s.fd = fuzz_file(&hdrfd, text, n + 4);
		free(text);
		status = fuzz_call(check_map, &s);
		FUZZ_ASSERT(status == 0 || status == EDU_EX_DATAERR || status == EDU_EX_TRUNCATED);
		if (status == 0) {
			unsigned char *used = calloc(s.r.ncols, 1);

			FUZZ_ASSERT(used != NULL);
			for (size_t i = 0; i < s.m.n; i++) {
				check_found(&s.m.col[i].src, &s.r, used);
				check_found(&s.m.col[i].arg, &s.r, used);
			}
			/* A column left out counts as named under each of its names. */
			for (size_t i = 0; i < s.m.nign; i++)
				for (size_t k = 0; k < s.m.ign[i].src.nalt; k++) {
					long idx = find(&s.r, s.m.ign[i].src.alt[k]);

					if (idx >= 0)
						used[idx] = 1;
				}
			for (size_t i = 0; i < s.r.ncols && s.strict; i++)
				FUZZ_ASSERT(used[i]);
			free(used);
		}
		edu_tsv_close(&s.r);
	}
	norm_map_free(&s.m);
	return 0;
}
