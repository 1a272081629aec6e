/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Private to edu-csv2tsv: the input side (a read buffer with a sentinel, optional iconv
 * decoding, src/edu-csv2tsv-io.c) and the conversion (src/edu-csv2tsv-convert.c) that
 * src/edu-csv2tsv.c drives, and tests/fuzz/ too. Nothing here is part of the suite's library;
 * -o is the library's atomic file (src/lib/atomic.c).
 */
#ifndef EDU_CSV2TSV_H
#define EDU_CSV2TSV_H

#include <csv.h>
#include <stddef.h>

#include "edu.h"

/* The read buffer of the tool: a line longer than this is handed to libcsv in pieces. */
#define C2T_BUF (1024 * 1024)

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

/*
 * Opens path (NULL: stdin) for reading, decoding from encoding (NULL: UTF-8 as is), with a read
 * buffer of size bytes (C2T_BUF; the fuzzer's are small, to reach every boundary case) and a
 * quarter of that for the raw bytes of -e.
 */
void c2t_open(struct c2t_in *in, const char *path, const char *encoding, size_t size);
/* Moves the unread bytes to the front and reads more; returns the raw bytes read. */
size_t c2t_fill(struct c2t_in *in);
/* The stream offset of a byte in buf. */
unsigned long long c2t_offset(const struct c2t_in *in, const unsigned char *p);
/* The input's size when it is a regular file, else 0 (for the progress meter). */
unsigned long long c2t_size(const struct c2t_in *in);
/* How much of buf[0..n) can be handed over: no UTF-8 sequence cut, no CR last (it may be CR LF). */
size_t c2t_safe_cut(const unsigned char *p, size_t n);
void c2t_close(struct c2t_in *in);

/* What one conversion knows: its input and output, libcsv, and the record in hand. */
struct c2t {
	struct c2t_in in;
	struct edu_out out;
	struct csv_parser csv;
	unsigned char kind[256];
	char delim;
	int keep_empty, no_header;
	size_t maxfield;
	unsigned long line;      /* physical lines consumed */
	unsigned long rec_line;  /* first physical line of the record in the slow path */
	unsigned long cur_line;  /* the physical line the slow path is reading */
	unsigned long long rows; /* data rows written */
	int first;               /* the next record is the header (or the first row with -H) */
	int in_record;           /* the slow path holds an unfinished record */
	int quote_odd;           /* quote parity of the unfinished slow record */
	size_t nf;               /* fields of the current slow record */
	size_t ncols;
	size_t row_start; /* out.len when the current slow record began */
	int row_spilled;  /* the current record was partly flushed already */
	size_t line_fed;  /* bytes of a line longer than the buffer fed before, for messages */
	/* the first record, kept until the column count is known */
	char **names;
	size_t *lens;
	unsigned char *isnull;
	size_t nnames, capnames;
};

/*
 * Sets up the conversion of c->in (opened) to fd, which name names in messages: the output
 * buffer and libcsv, with c->keep_empty, c->no_header and c->maxfield as set by the caller.
 */
void c2t_start(struct c2t *c, int fd, const char *name);
/* Strips a BOM and takes delim, or detects it from the first line when delim is 0. */
void c2t_head(struct c2t *c, char delim, struct edu_progress *prog);
/*
 * Converts the rest of the input, header and rows; returns when all of it was read and valid,
 * before the end-of-data line, which is the caller's. Bad data is fatal (edu_exit), after the
 * rows that were complete went out.
 */
void c2t_convert(struct c2t *c, struct edu_progress *prog);
/* Frees what c holds and closes its input, also after a fatal error (tests/fuzz). */
void c2t_free(struct c2t *c);

#endif
