/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * A main for a harness without libFuzzer: runs LLVMFuzzerTestOneInput once on each file named,
 * or on each file of a directory named, so that `make check` replays the seeds and the kept
 * crashes with any compiler (and with ASan and UBSan under SANITIZE=1). It prints the number of
 * inputs it ran; a broken promise or a sanitizer report ends the process before that.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int n;

static void replay(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (fp == NULL) {
		perror(path);
		exit(66);
	}
	do {
		if (len == cap) {
			char *more = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (more == NULL)
				exit(71);
			buf = more;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got > 0);
	if (ferror(fp))
		exit(74);
	fclose(fp);
	/* An exact copy, so that ASan sees a read past its end. */
	{
		uint8_t *data = malloc(len ? len : 1);

		if (data == NULL)
			exit(71);
		memcpy(data, buf, len);
		free(buf);
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	n++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **names;
		int k;

		if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			replay(argv[i]);
			continue;
		}
		if ((k = scandir(argv[i], &names, NULL, by_name)) < 0) {
			perror(argv[i]);
			return 66;
		}
		for (int j = 0; j < k; j++) {
			char path[4096];

			if (names[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
				replay(path);
			}
			free(names[j]);
		}
		free(names);
	}
	printf("%d\n", n);
	return 0;
}
