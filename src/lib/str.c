/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * A growing string for building SQL and messages with printf formats. Allocation failure is
 * fatal like every edu_ allocation; there is no truncation to check for.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"

void edu_str_add(struct edu_str *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		edu_die(EDU_EX_SOFTWARE, "edu_str_add: bad format");
	if (s->len + (size_t)n + 1 > s->cap) {
		s->cap = (s->len + (size_t)n + 1) * 2;
		s->p = edu_realloc(s->p, s->cap);
	}
	va_start(ap, fmt);
	vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

void edu_str_addn(struct edu_str *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = edu_realloc(s->p, s->cap);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
}

void edu_str_free(struct edu_str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = s->cap = 0;
}
