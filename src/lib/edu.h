/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The only shared header of the suite: diagnostics, the exit-code table, checked allocation and
 * output, the data-contract reader and writer, and the progress meter. Everything here is plain
 * C11 + POSIX; the pieces that need libpq or libcurl live in their own files so that a tool
 * which does not use them does not link them.
 */
#ifndef EDU_H
#define EDU_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#ifndef EDU_VERSION
#define EDU_VERSION "0.0.0"
#endif

/*
 * The exit-code table, defined once. man/edu.7 documents the same table and
 * tests/t/0001-suite.t checks that both agree (through tests/unit/test-lib, which prints it).
 * Values follow sysexits(3) where one fits; 79 and 80 are ours.
 */
#define EDU_EXIT_TABLE(X)                                                                          \
	X(EDU_EX_OK, 0, "success")                                                                 \
	X(EDU_EX_NOTMODIFIED, 1, "nothing to do: no source changed (edu-ifmodified)")              \
	X(EDU_EX_USAGE, 64, "usage error: bad option or argument")                    \
	X(EDU_EX_DATAERR, 65, "bad input data or schema drift; fix the data or the mapping")        \
	X(EDU_EX_NOINPUT, 66, "an input file or source does not exist or cannot be read")           \
	X(EDU_EX_UNAVAILABLE, 69, "permanent remote failure: HTTP 4xx, wrong content, SQL error")   \
	X(EDU_EX_SOFTWARE, 70, "internal error (a bug)")                                           \
	X(EDU_EX_OSERR, 71, "local system error: out of memory, cannot fork, no temp file")         \
	X(EDU_EX_IOERR, 74, "local I/O error: cannot write output or file (disk full)")             \
	X(EDU_EX_TEMPFAIL, 75, "temporary failure, retry later: timeout, 5xx, 429, lost connection, lock busy") \
	X(EDU_EX_CONFIG, 78, "configuration error: sources.json, mapping file, database settings")       \
	X(EDU_EX_TRUNCATED, 79, "input ended without the end-of-data marker: an upstream stage died") \
	X(EDU_EX_REFUSED, 80, "refused by a safety guard (replace would shrink the table); -f overrides")

enum edu_exit {
#define EDU_X_ENUM(name, value, text) name = value,
	EDU_EXIT_TABLE(EDU_X_ENUM)
#undef EDU_X_ENUM
};

/* Prints the exit-code table as "value<TAB>NAME<TAB>meaning" lines (for the doc-sync test). */
void edu_print_exit_table(FILE *fp);

/*
 * Diagnostics: one format, "prog: message". A message whose format ends in ':' gets
 * ": strerror(errno)" appended, as in sbase's eprintf.
 */
extern const char *edu_prog;
void edu_setprog(const char *argv0);
_Noreturn void edu_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void edu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void edu_vwarn(const char *fmt, va_list ap);
/* Prints "prog VERSION" on stdout and exits 0 (checking stdout). */
_Noreturn void edu_version(void);
/* Prints usage to stderr and exits EDU_EX_USAGE, or to stdout and exits 0 when help is set. */
_Noreturn void edu_usage(const char *synopsis, int help);

/* Checked allocation: failure is fatal with EDU_EX_OSERR. */
void *edu_malloc(size_t n);
void *edu_realloc(void *p, size_t n);
char *edu_strdup(const char *s);
char *edu_strndup(const char *s, size_t n);

/* Checked number parsing (never atoi): the whole string must be a number within [min, max]. */
long long edu_strtonum(const char *s, long long min, long long max, const char *what);

/* Closes stdout and stderr checking for errors, so that a full disk is never silent. */
void edu_close_stdout(void);

/*
 * Buffered output on a file descriptor. Every write error is fatal (EDU_EX_IOERR, naming
 * the output); EPIPE too, but quietly: a reader that went away is not our error to report.
 */
struct edu_out {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap;
};
void edu_out_init(struct edu_out *o, int fd, const char *name);
void edu_out_write(struct edu_out *o, const void *p, size_t n);
void edu_out_flush(struct edu_out *o);
void edu_out_free(struct edu_out *o);
static inline void edu_out_putc(struct edu_out *o, char c)
{
	if (o->len == o->cap)
		edu_out_flush(o);
	o->buf[o->len++] = c;
}
static inline void edu_out_puts(struct edu_out *o, const char *s)
{
	while (*s)
		edu_out_putc(o, *s++);
}

/* ---- The data contract (man/edu.7, docs/contract.md) ---- */

/* The end-of-data line a producer writes only after it finished cleanly. */
#define EDU_EOD "\\.\n"
/*
 * What edu-fetch writes into a pipe when a transfer is cut: a NUL byte (never valid in any
 * text source, so every consumer stops on it) followed by this text.
 */
#define EDU_ABORT_MARK "\0EDU-ABORT: upstream transfer failed\n"
#define EDU_ABORT_MARK_LEN (sizeof(EDU_ABORT_MARK) - 1)

/* Writer: escapes per COPY text format. */
void edu_tsv_put_field(struct edu_out *o, const char *p, size_t n);
void edu_tsv_put_null(struct edu_out *o);
void edu_tsv_put_header(struct edu_out *o, char *const *names, size_t n);
/* Writes the end-of-data line and flushes. Call only when all input was read and valid. */
void edu_tsv_finish(struct edu_out *o);

/* A field of a contract row, still escaped as on the wire. */
struct edu_field {
	const char *p;
	size_t n;
};

struct edu_tsv_reader {
	int fd;
	const char *name;   /* for messages: a file name or "stdin" */
	unsigned long line; /* physical line of the current row, 1 = header */
	size_t ncols;
	char **header; /* unescaped column names */
	/* current row */
	char *row;
	size_t rowlen;
	struct edu_field *fields;
	/* buffer */
	char *buf;
	size_t start, end, cap;
	int eof, done;
	unsigned long long bytes;
};
/* Opens the stream and reads the header line; fatal errors name the stream. */
void edu_tsv_open(struct edu_tsv_reader *r, int fd, const char *name);
/*
 * Reads the next row into r->row / r->fields. Returns 1 for a row, 0 after the end-of-data
 * line. EOF without that line is fatal with EDU_EX_TRUNCATED; a row with the wrong number of
 * fields, a NUL byte or data after the end line is fatal with EDU_EX_DATAERR.
 */
int edu_tsv_next(struct edu_tsv_reader *r);
/* Index of a header column, or -1. */
long edu_tsv_column(const struct edu_tsv_reader *r, const char *name);
void edu_tsv_close(struct edu_tsv_reader *r);
/* True when the escaped field is the NULL marker \N. */
int edu_field_is_null(const struct edu_field *f);
/*
 * Unescapes a field into *buf (grown as needed, NUL-terminated); returns the length, or
 * (size_t)-1 for an invalid escape sequence.
 */
size_t edu_field_unescape(const struct edu_field *f, char **buf, size_t *cap);

/* ---- Progress meter on stderr ---- */
enum edu_progress_mode {
	EDU_PROGRESS_AUTO,  /* on a terminal only */
	EDU_PROGRESS_FORCE, /* -p: also when stderr is not a terminal, as plain periodic lines */
	EDU_PROGRESS_OFF    /* -q */
};
struct edu_progress {
	const char *label; /* "rows", "bytes" */
	int mode;          /* 0 off, 1 terminal (carriage return), 2 plain lines */
	unsigned long long count, total;
	struct timespec start, last;
	unsigned every; /* calls between clock reads */
	unsigned ticks;
};
void edu_progress_init(struct edu_progress *p, const char *label, enum edu_progress_mode mode,
		       unsigned long long total);
void edu_progress_update(struct edu_progress *p);
static inline void edu_progress_add(struct edu_progress *p, unsigned long long n)
{
	p->count += n;
	if (p->mode && ++p->ticks >= p->every) {
		p->ticks = 0;
		edu_progress_update(p);
	}
}
/* Clears the terminal line (or prints a final plain line). */
void edu_progress_done(struct edu_progress *p);
double edu_elapsed(const struct timespec *since);

#endif
