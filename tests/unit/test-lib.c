/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Unit tests of src/lib in TAP. With --exit-table it prints the exit-code table instead, so
 * that tests/t/0001-suite.t can hold man/edu.7 to the header.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edu.h"

static int n, failed;

static void ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed++;
}

/* Writes fields through the contract writer into a pipe and returns what came out. */
static char *written(const char *const *vals, size_t nvals)
{
	static char got[4096];
	int fds[2];
	struct edu_out o;
	ssize_t r;

	if (pipe(fds) != 0)
		exit(71);
	edu_out_init(&o, fds[1], "pipe");
	for (size_t i = 0; i < nvals; i++) {
		if (i)
			edu_out_putc(&o, '\t');
		if (vals[i])
			edu_tsv_put_field(&o, vals[i], strlen(vals[i]));
		else
			edu_tsv_put_null(&o);
	}
	edu_out_putc(&o, '\n');
	edu_out_flush(&o);
	edu_out_free(&o);
	close(fds[1]);
	r = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	got[r > 0 ? r : 0] = '\0';
	return got;
}

/* Runs the reader over text in a child; returns its exit status and the rows it counted. */
static int read_all(const char *text, size_t len, int *rows)
{
	char path[] = "/tmp/edu-unit.XXXXXX";
	int fd = mkstemp(path), st, fds[2];
	pid_t pid;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || pipe(fds) != 0)
		exit(71);
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct edu_tsv_reader r;
		int c = 0;

		freopen("/dev/null", "w", stderr);
		edu_tsv_open(&r, fd, "unit");
		while (edu_tsv_next(&r))
			c++;
		if (write(fds[1], &c, sizeof(c)) != sizeof(c))
			_exit(71);
		_exit(0);
	}
	close(fds[1]);
	*rows = -1;
	if (read(fds[0], rows, sizeof(*rows)) != sizeof(*rows))
		*rows = -1;
	close(fds[0]);
	close(fd);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Files in dir whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
	char cmd[512];
	FILE *p;
	int c = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '%s*' | wc -l", dir, prefix);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fscanf(p, "%d", &c) != 1)
			c = -1;
		pclose(p);
	}
	return c;
}

/*
 * In a child: two atomic files in dir, "a" committed, "b" not; then exit 3 or (sig) die by a
 * signal. Returns the child's status as the shell shows it.
 */
static int atomic_child(const char *dir, int sig)
{
	char a[256], b[256];
	pid_t pid;
	int st;

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct edu_atomic *fa = edu_atomic_open(a), *fb = edu_atomic_open(b);

		if (write(fa->fd, "A", 1) != 1 || write(fb->fd, "B", 1) != 1)
			_exit(71);
		edu_atomic_commit(fa);
		if (sig)
			raise(sig);
		exit(3);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	const char *v1[] = {"a\tb", "c\\d", "e\nf\rg", NULL, ""};
	struct edu_field f;
	char *buf = NULL;
	size_t cap = 0, len;
	int rows;

	edu_setprog(argv[0]);
	if (argc > 1 && strcmp(argv[1], "--exit-table") == 0) {
		edu_print_exit_table(stdout);
		edu_close_stdout();
		return 0;
	}

	ok(strcmp(written(v1, 5), "a\\tb\tc\\\\d\te\\nf\\rg\t\\N\t\n") == 0,
	   "writer escapes tab, backslash, LF, CR; NULL is \\N; empty stays empty");

	f.p = "x\\ty\\\\z\\n";
	f.n = strlen(f.p);
	len = edu_field_unescape(&f, &buf, &cap);
	ok(len == 6 && memcmp(buf, "x\ty\\z\n", 6) == 0, "unescape inverts the writer");
	f.p = "bad\\q";
	f.n = strlen(f.p);
	ok(edu_field_unescape(&f, &buf, &cap) == (size_t)-1, "unescape refuses an unknown escape");
	f.p = "\\N";
	f.n = 2;
	ok(edu_field_is_null(&f), "\\N is NULL");
	f.p = "\\\\N";
	f.n = 3;
	ok(!edu_field_is_null(&f), "an escaped backslash then N is not NULL");
	free(buf);

	ok(read_all("a\tb\n1\t2\n3\t4\n\\.\n", sizeof("a\tb\n1\t2\n3\t4\n\\.\n") - 1, &rows) == 0 &&
	       rows == 2,
	   "reader: two rows then the end line");
	ok(read_all("a\tb\n1\t2\n3\t4\n", sizeof("a\tb\n1\t2\n3\t4\n") - 1, &rows) ==
	       EDU_EX_TRUNCATED,
	   "reader: EOF without the end line is EDU_EX_TRUNCATED");
	ok(read_all("a\tb\n1\t2\n3\t", sizeof("a\tb\n1\t2\n3\t") - 1, &rows) == EDU_EX_TRUNCATED,
	   "reader: EOF in the middle of a line is EDU_EX_TRUNCATED");
	ok(read_all("a\tb\n1\t2\t3\n\\.\n", sizeof("a\tb\n1\t2\t3\n\\.\n") - 1, &rows) ==
	       EDU_EX_DATAERR,
	   "reader: wrong field count is EDU_EX_DATAERR");
	ok(read_all("a\tb\n1\t2\n\\.\n5\t6\n", sizeof("a\tb\n1\t2\n\\.\n5\t6\n") - 1, &rows) ==
	       EDU_EX_DATAERR,
	   "reader: data after the end line is EDU_EX_DATAERR");
	ok(read_all("a\ta\n\\.\n", sizeof("a\ta\n\\.\n") - 1, &rows) == EDU_EX_DATAERR,
	   "reader: duplicate header name is EDU_EX_DATAERR");
	ok(read_all("", sizeof("") - 1, &rows) == EDU_EX_TRUNCATED,
	   "reader: empty input is EDU_EX_TRUNCATED");
	{
		char text[64] = "a\tb\n1\t2\n";
		size_t l = 8;

		memcpy(text + l, EDU_ABORT_MARK, EDU_ABORT_MARK_LEN);
		l += EDU_ABORT_MARK_LEN;
		ok(read_all(text, l, &rows) == EDU_EX_TRUNCATED,
		   "reader: edu-fetch's abort mark is EDU_EX_TRUNCATED");
	}
	ok(edu_abort_mark(EDU_ABORT_MARK, EDU_ABORT_MARK_LEN) &&
	       edu_abort_mark(EDU_ABORT_MARK, EDU_ABORT_MARK_LEN - 1) &&
	       edu_abort_mark(EDU_ABORT_MARK, 11) && !edu_abort_mark(EDU_ABORT_MARK, 10) &&
	       !edu_abort_mark("\0EDU-ABORT; upstream transfer failed", EDU_ABORT_MARK_LEN - 1) &&
	       !edu_abort_mark("\0x", 2),
	   "abort mark: the whole mark, or its first 11 bytes when cut; nothing else");
	ok(read_all("a\tb\n1\0x\t2\n\\.\n", sizeof("a\tb\n1\0x\t2\n\\.\n") - 1, &rows) ==
	       EDU_EX_DATAERR,
	   "reader: a NUL byte is EDU_EX_DATAERR");
	{
		/* a long line crosses several buffer refills */
		size_t big = 600 * 1024;
		char *text = edu_malloc(big + 16);

		memcpy(text, "a\n", 2);
		memset(text + 2, 'x', big);
		memcpy(text + 2 + big, "\n\\.\n", 4);
		ok(read_all(text, big + 6, &rows) == 0 && rows == 1, "reader: a 600 KiB line");
		free(text);
	}

	{
		const char *names[] = {"b", "a", "c", "a", "b", "a"};
		const char *same[] = {"x", "x\0y", "x\0z"};
		const size_t lens[] = {1, 3, 3};
		struct edu_names x;
		size_t first = 99;

		edu_names_index(&x, names, NULL, 6);
		ok(edu_names_dup(&x, &first) == 3 && first == 1,
		   "names: the first repeated name, and where it came first");
		ok(edu_names_find(&x, "a", 1) == 1 && edu_names_find(&x, "c", 1) == 2 &&
		       edu_names_find(&x, "d", 1) == -1 && edu_names_find(&x, "", 0) == -1,
		   "names: a lookup finds the first position of a name, or -1");
		edu_names_free(&x);
		edu_names_index(&x, same, lens, 3);
		ok(edu_names_dup(&x, &first) == 3 && edu_names_find(&x, "x\0z", 3) == 2,
		   "names: names with a NUL byte are compared whole");
		edu_names_free(&x);
	}
	{
		/* the widest header accepted, then one column more */
		size_t cols = EDU_MAX_COLUMNS + 1, l = 0;
		char *text = edu_malloc(cols * 8 + 16);

		for (size_t i = 0; i < EDU_MAX_COLUMNS; i++)
			l += (size_t)sprintf(text + l, "%sc%zu", i ? "\t" : "", i);
		l += (size_t)sprintf(text + l, "\n\\.\n");
		ok(read_all(text, l, &rows) == 0, "reader: a header of EDU_MAX_COLUMNS columns");
		l -= 4;
		l += (size_t)sprintf(text + l, "\tc%d\n\\.\n", EDU_MAX_COLUMNS);
		ok(read_all(text, l, &rows) == EDU_EX_DATAERR,
		   "reader: one column more is EDU_EX_DATAERR");
		free(text);
	}
	{
		char dir[] = "/tmp/edu-unit-atomic.XXXXXX";
		char path[300];

		if (mkdtemp(dir) == NULL)
			exit(71);
		ok(atomic_child(dir, 0) == 3 && count_files(dir, "a") == 1 &&
		       count_files(dir, "b") == 0 && count_files(dir, ".") == 0,
		   "atomic: of two files, the committed one is in place, the other gone at exit");
		snprintf(path, sizeof(path), "%s/a", dir);
		unlink(path);
		ok(atomic_child(dir, SIGTERM) == 128 + SIGTERM && count_files(dir, "a") == 1 &&
		       count_files(dir, ".") == 0,
		   "atomic: SIGTERM kills by that signal and removes the uncommitted temporary "
		   "file");
		unlink(path);
		rmdir(dir);
	}
	{
		FILE *saved = stderr;

		stderr = fopen("/dev/null", "w");
		ok(edu_first_diag() == NULL && edu_die_status() == 0, "no diagnostic yet");
		errno = ENOENT;
		edu_warn("x.csv: cannot open:");
		edu_warn("second");
		fclose(stderr);
		stderr = saved;
		ok(edu_first_diag() != NULL &&
		       strcmp(edu_first_diag(),
		              "test-lib: x.csv: cannot open: No such file or directory") == 0,
		   "the first diagnostic is kept, with its strerror");
	}

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
