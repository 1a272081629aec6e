/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Buffered, checked output on a raw file descriptor. Filters write hundreds of megabytes, so
 * this avoids stdio's per-call locking; every error is fatal because a short write that goes
 * unnoticed is exactly the silent data loss the suite exists to prevent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"

#define EDU_OUT_CAP (256 * 1024)

void edu_out_init(struct edu_out *o, int fd, const char *name)
{
	o->fd = fd;
	o->name = name;
	o->cap = EDU_OUT_CAP;
	o->len = 0;
	o->buf = edu_malloc(o->cap);
}

static void write_all(struct edu_out *o, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				edu_broken_pipe();
			edu_die(EDU_EX_IOERR, "%s: write error:", o->name);
		}
		p += w;
		n -= (size_t)w;
	}
}

void edu_out_flush(struct edu_out *o)
{
	write_all(o, o->buf, o->len);
	o->len = 0;
}

void edu_out_write(struct edu_out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		edu_out_flush(o);
		if (n >= o->cap) {
			write_all(o, p, n);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void edu_out_rewind(struct edu_out *o)
{
	o->len = 0;
	if (ftruncate(o->fd, 0) == -1 || lseek(o->fd, 0, SEEK_SET) == -1)
		edu_die(EDU_EX_IOERR, "%s: cannot rewind:", o->name);
}

void edu_out_sink(void *o, const char *p, size_t n)
{
	edu_out_write(o, p, n);
}

void edu_out_restart(void *o)
{
	edu_out_rewind(o);
}

void edu_out_free(struct edu_out *o)
{
	free(o->buf);
	o->buf = NULL;
}
