/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Column names, sorted once: a header's duplicate check and every lookup of a name in it cost
 * O(n log n) and O(log n), never a comparison of each name with every other, because a hostile
 * or broken header may hold thousands of columns. Names are byte strings with a length, so
 * a name holding a NUL byte is compared whole. It does not copy the names.
 */
#include <stdlib.h>
#include <string.h>

#include "edu.h"

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	if (c != 0)
		return c;
	return an < bn ? -1 : an > bn;
}

/* By name, then by position: equal names stay in header order. */
static int cmp_name(const void *va, const void *vb)
{
	const struct edu_name *a = va, *b = vb;
	int c = cmp_bytes(a->p, a->n, b->p, b->n);

	if (c != 0)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

void edu_names_index(struct edu_names *x, const char *const *names, const size_t *lens, size_t n)
{
	x->n = n;
	x->v = edu_malloc(n * sizeof(*x->v));
	for (size_t i = 0; i < n; i++) {
		x->v[i].p = names[i];
		x->v[i].n = lens ? lens[i] : strlen(names[i]);
		x->v[i].i = i;
	}
	qsort(x->v, n, sizeof(*x->v), cmp_name);
}

size_t edu_names_dup(const struct edu_names *x, size_t *first)
{
	size_t dup = x->n;

	for (size_t k = 1; k < x->n; k++) {
		const struct edu_name *a = &x->v[k - 1], *b = &x->v[k];

		/* In a run of equal names the first two are the earliest pair of that name. */
		if (b->i < dup && cmp_bytes(a->p, a->n, b->p, b->n) == 0 &&
		    (k < 2 || cmp_bytes(x->v[k - 2].p, x->v[k - 2].n, a->p, a->n) != 0)) {
			dup = b->i;
			*first = a->i;
		}
	}
	return dup;
}

long edu_names_find(const struct edu_names *x, const char *p, size_t n)
{
	size_t lo = 0, hi = x->n;

	/* The first of equal names, as a scan from the left would find. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_bytes(x->v[mid].p, x->v[mid].n, p, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->n && cmp_bytes(x->v[lo].p, x->v[lo].n, p, n) == 0)
		return (long)x->v[lo].i;
	return -1;
}

void edu_names_free(struct edu_names *x)
{
	free(x->v);
	x->v = NULL;
	x->n = 0;
}
