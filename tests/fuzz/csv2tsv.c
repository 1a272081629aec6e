/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Fuzzes edu-csv2tsv's conversion (src/edu-csv2tsv-convert.c). The first three bytes choose the
 * options, the rest is the file. Each input is converted twice: as the tool reads a pipe (short
 * reads, a buffer that holds it whole) and through a buffer of 40 to 295 bytes read from a file,
 * so that every line, character and CR LF crosses a buffer boundary somewhere. Both must agree
 * (status, message, rows; in a line longer than the buffer, which is checked piece by piece, the
 * first of two errors may differ), a failure must never write the end-of-data line, and a success
 * must be valid UTF-8 that the contract reader reads back with the same rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"
#include "edu-csv2tsv.h"
#include "fuzz.h"

/*
 * The pipe run's buffer holds any input whole, decoded, as the tool's 1 MiB (C2T_BUF) holds any
 * real line: the same behaviour, at a fraction of the cost per input. Larger inputs are skipped.
 */
#define MAX_INPUT 16384
#define WHOLE (4 * MAX_INPUT)

/*
 * Byte 0: bits 0-2 the delimiter (-d), 3-4 the encoding (-e), 5 -E, 6 -H, 7 a small -m.
 * Byte 1: the small buffer's size, 40 + byte. Byte 2: the pipe's read size, 1 + byte (and
 * with bit 7 of byte 0, -m is 1 + its low 5 bits).
 */
static const char delims[8] = {0, ';', ',', '\t', '|', 0, 0, 0};
static const char *const encodings[4] = {NULL, NULL, "WINDOWS-1252", "UTF-16"};

struct run {
	struct c2t c;
	const char *path; /* NULL: stdin */
	const char *encoding;
	size_t size;
	char delim;
	int out;
};

struct outcome {
	int status;
	char msg[1024];
	char *out;
	size_t len, cap;
	char delim;
	unsigned long long rows;
	size_t ncols;
};

struct readback {
	struct edu_tsv_reader r;
	int fd;
	unsigned long long rows;
};

static void convert(void *arg)
{
	struct run *r = arg;
	struct edu_progress prog;

	edu_progress_init(&prog, "bytes", EDU_PROGRESS_OFF, 0);
	c2t_open(&r->c.in, r->path, r->encoding, r->size);
	r->c.in.name = "in"; /* the same in both runs' messages */
	c2t_start(&r->c, r->out, "out");
	c2t_head(&r->c, r->delim, &prog);
	c2t_convert(&r->c, &prog);
	edu_tsv_finish(&r->c.out);
}

static void run_once(struct run *r, struct outcome *o)
{
	o->status = fuzz_call(convert, r);
	snprintf(o->msg, sizeof(o->msg), "%s", fuzz_messages());
	o->delim = r->c.delim;
	o->rows = r->c.rows;
	o->ncols = r->c.ncols;
	c2t_free(&r->c);
	o->len = fuzz_slurp(r->out, &o->out, &o->cap);
}

static void read_rows(void *arg)
{
	struct readback *b = arg;

	edu_tsv_open(&b->r, b->fd, "out");
	while (edu_tsv_next(&b->r))
		b->rows++;
}

/* True when the output holds the end-of-data line. */
static int has_eod(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, "\\.\n", 3) == 0)
			return 1;
	return 0;
}

/* The line number a message names ("edu: in:12: ..."), or 0. */
static unsigned long msg_line(const char *msg)
{
	const char *p = strstr(msg, ": in:");

	return p ? strtoul(p + 5, NULL, 10) : 0;
}

/*
 * Whether a line from line k on is too long for a buffer of size bytes, so that it was converted
 * in pieces. With -e the raw bytes only bound the decoded ones: each may become three (and UTF-16
 * has its line ends elsewhere), so any line counts there.
 */
static int in_pieces(const char *p, size_t n, const char *enc, unsigned long k, size_t size)
{
	const char *end = p + n;

	if (enc != NULL) {
		k = 1;
		size /= 3;
	}
	for (unsigned long i = 1; p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);

		if (i >= k && len + 1 >= size)
			return 1;
		p += len;
	}
	return 0;
}

/* True when one of the two is a prefix of the other. */
static int prefix(const struct outcome *a, const struct outcome *b)
{
	return memcmp(a->out, b->out, a->len < b->len ? a->len : b->len) == 0;
}

static void check_success(const struct outcome *o, int out, const char *body, size_t n,
                          const char *enc)
{
	struct readback b;

	FUZZ_ASSERT(o->msg[0] == '\0');
	FUZZ_ASSERT(fuzz_utf8(o->out, o->len));
	if (enc == NULL || strcmp(enc, "UTF-16") != 0)
		FUZZ_ASSERT(memchr(body, '\0', n) == NULL);
	if (enc == NULL)
		FUZZ_ASSERT(fuzz_utf8(body, n));
	memset(&b, 0, sizeof(b));
	b.fd = out;
	FUZZ_ASSERT(lseek(out, 0, SEEK_SET) == 0);
	FUZZ_ASSERT(fuzz_call(read_rows, &b) == 0);
	FUZZ_ASSERT(b.rows == o->rows && b.r.ncols == o->ncols);
	edu_tsv_close(&b.r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int outa = -1, outb = -1, in = -1;
	static struct outcome a, b;
	struct run r;
	const char *body = (const char *)data + 3, *enc;
	size_t n = size - 3;
	int fd;

	if (size < 3 || size > MAX_INPUT)
		return 0;
	enc = encodings[(data[0] >> 3) & 3];

	/* A: the tool as it reads a pipe. */
	memset(&r, 0, sizeof(r));
	r.encoding = enc;
	r.size = WHOLE;
	r.delim = delims[data[0] & 7];
	r.c.keep_empty = (data[0] >> 5) & 1;
	r.c.no_header = (data[0] >> 6) & 1;
	r.c.maxfield = data[0] & 0x80 ? 1 + (size_t)(data[2] & 31) : (size_t)16 << 20;
	r.out = fuzz_file(&outa, "", 0);
	fd = fuzz_pipe(body, n, 1 + (size_t)data[2]);
	if (dup2(fd, STDIN_FILENO) < 0)
		fuzz_fail("dup2", __FILE__, __LINE__);
	close(fd);
	run_once(&r, &a);

	/* B: a small buffer over a file, with the delimiter A found. */
	memset(&r.c, 0, sizeof(r.c));
	r.c.keep_empty = (data[0] >> 5) & 1;
	r.c.no_header = (data[0] >> 6) & 1;
	r.c.maxfield = data[0] & 0x80 ? 1 + (size_t)(data[2] & 31) : (size_t)16 << 20;
	r.path = fuzz_path(fuzz_file(&in, body, n));
	r.size = 40 + (size_t)data[1];
	if (a.delim)
		r.delim = a.delim;
	r.out = fuzz_file(&outb, "", 0);
	run_once(&r, &b);

	FUZZ_ASSERT(a.status == 0 || a.status == EDU_EX_DATAERR || a.status == EDU_EX_TRUNCATED);
	if (a.status != b.status || strcmp(a.msg, b.msg) != 0) {
		/*
		 * Allowed only when both refuse the input and either the decoder found bad bytes
		 * first (the pipe run decodes all before parsing) or a line that the small buffer
		 * takes in pieces holds two errors, of which a piece shows the later one first.
		 */
		unsigned long la = msg_line(a.msg), lb = msg_line(b.msg);

		if (a.status == 0 || b.status == 0 ||
		    !(strstr(a.msg, "byte sequence") || strstr(b.msg, "byte sequence") ||
		      in_pieces(body, n, enc, la < lb ? la : lb, r.size))) {
			dprintf(STDERR_FILENO, "fuzz: pipe run: exit %d: %s", a.status, a.msg);
			dprintf(STDERR_FILENO, "fuzz: small buffer (%zu bytes): exit %d: %s",
			        r.size, b.status, b.msg);
			fuzz_fail("both runs end the same", __FILE__, __LINE__);
		}
	}
	if (a.status == 0) {
		FUZZ_ASSERT(a.len == b.len && memcmp(a.out, b.out, a.len) == 0);
		check_success(&a, outa, body, n, enc);
	} else {
		FUZZ_ASSERT(!has_eod(a.out, a.len) && !has_eod(b.out, b.len));
		FUZZ_ASSERT(prefix(&a, &b));
	}
	return 0;
}
