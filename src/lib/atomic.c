/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * -o for every tool that writes a file: the output goes to a hidden temporary file beside the
 * target, and only a complete output, fsync'ed, is renamed over it; the directory is fsync'ed
 * too, so the rename survives a crash. Until then the temporary file is removed at exit, and
 * edu_atomic_unlink may be called from a signal handler. One such output per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edu.h"

static char tmp[4096];     /* the temporary file while it is not renamed into place */
static const char *target; /* the file it becomes */
static int tmpfd = -1;

void edu_atomic_unlink(void)
{
	if (tmp[0]) {
		unlink(tmp);
		tmp[0] = '\0';
	}
}

static void unlink_at_exit(void)
{
	edu_atomic_unlink();
}

const char *edu_atomic_tmp(void)
{
	return tmp;
}

int edu_atomic_open(const char *path)
{
	char *d = edu_strdup(path), *b = edu_strdup(path);
	int n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(d), basename(b));

	free(d);
	free(b);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		tmp[0] = '\0';
		edu_die(EDU_EX_IOERR, "%s: path too long", path);
	}
	if ((tmpfd = mkstemp(tmp)) == -1) {
		int e = errno;

		tmp[0] = '\0';
		errno = e;
		edu_die(e == ENOENT || e == ENOTDIR ? EDU_EX_NOINPUT : EDU_EX_IOERR,
		        "%s: cannot create a temporary file next to it:", path);
	}
	target = path;
	atexit(unlink_at_exit);
	return tmpfd;
}

void edu_atomic_commit(void)
{
	mode_t mask = umask(0);
	char *d;
	int dfd;

	umask(mask);
	/* mkstemp made it 0600; the output is as readable as any other new file. */
	if (fchmod(tmpfd, 0666 & ~mask) == -1 || fsync(tmpfd) == -1)
		edu_die(EDU_EX_IOERR, "%s:", tmp);
	if (close(tmpfd) == -1)
		edu_die(EDU_EX_IOERR, "%s: close:", tmp);
	if (rename(tmp, target) == -1)
		edu_die(EDU_EX_IOERR, "%s: cannot rename into place:", target);
	tmp[0] = '\0';
	/* The rename itself must reach the disk, or a crash brings the old file back. */
	d = edu_strdup(target);
	if ((dfd = open(dirname(d), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(d);
}
