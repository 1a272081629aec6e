/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The input plumbing of edu-csv2tsv: a large read buffer that always ends with a '\n' sentinel
 * (so the fast path needs no bounds check per byte), and streamed decoding through glibc's
 * iconv for -e. It does not parse CSV; -o is src/lib/atomic.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edu.h"
#include "edu-csv2tsv.h"

void c2t_open(struct c2t_in *in, const char *path, const char *encoding, size_t size)
{
	memset(in, 0, sizeof(*in));
	if (path == NULL || strcmp(path, "-") == 0) {
		in->fd = STDIN_FILENO;
		in->name = "stdin";
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			edu_die(EDU_EX_NOINPUT, "%s:", path);
		in->name = path;
	}
	in->cap = in->size = size;
	in->buf = edu_malloc(in->size + 1);
	in->buf[0] = '\n';
	if (encoding != NULL) {
		iconv_t cd = iconv_open("UTF-8", encoding);

		if (cd == (iconv_t)-1)
			edu_die(EDU_EX_USAGE, "-e %s: unknown encoding (iconv -l lists them)",
			        encoding);
		in->cd = cd;
		in->encoding = encoding;
		in->rawcap = size / 4;
		in->raw = edu_malloc(in->rawcap);
	}
}

static ssize_t read_some(struct c2t_in *in, void *p, size_t n)
{
	ssize_t r;

	while ((r = read(in->fd, p, n)) < 0 && errno == EINTR)
		;
	if (r < 0)
		edu_die(EDU_EX_IOERR, "%s: read error:", in->name);
	return r;
}

/* Decodes raw bytes into buf, reading raw input until some text comes out or input ends. */
static size_t decode(struct c2t_in *in)
{
	size_t got = 0, end0 = in->end;

	for (;;) {
		if (in->rawpos < in->rawend) {
			char *ip = in->raw + in->rawpos, *op = (char *)in->buf + in->end;
			size_t il = in->rawend - in->rawpos, ol = in->cap - in->end, before = il;
			size_t r = iconv((iconv_t)in->cd, &ip, &il, &op, &ol);

			in->rawpos += before - il;
			in->end = (size_t)((unsigned char *)op - in->buf);
			if (r == (size_t)-1 && errno == EILSEQ) {
				in->bad = 1;
				in->bad_off = in->rawbase + in->rawpos;
				in->eof = 1;
				return got;
			}
			/*
			 * E2BIG: the next character does not fit in the room left, so the buffer
			 * counts as full (a longer line is then handed over in pieces) until the
			 * next move; otherwise all used, or a sequence cut (EINVAL).
			 */
			if (r == (size_t)-1 && errno == E2BIG)
				in->cap = in->end;
			if (in->end > end0 || (r == (size_t)-1 && errno == E2BIG))
				return got;
		}
		if (in->raweof) {
			if (in->rawpos < in->rawend) {
				/* A multibyte sequence cut by the end of the file. */
				in->bad = 1;
				in->bad_off = in->rawbase + in->rawpos;
			}
			in->eof = 1;
			return got;
		}
		memmove(in->raw, in->raw + in->rawpos, in->rawend - in->rawpos);
		in->rawbase += in->rawpos;
		in->rawend -= in->rawpos;
		in->rawpos = 0;
		ssize_t n = read_some(in, in->raw + in->rawend, in->rawcap - in->rawend);

		if (n == 0)
			in->raweof = 1;
		in->rawend += (size_t)n;
		got += (size_t)n;
	}
}

size_t c2t_fill(struct c2t_in *in)
{
	size_t got = 0;

	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->end - in->pos);
		in->base += in->pos;
		in->end -= in->pos;
		in->pos = 0;
		in->cap = in->size;
	}
	if (in->eof || in->end == in->cap) {
		in->buf[in->end] = '\n';
		return 0;
	}
	if (in->cd != NULL) {
		got = decode(in);
	} else {
		ssize_t n = read_some(in, in->buf + in->end, in->cap - in->end);

		if (n == 0)
			in->eof = 1;
		in->end += (size_t)n;
		got = (size_t)n;
	}
	in->buf[in->end] = '\n';
	return got;
}

unsigned long long c2t_offset(const struct c2t_in *in, const unsigned char *p)
{
	return in->base + (unsigned long long)(p - in->buf);
}

unsigned long long c2t_size(const struct c2t_in *in)
{
	struct stat st;

	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode))
		return (unsigned long long)st.st_size;
	return 0;
}

size_t c2t_safe_cut(const unsigned char *p, size_t n)
{
	size_t i = n;

	/* Never a CR at the end: the byte after it says whether it ends a line or is an error. */
	while (i > 0 && p[i - 1] == '\r')
		i--;
	if (i < n)
		return i > 0 ? i : n;
	while (i > 0 && n - i < 4 && (p[i - 1] & 0xC0) == 0x80)
		i--;
	if (i > 0 && p[i - 1] >= 0xC0) {
		unsigned char b = p[i - 1];
		size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;

		if (n - (i - 1) < want)
			return i - 1 > 0 ? i - 1 : n;
	}
	return n;
}

void c2t_close(struct c2t_in *in)
{
	if (in->fd != STDIN_FILENO)
		close(in->fd);
	if (in->cd != NULL)
		iconv_close((iconv_t)in->cd);
	free(in->buf);
	free(in->raw);
}
