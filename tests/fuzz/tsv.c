/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Fuzzes the contract reader (src/lib/tsv.c): edu_tsv_open, edu_tsv_next, edu_tsv_column,
 * edu_field_is_null and edu_field_unescape, on a stream read in short reads as from a pipe (the
 * first byte sets their size). A refusal must be 65 or 79; a header name must be found at its
 * own column; every field that unescapes must come back the same through the writer
 * (edu_tsv_put_field) and the reader again.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "fuzz.h"

/* Larger inputs are skipped: the pipe's packets must fit in its socket (fuzz_pipe). */
#define MAX_INPUT 65536

struct read {
	struct edu_tsv_reader r;
	int fd;
	struct edu_out o; /* the writer, into its buffer only (never flushed) */
	char *val, *again;
	size_t valcap, againcap;
};

/* What the writer makes of v[0..n) reads back as v[0..n). */
static void round_trip(struct read *s, size_t n)
{
	struct edu_field f;
	size_t m;

	s->o.len = 0;
	edu_tsv_put_field(&s->o, s->val, n);
	FUZZ_ASSERT(s->o.len <= 2 * n);
	FUZZ_ASSERT(memchr(s->o.buf, '\t', s->o.len) == NULL);
	FUZZ_ASSERT(memchr(s->o.buf, '\n', s->o.len) == NULL);
	f.p = s->o.buf;
	f.n = s->o.len;
	m = edu_field_unescape(&f, &s->again, &s->againcap);
	FUZZ_ASSERT(m == n && memcmp(s->again, s->val, n) == 0);
}

static void read_all(void *arg)
{
	struct read *s = arg;

	edu_tsv_open(&s->r, s->fd, "in");
	for (size_t i = 0; i < s->r.ncols; i++)
		FUZZ_ASSERT(edu_tsv_column(&s->r, s->r.header[i]) == (long)i);
	while (edu_tsv_next(&s->r)) {
		for (size_t i = 0; i < s->r.ncols; i++) {
			const struct edu_field *f = &s->r.fields[i];
			size_t n;

			FUZZ_ASSERT(memchr(f->p, '\t', f->n) == NULL);
			n = edu_field_unescape(f, &s->val, &s->valcap);
			if (edu_field_is_null(f))
				FUZZ_ASSERT(n == (size_t)-1);
			else if (n != (size_t)-1)
				round_trip(s, n);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct read s;
	int status;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	memset(&s, 0, sizeof(s));
	s.fd = fuzz_pipe(data + 1, size - 1, 1 + (size_t)data[0]);
	/* fd -1: a flush would be an error, and the buffer holds any field of a small input. */
	edu_out_init(&s.o, -1, "writer");
	status = fuzz_call(read_all, &s);
	FUZZ_ASSERT(status == 0 || status == EDU_EX_DATAERR || status == EDU_EX_TRUNCATED);
	edu_tsv_close(&s.r);
	edu_out_free(&s.o);
	free(s.val);
	free(s.again);
	close(s.fd);
	return 0;
}
