/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * Output files that are complete or absent: each edu_atomic handle writes a hidden temporary
 * file beside its target, and only a complete output, fsync'ed, is renamed over it; the
 * directory is fsync'ed too, so the rename survives a crash. A process may hold any number of
 * them. Until its commit, a temporary file is removed at exit and on SIGHUP, SIGINT, SIGPIPE,
 * SIGTERM (the process then dies of the signal as it would have); a tool with handlers of its own
 * calls edu_atomic_cleanup from them. It does not decide when an output is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edu.h"

/* The temporaries not yet renamed: read by the signal handler, changed with signals blocked. */
static struct edu_atomic *volatile pending;
static const int fatal[] = {SIGHUP, SIGINT, SIGPIPE, SIGTERM};

void edu_atomic_cleanup(void)
{
	for (struct edu_atomic *a = pending; a != NULL; a = a->next)
		unlink(a->tmp);
}

static void at_exit(void)
{
	edu_atomic_cleanup();
}

static void on_signal(int sig)
{
	edu_atomic_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Once per process: the exit hook, and the signal handler where the signal would kill us. A
 * signal ignored at start stays ignored (nohup must keep working), and one the tool catches
 * itself stays with the tool.
 */
static void install(void)
{
	static int done;
	struct sigaction sa;

	if (done)
		return;
	done = 1;
	atexit(at_exit);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (sigaction(fatal[i], NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
			signal(fatal[i], on_signal);
}

/* Blocks (how SIG_BLOCK) or restores (SIG_SETMASK) the signals whose handler walks the list. */
static void guard(int how, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaddset(&set, fatal[i]);
	sigprocmask(how, how == SIG_SETMASK ? old : &set, how == SIG_SETMASK ? NULL : old);
}

struct edu_atomic *edu_atomic_open(const char *path)
{
	struct edu_atomic *a = edu_malloc(sizeof(*a));
	char *d = edu_strdup(path), *b = edu_strdup(path);
	size_t n = strlen(path) + 16;
	sigset_t old;

	a->path = path;
	a->tmp = edu_malloc(n);
	snprintf(a->tmp, n, "%s/.%s.XXXXXX", dirname(d), basename(b));
	free(d);
	free(b);
	install();
	guard(SIG_BLOCK, &old);
	if ((a->fd = mkstemp(a->tmp)) == -1) {
		int e = errno;

		guard(SIG_SETMASK, &old);
		errno = e;
		edu_die(e == ENOENT || e == ENOTDIR ? EDU_EX_NOINPUT : EDU_EX_IOERR,
		        "%s: cannot create a temporary file next to it:", path);
	}
	a->next = pending;
	pending = a;
	guard(SIG_SETMASK, &old);
	return a;
}

/* Takes a off the list of temporaries to remove. */
static void forget(struct edu_atomic *a)
{
	struct edu_atomic *volatile *p = &pending;
	sigset_t old;

	guard(SIG_BLOCK, &old);
	while (*p != NULL && *p != a)
		p = &(*p)->next;
	if (*p == a)
		*p = a->next;
	guard(SIG_SETMASK, &old);
}

void edu_atomic_commit(struct edu_atomic *a)
{
	mode_t mask = umask(0);
	char *d;
	int dfd;

	umask(mask);
	/* mkstemp made it 0600; the output is as readable as any other new file. */
	if (fchmod(a->fd, 0666 & ~mask) == -1 || fsync(a->fd) == -1)
		edu_die(EDU_EX_IOERR, "%s:", a->tmp);
	if (close(a->fd) == -1)
		edu_die(EDU_EX_IOERR, "%s: close:", a->tmp);
	if (rename(a->tmp, a->path) == -1)
		edu_die(EDU_EX_IOERR, "%s: cannot rename into place:", a->path);
	forget(a);
	/* The rename itself must reach the disk, or a crash brings the old file back. */
	d = edu_strdup(a->path);
	if ((dfd = open(dirname(d), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
	free(a->tmp);
	free(a);
}
