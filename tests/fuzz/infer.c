/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Fuzzes edu-normalize -I (src/edu-normalize-infer.c). The input is a sample in the contract
 * (an end-of-data line is added). A sample the reader refuses is refused with 65 or 79 only; one
 * it accepts gives a draft that edu-normalize reads as a map (a draft of no column aside), and
 * that map finds every source it requires in the sample's own header: a draft is never schema
 * drift against the file it was made from.
 */
#include <stdlib.h>
#include <string.h>

#include "edu-normalize.h"
#include "edu.h"
#include "fuzz.h"

#define MAX_INPUT 65536

struct infer_run {
	int fd, out;
	struct edu_tsv_reader r;
	struct norm_map m;
	const char *path;
};

/* The sample through the reader alone: whether -I can read it to its end. */
static void read_sample(void *arg)
{
	struct infer_run *s = arg;

	edu_tsv_open(&s->r, s->fd, "in");
	while (edu_tsv_next(&s->r))
		;
}

static void draft(void *arg)
{
	struct infer_run *s = arg;
	struct edu_out o;

	edu_tsv_open(&s->r, s->fd, "in");
	edu_out_init(&o, s->out, "draft");
	norm_infer(&s->r, &o, "in");
	edu_out_flush(&o);
	edu_out_free(&o);
}

static void read_map(void *arg)
{
	struct infer_run *s = arg;

	norm_map_read(&s->m, s->path);
}

static void check_map(void *arg)
{
	struct infer_run *s = arg;

	edu_tsv_open(&s->r, s->fd, "in");
	norm_map_check(&s->m, &s->r, 0, 1);
}

/* Whether the draft in buf[0..n) has a line that is not a comment. */
static int drafted_a_line(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || buf[i - 1] == '\n') && buf[i] != '#' && buf[i] != '\n')
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int infd = -1, outfd = -1;
	static char *buf;
	static size_t cap;
	struct infer_run s;
	char *text;
	size_t n;
	int status;

	if (size > MAX_INPUT)
		return 0;
	text = malloc(size + 4);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	memcpy(text + size, "\n\\.\n", 4);
	memset(&s, 0, sizeof(s));
	s.fd = fuzz_file(&infd, text, size + 4);
	status = fuzz_call(read_sample, &s);
	edu_tsv_close(&s.r);
	FUZZ_ASSERT(status == 0 || status == EDU_EX_DATAERR || status == EDU_EX_TRUNCATED);
	if (status == 0) {
		s.fd = fuzz_file(&infd, text, size + 4);
		s.out = fuzz_file(&outfd, "", 0);
		FUZZ_ASSERT(fuzz_call(draft, &s) == 0);
		edu_tsv_close(&s.r);
		n = fuzz_slurp(s.out, &buf, &cap);
		s.path = fuzz_path(s.out);
		status = fuzz_call(read_map, &s);
		FUZZ_ASSERT(status == 0 || (status == EDU_EX_CONFIG && !drafted_a_line(buf, n)));
		if (status == 0) {
			s.fd = fuzz_file(&infd, text, size + 4);
			FUZZ_ASSERT(fuzz_call(check_map, &s) == 0);
			edu_tsv_close(&s.r);
		}
		norm_map_free(&s.m);
	}
	free(text);
	return 0;
}
