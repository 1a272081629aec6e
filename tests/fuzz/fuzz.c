/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The helpers of tests/fuzz/fuzz.h. Memory files and sockets stand in for the files and pipes
 * the tools read, so that the code under test runs unchanged; nothing here knows a tool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edu.h"
#include "fuzz.h"

/* At most this many packets in a fuzz_pipe, so that they all fit in the socket's buffer. */
#define PIPE_PACKETS 64

/* What the last fuzz_call printed on stderr. */
static char messages[4096];

void fuzz_fail(const char *what, const char *file, int line)
{
	dprintf(STDERR_FILENO, "fuzz: %s:%d: broken promise: %s\n", file, line, what);
	if (messages[0] != '\0')
		dprintf(STDERR_FILENO, "fuzz: the last call printed:\n%s", messages);
	abort();
}

int fuzz_call(void (*fn)(void *), void *arg)
{
	FILE *saved = stderr, *msg;
	jmp_buf env;

	memset(messages, 0, sizeof(messages));
	if ((msg = fmemopen(messages, sizeof(messages) - 1, "w")) == NULL)
		fuzz_fail("fmemopen", __FILE__, __LINE__);
	stderr = msg;
	edu_fuzz_status = 0;
	edu_fuzz_exit = &env;
	if (setjmp(env) == 0)
		fn(arg);
	edu_fuzz_exit = NULL;
	stderr = saved;
	fclose(msg);
	return edu_fuzz_status;
}

const char *fuzz_messages(void)
{
	return messages;
}

int fuzz_file(int *fd, const void *p, size_t n)
{
	if (*fd < 0 && (*fd = memfd_create("fuzz", 0)) < 0)
		fuzz_fail("memfd_create", __FILE__, __LINE__);
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, p, n, 0) != (ssize_t)n ||
	    lseek(*fd, 0, SEEK_SET) != 0)
		fuzz_fail("write to a memory file", __FILE__, __LINE__);
	return *fd;
}

const char *fuzz_path(int fd)
{
	static char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return path;
}

size_t fuzz_slurp(int fd, char **buf, size_t *cap)
{
	struct stat st;
	size_t n;

	if (fstat(fd, &st) != 0)
		fuzz_fail("fstat", __FILE__, __LINE__);
	n = (size_t)st.st_size;
	if (*cap < n + 1) {
		*cap = n + 1;
		*buf = realloc(*buf, *cap);
		if (*buf == NULL)
			fuzz_fail("realloc", __FILE__, __LINE__);
	}
	if (pread(fd, *buf, n, 0) != (ssize_t)n)
		fuzz_fail("pread", __FILE__, __LINE__);
	(*buf)[n] = '\0';
	return n;
}

/*
 * Each read of a SOCK_SEQPACKET socket returns at most one packet: short reads, in the same
 * places on every run. A read smaller than the packet would drop its rest, so this is only for
 * readers whose buffer is larger than the input (the harnesses cap their input's size).
 */
int fuzz_pipe(const void *p, size_t n, size_t chunk)
{
	const char *s = p;
	int sv[2];

	if (chunk == 0)
		chunk = 1;
	if (n / chunk >= PIPE_PACKETS)
		chunk = n / PIPE_PACKETS + 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		fuzz_fail("socketpair", __FILE__, __LINE__);
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;

		if (send(sv[0], s + off, k, MSG_DONTWAIT) != (ssize_t)k)
			fuzz_fail("send: the socket buffer is too small for the input", __FILE__,
			          __LINE__);
	}
	close(sv[0]);
	return sv[1];
}

int fuzz_utf8(const void *p, size_t n)
{
	const unsigned char *s = p, *end = s + n;

	while (s < end) {
		unsigned char b = *s;
		unsigned char lo = 0x80, hi = 0xBF;
		size_t k;

		if (b < 0x80) {
			s++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			k = 2;
		else if (b >= 0xE0 && b <= 0xEF)
			k = 3;
		else if (b >= 0xF0 && b <= 0xF4)
			k = 4;
		else
			return 0;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
		else if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
		if ((size_t)(end - s) < k || s[1] < lo || s[1] > hi)
			return 0;
		for (size_t i = 2; i < k; i++)
			if (s[i] < 0x80 || s[i] > 0xBF)
				return 0;
		s += k;
	}
	return 1;
}
