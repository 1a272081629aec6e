/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-csv2tsv: the input side (a read buffer with a sentinel, optional iconv
 * decoding), shared by src/edu-csv2tsv.c and src/edu-csv2tsv-io.c. Nothing here is part of the
 * suite's library; -o is the library's atomic file (src/lib/atomic.c).
 */
#ifndef EDU_CSV2TSV_H
#define EDU_CSV2TSV_H

#include <stddef.h>

struct c2t_in {
	int fd;
	const char *name; /* for messages: the file name or "stdin" */
	/* UTF-8 text: buf[pos..end) unread, buf[end] is always a '\n' sentinel */
	unsigned char *buf;
	size_t pos, end, cap;
	size_t size; /* buf holds size + 1 bytes; -e lowers cap when a character won't fit */
	int eof;
	unsigned long long base; /* stream offset of buf[0] */
	/* -e: raw bytes waiting for iconv */
	void *cd;
	const char *encoding;
	char *raw;
	size_t rawpos, rawend, rawcap;
	int raweof;
	unsigned long long rawbase; /* file offset of raw[0] */
	/* a decoding error found by c2t_fill: its file offset, reported by the caller */
	int bad;
	unsigned long long bad_off;
};

/* Opens path (NULL: stdin) for reading, decoding from encoding (NULL: UTF-8 as is). */
void c2t_open(struct c2t_in *in, const char *path, const char *encoding);
/* Moves the unread bytes to the front and reads more; returns the raw bytes read. */
size_t c2t_fill(struct c2t_in *in);
/* The stream offset of a byte in buf. */
unsigned long long c2t_offset(const struct c2t_in *in, const unsigned char *p);
/* The input's size when it is a regular file, else 0 (for the progress meter). */
unsigned long long c2t_size(const struct c2t_in *in);
/* How much of buf[0..n) can be handed over without cutting a UTF-8 sequence or a CR LF. */
size_t c2t_safe_cut(const unsigned char *p, size_t n);
void c2t_close(struct c2t_in *in);

#endif
