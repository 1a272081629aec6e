/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Diagnostics, usage/version output and the exit-code table. Every message of every tool goes
 * through here so that the format "prog: object: reason" holds everywhere.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"

const char *edu_prog = "edu";
/* The first diagnostic of the run and the status edu_die was given, for a tool that records its
 * own failure after the fact (edu-pgcopy writes them to the run history after its rollback). */
static char first_diag[1024];
static int die_status;
#ifdef EDU_FUZZ
jmp_buf *edu_fuzz_exit;
int edu_fuzz_status;
#endif

void edu_exit(int status)
{
#ifdef EDU_FUZZ
	if (edu_fuzz_exit != NULL) {
		edu_fuzz_status = status;
		longjmp(*edu_fuzz_exit, 1);
	}
#endif
	exit(status);
}

void edu_setprog(const char *argv0)
{
	const char *slash;

	sigset_t pipe;

	/*
	 * The suite's SIGPIPE policy, whatever the parent left (an ignored or blocked signal is
	 * inherited): a tool whose reader went away dies of SIGPIPE, like jq, awk and every other
	 * stage of a pipeline, so a script sees 141 for it and 74 keeps meaning a write error.
	 */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_UNBLOCK, &pipe, NULL);
	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	edu_prog = slash ? slash + 1 : argv0;
}

void edu_vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);
	char msg[sizeof(first_diag) / 2];
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	fprintf(stderr, "%s: ", edu_prog);
	vfprintf(stderr, fmt, ap);
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
	if (first_diag[0] == '\0')
		snprintf(first_diag, sizeof(first_diag), "%s: %s%s%s", edu_prog, msg,
		         n > 0 && fmt[n - 1] == ':' ? " " : "",
		         n > 0 && fmt[n - 1] == ':' ? strerror(saved) : "");
}

const char *edu_first_diag(void)
{
	return first_diag[0] ? first_diag : NULL;
}

int edu_die_status(void)
{
	return die_status;
}

void edu_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	edu_vwarn(fmt, ap);
	va_end(ap);
}

void edu_die(int status, const char *fmt, ...)
{
	va_list ap;

	die_status = status;
	va_start(ap, fmt);
	edu_vwarn(fmt, ap);
	va_end(ap);
	edu_exit(status);
}

void edu_print_exit_table(FILE *fp)
{
#define EDU_X_PRINT(name, value, text) fprintf(fp, "%d\t%s\t%s\n", value, #name, text);
	EDU_EXIT_TABLE(EDU_X_PRINT)
#undef EDU_X_PRINT
}

void edu_broken_pipe(void)
{
	raise(SIGPIPE);
	edu_exit(EDU_EX_IOERR); /* only when the tool itself chose to ignore SIGPIPE */
}

void edu_flush_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			edu_broken_pipe();
		edu_die(EDU_EX_IOERR, "stdout: write error:");
	}
}

void edu_close_stdout(void)
{
	edu_flush_stdout();
	if (fclose(stdout) == EOF && errno != EPIPE)
		edu_die(EDU_EX_IOERR, "stdout: close error:");
}

void edu_version(void)
{
	printf("%s %s\n", edu_prog, EDU_VERSION);
	edu_close_stdout();
	edu_exit(EDU_EX_OK);
}

void edu_usage(const char *synopsis, int help)
{
	if (help) {
		printf("usage: %s\n", synopsis);
		edu_close_stdout();
		edu_exit(EDU_EX_OK);
	}
	fprintf(stderr, "usage: %s\n", synopsis);
	edu_exit(EDU_EX_USAGE);
}

long long edu_strtonum(const char *s, long long min, long long max, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0')
		edu_die(EDU_EX_USAGE, "%s: '%s': not a number", what, s);
	if (errno == ERANGE || v < min || v > max)
		edu_die(EDU_EX_USAGE, "%s: '%s': out of range %lld..%lld", what, s, min, max);
	return v;
}

void *edu_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		edu_die(EDU_EX_OSERR, "malloc %zu bytes:", n);
	return p;
}

void *edu_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		edu_die(EDU_EX_OSERR, "realloc %zu bytes:", n);
	return q;
}

char *edu_strndup(const char *s, size_t n)
{
	char *p = edu_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *edu_strdup(const char *s)
{
	return edu_strndup(s, strlen(s));
}
