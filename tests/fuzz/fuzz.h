/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * What the harnesses of tests/fuzz/ share: libFuzzer's entry point, a call that comes back from
 * edu_exit (the code is built with -DEDU_FUZZ, src/lib/err.c), input handed over the ways the
 * tools get it (a file, or a pipe that delivers it in short reads), and the checks that turn a
 * broken promise into a crash. Each harness is one file; replay.c runs them without libFuzzer.
 */
#ifndef EDU_FUZZ_H
#define EDU_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Calls fn(arg), coming back from edu_exit: returns its exit status, or 0 when fn returned.
 * What it prints on stderr is kept (the first 4 KB), for fuzz_messages and fuzz_fail.
 */
int fuzz_call(void (*fn)(void *), void *arg);
const char *fuzz_messages(void);

/* A memory file holding p[0..n), rewound (made once per name and reused). */
int fuzz_file(int *fd, const void *p, size_t n);
/* "/proc/self/fd/N" for a memory file, for code that opens a path. */
const char *fuzz_path(int fd);
/* The whole content of a memory file, in *buf (grown as needed); returns its length. */
size_t fuzz_slurp(int fd, char **buf, size_t *cap);
/*
 * A pipe-like descriptor (a SOCK_SEQPACKET socket) from which each read returns at most chunk
 * bytes of p[0..n), then end of file: the short reads a tool gets from curl or another stage.
 */
int fuzz_pipe(const void *p, size_t n, size_t chunk);

/* True when p[0..n) is valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
int fuzz_utf8(const void *p, size_t n);

/* A broken promise: prints what and where, then aborts, which libFuzzer reports as a crash. */
_Noreturn void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(#cond, __FILE__, __LINE__);                                      \
	} while (0)

#endif
