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
	X(EDU_EX_USAGE, 64, "usage error: bad option or argument")                                 \
	X(EDU_EX_DATAERR, 65, "bad input data or schema drift; fix the data or the mapping")       \
	X(EDU_EX_NOINPUT, 66, "an input file or source does not exist or cannot be read")          \
	X(EDU_EX_UNAVAILABLE, 69, "permanent remote failure: HTTP 4xx, wrong content, SQL error")  \
	X(EDU_EX_SOFTWARE, 70, "internal error (a bug)")                                           \
	X(EDU_EX_OSERR, 71, "local system error: out of memory, cannot fork, no temp file")        \
	X(EDU_EX_IOERR, 74, "local I/O error: cannot write output or file (disk full)")            \
	X(EDU_EX_TEMPFAIL, 75,                                                                     \
	  "temporary failure, retry later: timeout, 5xx, 429, lost connection, lock busy")         \
	X(EDU_EX_CONFIG, 78, "configuration error: sources.json, mapping file, database settings") \
	X(EDU_EX_TRUNCATED, 79,                                                                    \
	  "input ended without the end-of-data marker: an upstream stage died")                    \
	X(EDU_EX_REFUSED, 80,                                                                      \
	  "refused by a safety guard (replace would shrink the table); -f overrides")

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
/*
 * Names the program for diagnostics; every tool calls it first. It also sets the suite's one
 * SIGPIPE policy (man/edu.7): default and unblocked, so a tool whose reader went away dies of
 * SIGPIPE, quietly, with its temporary files removed (src/lib/atomic.c). edu_broken_pipe does
 * the same after an EPIPE, for a process that ignores the signal anyway.
 */
void edu_setprog(const char *argv0);
_Noreturn void edu_broken_pipe(void) __attribute__((noreturn));
/* noreturn as an attribute too: cppcheck does not read C11's _Noreturn. */
_Noreturn void edu_die(int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
/*
 * exit(3), the way out of edu_die and of a tool's own fatal errors. In a fuzzing build
 * (-DEDU_FUZZ: tests/fuzz/ only, never a tool) it longjmps to edu_fuzz_exit when that is set,
 * leaving the status in edu_fuzz_status, so that a harness survives every input a tool refuses.
 */
_Noreturn void edu_exit(int status) __attribute__((noreturn));
#ifdef EDU_FUZZ
#include <setjmp.h>
extern jmp_buf *edu_fuzz_exit;
extern int edu_fuzz_status;
#endif
void edu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void edu_vwarn(const char *fmt, va_list ap);
/* The first diagnostic printed by this process ("prog: message"), or NULL; and the status given
 * to edu_die (0 before): an atexit handler can record why the run failed. */
const char *edu_first_diag(void);
int edu_die_status(void);
/* Prints "prog VERSION" on stdout and exits 0 (checking stdout). */
_Noreturn void edu_version(void) __attribute__((noreturn));
/* Prints usage to stderr and exits EDU_EX_USAGE, or to stdout and exits 0 when help is set. */
_Noreturn void edu_usage(const char *synopsis, int help) __attribute__((noreturn));

/* Checked allocation: failure is fatal with EDU_EX_OSERR. */
void *edu_malloc(size_t n);
void *edu_realloc(void *p, size_t n);
char *edu_strdup(const char *s);
char *edu_strndup(const char *s, size_t n);

/* Checked number parsing (never atoi): the whole string must be a number within [min, max]. */
long long edu_strtonum(const char *s, long long min, long long max, const char *what);

/*
 * An output file that is complete or absent (src/lib/atomic.c), for -o and every other file a
 * tool writes. edu_atomic_open makes a hidden temporary file beside path; write to fd, then
 * edu_atomic_commit fsyncs it, renames it over path and frees the handle. Any number may be open.
 * Until its commit a temporary file is removed at exit and on SIGHUP, SIGINT, SIGPIPE and
 * SIGTERM; a tool that catches one of those itself calls edu_atomic_cleanup (async-signal-safe)
 * from its handler.
 */
struct edu_atomic {
	int fd;
	char *tmp;        /* the temporary file, for messages */
	const char *path; /* the file it becomes */
	struct edu_atomic *next;
};
struct edu_atomic *edu_atomic_open(const char *path);
void edu_atomic_commit(struct edu_atomic *a);
void edu_atomic_cleanup(void);

/*
 * Flushes stdout, or closes it, checking for errors so that a full disk is never silent; a
 * reader that went away is edu_broken_pipe. stderr is not closed: a message about it would
 * have nowhere to go.
 */
void edu_flush_stdout(void);
void edu_close_stdout(void);

/*
 * Buffered output on a file descriptor. Every write error is fatal (EDU_EX_IOERR, naming
 * the output), but EPIPE is edu_broken_pipe: a reader that went away is not our error.
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
/* Forgets everything written: the buffer, and the file (truncated, back to offset 0). */
void edu_out_rewind(struct edu_out *o);
/* The sink and restart callbacks of struct edu_http for a download into an edu_out (ctx). */
void edu_out_sink(void *o, const char *p, size_t n);
void edu_out_restart(void *o);
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
/*
 * The one test for the mark, on the n bytes in hand from a NUL byte: true when they are the
 * mark without its LF, or, cut short by the end of what is in hand, at least its NUL and
 * "EDU-ABORT:". A reader that can read more before deciding should have EDU_ABORT_MARK_LEN.
 */
int edu_abort_mark(const char *p, size_t n);

/*
 * The most columns a header may have: the widest source loaded today has about 90 and a
 * PostgreSQL table cannot have more than 1,600; 4,096 still leaves room for a wide export whose
 * extra columns edu-normalize drops. A header past it is refused with EDU_EX_DATAERR before its
 * names are compared: a broken or hostile upstream must not cost CPU or memory in proportion to a
 * million empty columns.
 */
#define EDU_MAX_COLUMNS 4096

/*
 * Names sorted once (src/lib/names.c), for header checks in O(n log n) and lookups in
 * O(log n). edu_names_index keeps pointers to the names (lens NULL: NUL-terminated);
 * edu_names_dup returns the first position whose name appeared before (*first: where), or n;
 * edu_names_find the first position of a name, or -1.
 */
struct edu_name {
	const char *p;
	size_t n, i;
};
struct edu_names {
	struct edu_name *v;
	size_t n;
};
void edu_names_index(struct edu_names *x, const char *const *names, const size_t *lens, size_t n);
size_t edu_names_dup(const struct edu_names *x, size_t *first);
long edu_names_find(const struct edu_names *x, const char *p, size_t n);
void edu_names_free(struct edu_names *x);

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
	char **header;          /* unescaped column names */
	struct edu_names names; /* the header sorted, for edu_tsv_column */
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
/*
 * Opens the stream and reads the header line; fatal errors name the stream. A header of more
 * than EDU_MAX_COLUMNS columns, an empty or duplicate name is EDU_EX_DATAERR.
 */
void edu_tsv_open(struct edu_tsv_reader *r, int fd, const char *name);
/*
 * Reads the next row into r->row / r->fields. Returns 1 for a row, 0 after the end-of-data
 * line. EOF without that line is fatal with EDU_EX_TRUNCATED; a row with the wrong number of
 * fields, a NUL byte or data after the end line is fatal with EDU_EX_DATAERR.
 */
int edu_tsv_next(struct edu_tsv_reader *r);
/* Index of a header column, or -1 (O(log n)). */
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
	/* Units (rows, bytes) added between clock reads: a row at a time reads it every few
	 * thousand rows, a buffer of bytes at a time on every buffer. */
	unsigned long long every, ticks;
};
void edu_progress_init(struct edu_progress *p, const char *label, enum edu_progress_mode mode,
                       unsigned long long total);
void edu_progress_update(struct edu_progress *p);
static inline void edu_progress_add(struct edu_progress *p, unsigned long long n)
{
	p->count += n;
	if (p->mode && (p->ticks += n) >= p->every) {
		p->ticks = 0;
		edu_progress_update(p);
	}
}
/* Clears the terminal line (or prints a final plain line). */
void edu_progress_done(struct edu_progress *p);
double edu_elapsed(const struct timespec *since);
/* Now, UTC, to the microsecond, as PostgreSQL reads a timestamptz, in buf; returns buf. */
const char *edu_now_utc(char *buf, size_t n);

/* ---- PostgreSQL helpers (src/lib/pg.c; link with -lpq, include <libpq-fe.h> first) ---- */
#ifdef LIBPQ_FE_H
/*
 * Connects with conninfo (-d), else $DATABASE_URL, else libpq's own environment (PGHOST,
 * PGSERVICE, ~/.pgpass...). A connection string that does not parse, an option libpq refuses
 * (sslmode=bogus, a bad port) and a refused login are EDU_EX_CONFIG; a server that cannot be
 * reached or is busy EDU_EX_TEMPFAIL. Passwords are never printed.
 */
PGconn *edu_pg_connect(const char *conninfo);
/* The exit code for a failed statement: lost connection, lock or shutdown 75; bad data 65; 69. */
int edu_pg_exitcode(PGconn *conn, const PGresult *res);
/* The error of res (or of conn when res is NULL) on one line, without the trailing newline. */
const char *edu_pg_error(PGconn *conn, const PGresult *res);
/* Prints "prog: what: error" and exits with edu_pg_exitcode; the server rolls back. */
_Noreturn void edu_pg_die(PGconn *conn, PGresult *res, const char *what);
/* Runs sql (with optional text parameters); dies on failure; the caller PQclear()s the result. */
PGresult *edu_pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params);
/* Runs a command and frees its result; dies on failure. */
void edu_pg_cmd(PGconn *conn, const char *sql);
/* The identifier quoted with PQescapeIdentifier, in memory from edu_malloc. */
char *edu_pg_ident(PGconn *conn, const char *name);
#endif

/* A growing NUL-terminated string, for building SQL text. */
struct edu_str {
	char *p;
	size_t len, cap;
};
void edu_str_add(struct edu_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes (binary-safe); the string stays NUL-terminated, even when n is 0. */
void edu_str_addn(struct edu_str *s, const char *p, size_t n);
void edu_str_free(struct edu_str *s);

/* ---- The libcurl layer (src/lib/curl.c; -lcurl, include <curl/curl.h> first) ---- */
#ifdef CURLINC_CURL_H
/*
 * A handle set up the suite's way: libcurl initialized once per process, the user agent
 * "eduinfo-pipeline/VERSION (prog)", no signals, errors in errbuf (CURL_ERROR_SIZE bytes, or
 * NULL), TLS 1.2 or later always verified, only the comma-separated protocols, a connect
 * timeout and either a total limit (total > 0) or the stall rule: below 1 KiB/s for timeout
 * seconds. edu_curl_new dies EDU_EX_OSERR when libcurl cannot; edu_curl_setup sets the same
 * again after curl_easy_reset.
 */
CURL *edu_curl_new(char *errbuf, const char *protocols, long timeout, long total);
void edu_curl_setup(CURL *h, char *errbuf, const char *protocols, long timeout, long total);
/* The exit status of a libcurl error: 75 for what a retry may cure, 69, 66, 64 or 71. */
int edu_curl_status(CURLcode c);
/* What failed, for a message: the error buffer, else libcurl's fixed text for c. */
const char *edu_curl_error(CURLcode c, const char *errbuf);
#endif
/* The exit status of an HTTP status: 0 for 2xx (and 0, file://), 75 for 408, 429 and 5xx, else
 * 69. */
int edu_http_status(long status);

/* ---- Sources and HTTP downloads (src/lib/source.c, years.c, http.c; -lcurl -lcrypto) ---- */
/* What a source declares its body to be; a body that is not that is refused. */
enum edu_format { EDU_FMT_ANY, EDU_FMT_CSV, EDU_FMT_JSON, EDU_FMT_GZIP, EDU_FMT_ZIP };
/* The format named in sources.json or by edu-fetch -F, or -1. */
int edu_format_parse(const char *name);

/* What a transfer saw: filled by edu_http_get, valid also when it failed. */
struct edu_http_res {
	long status;              /* last HTTP status; 0 for file:// */
	int attempts;             /* requests made */
	int emitted;              /* body bytes went to the sink: a retry is no longer possible */
	int stopped;              /* on_headers asked to stop: not an error */
	long long content_length; /* -1 when not announced */
	unsigned long long size;  /* decoded body bytes received */
	long retry_after;         /* seconds, from a 429/503 Retry-After, or -1 */
	long long filetime;       /* Last-Modified (or file mtime) as a Unix time, or -1 */
	char etag[256], last_modified[64], content_type[128], reason[128];
	char sha256[65];  /* hex digest of the body, when complete */
	char digest[129]; /* hex digest of the body by edu_http.digest, when complete */
	char error[512];  /* why it failed, for "prog: what: error" */
};
/* One GET, with retries; the body goes to sink only after it was sniffed as the format. */
struct edu_http {
	const char *url;
	int format;                /* enum edu_format */
	const char *if_none_match; /* validators for a conditional GET, or NULL */
	const char *if_modified_since;
	long timeout; /* connect timeout, and seconds without a byte before giving up */
	int retries;  /* extra attempts for temporary failures */
	int insecure; /* no TLS verification (warned) */
	int verbose;  /* say why and when it retries */
	/* Another digest of the body to compute besides SHA-256 ("sha1", "md5"), or NULL. */
	const char *digest;
	enum edu_progress_mode progress;
	void (*sink)(void *ctx, const char *p, size_t n);
	/* Forgets what sink got, for a retry; NULL: no retry once bytes were emitted. */
	void (*restart)(void *ctx);
	/* Called on a 2xx before the first body byte; nonzero stops the transfer (res->stopped). */
	int (*on_headers)(void *ctx, const struct edu_http_res *res);
	void *ctx;
};
/*
 * Returns EDU_EX_OK (also for a 304 to a conditional request: check res->status),
 * EDU_EX_TEMPFAIL, EDU_EX_UNAVAILABLE (a 304 to an unconditional one among them)...
 */
int edu_http_get(const struct edu_http *rq, struct edu_http_res *res);
/* A Unix time as an HTTP date ("Tue, 01 Dec 2026 02:00:00 GMT"), in buf; empty if out of range. */
void edu_http_date(long long t, char *buf, size_t n);
/* An HTTP date as "YYYY-MM-DD HH:MM:SS+00" for PostgreSQL, in buf; NULL if it does not parse. */
const char *edu_http_date_iso(const char *http_date, char *buf, size_t n);

/* A source id: checked where the config is read, a bad one is EDU_EX_CONFIG. */
#define EDU_ID_PATTERN "^[a-z][a-z0-9_]*$"
/* Whether the n bytes at id are a source id (EDU_ID_PATTERN). */
int edu_id_valid(const char *id, size_t n);
/* The year of a unit "id:YYYY", whose id is then the first *idlen bytes; 0 for a plain id
 * (*idlen is then the whole length). */
int edu_unit_year(const char *unit, size_t *idlen);

/* One resource of a data.gouv.fr dataset, as its API lists it ("" for a missing field). */
struct edu_resource {
	char *name, *url, *last_modified, *checksum_type, *checksum, *size;
	char *analysis_sha1; /* extras["analysis:checksum"]: the SHA-1 of a remote file */
};

/* One entry of config/sources.json (see docs/sources.md). */
struct edu_source {
	char *id, *name, *format_name, *content_type, *change, *table;
	char *url_template, *resolve_api, *resource_template; /* "{year}" not replaced */
	/* A source published one file per year: where its years are listed ("" otherwise). */
	char *years_from, *years_url, *years_match, *fallback_for;
	void *years_re; /* years_match, compiled */
	int format;
	/* Set by edu_source_year: the year (0 for a source not published by year), the unit
	 * ("ivac", "dvf:2024"), the URL and the resource name of that year. */
	int year;
	char *unit, *url, *resolve_resource;
	/* The dataset API's resources, read once, and the one edu_source_resolve chose. */
	struct edu_resource *res;
	size_t nres;
	int res_read;
	const struct edu_resource *resource;
};
/* The config path: opt (-c), else $EDU_SOURCES, else config/sources.json. */
const char *edu_sources_path(const char *opt);
/*
 * Loads one entry through jq(1), after checking every id of the config against EDU_ID_PATTERN;
 * dies EDU_EX_NOINPUT for an unknown id, EDU_EX_CONFIG for a bad config. The entry is set to
 * year 0: call edu_source_year before using its URL or unit.
 */
void edu_source_load(struct edu_source *s, const char *config, const char *id);
/* True for a source published one file per year (its entry has "years"). */
int edu_source_per_year(const struct edu_source *s);
/* Sets the year, unit, URL and resource name; 0 is last year. No year for other sources. */
void edu_source_year(struct edu_source *s, int year);
/*
 * Sets s->url and s->resource from the data.gouv.fr dataset API: the resource named
 * s->resolve_resource, else, for a per-year source, one whose name years_match gives the year.
 * The API is read once per source (a GET with o's settings). EDU_EX_* with rs and err.
 */
int edu_source_resolve(struct edu_source *s, const struct edu_http *o, struct edu_http_res *rs,
                       char *err, size_t n);
/* Reads the dataset API's resources into s->res, once. EDU_EX_* with rs and err. */
int edu_source_resources(struct edu_source *s, const struct edu_http *o, struct edu_http_res *rs,
                         char *err, size_t n);
/*
 * The request for a small document (an index, an API answer) at url, from the options o (the
 * timeouts, retries, TLS): unconditional, silent, no other digest; the caller sets the sink.
 */
void edu_http_small(struct edu_http *rq, const struct edu_http *o, const char *url, int format);
/*
 * GETs url (small documents: an index, an API answer) into an unlinked temporary file whose
 * descriptor, at offset 0, is put in *fd. EDU_EX_* with rs, and err naming the URL.
 */
int edu_get_tmp(const struct edu_http *o, const char *url, int format, int *fd,
                struct edu_http_res *rs, char *err, size_t n);
void edu_source_free(struct edu_source *s);
/* Where a per-year source's years are listed: its index page, or its dataset API. */
const char *edu_source_years_url(const struct edu_source *s);
/*
 * The years a per-year source publishes, read now (src/lib/years.c): the links of its index
 * page, or its dataset's resources, whose names years_match gives a year. Sorted, each once,
 * in *years (edu_malloc'd). A list with no year is a failure (EDU_EX_UNAVAILABLE): an error
 * page is never "no year changed". EDU_EX_* with rs and err.
 */
int edu_source_years(struct edu_source *s, const struct edu_http *o, int **years, size_t *n,
                     struct edu_http_res *rs, char *err, size_t en);
/* The year years_match finds in name, or 0. */
int edu_source_match_year(const struct edu_source *s, const char *name);
/* Opendatasoft's catalog record of a dataset: each "" when missing or not of its shape. */
struct edu_meta {
	char data_processed[64], records_count[24], modified[64];
};
/*
 * True when s's change is "opendatasoft" and its URL an Opendatasoft export
 * (.../catalog/datasets/ID/exports/FORMAT), whose catalog record can be read; otherwise (a URL
 * pointed elsewhere, a mirror, a test) the export is hashed as with "sha256".
 */
int edu_source_catalog_known(const struct edu_source *s);
/*
 * Reads the catalog record of the dataset whose export is s->url (change "opendatasoft": the
 * URL up to "/exports/"), a GET with o's settings, into m. EDU_EX_* with rs and err.
 */
int edu_source_catalog(const struct edu_source *s, const struct edu_http *o, struct edu_meta *m,
                       struct edu_http_res *rs, char *err, size_t n);
/* The format a URL's path names by its extension (.csv .json .gz .zip), else EDU_FMT_ANY. */
int edu_format_of_url(const char *url);
/* True when -d, $DATABASE_URL or libpq's PGHOST/PGSERVICE/PGDATABASE name a database. */
int edu_db_configured(const char *conninfo);
/*
 * Runs jq with argv (argv[0] "jq"), stdin from in_fd (-1: /dev/null); returns its standard
 * output (edu_malloc'd) and its exit status in *status. Dies EDU_EX_CONFIG if jq cannot run.
 */
char *edu_jq(char *const argv[], int in_fd, int *status);

#endif
