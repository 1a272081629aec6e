/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * A progress meter on stderr: a self-overwriting line on a terminal, plain lines every
 * EDU_PROGRESS_PLAIN seconds when asked for (-p) and stderr is a file, so cron logs stay
 * readable. It reads the clock only every few thousand rows (or bytes) to stay off the hot path.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"

#define EDU_PROGRESS_TTY 0.25
#define EDU_PROGRESS_PLAIN 10.0

double edu_elapsed(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

const char *edu_now_utc(char *buf, size_t n)
{
	struct timespec now;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &now);
	strftime(sec, sizeof(sec), "%Y-%m-%d %H:%M:%S", gmtime_r(&now.tv_sec, &tm));
	snprintf(buf, n, "%s.%06ld+00", sec, now.tv_nsec / 1000);
	return buf;
}

void edu_progress_init(struct edu_progress *p, const char *label, enum edu_progress_mode mode,
                       unsigned long long total)
{
	int tty = isatty(STDERR_FILENO);

	p->label = label;
	p->count = 0;
	p->total = total;
	p->ticks = 0;
	p->every = 4096;
	p->mode = mode == EDU_PROGRESS_OFF ? 0 : tty ? 1 : mode == EDU_PROGRESS_FORCE ? 2 : 0;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

static void show(struct edu_progress *p, double secs, const char *end)
{
	double rate = secs > 0 ? (double)p->count / secs : 0;

	if (p->total > 0 && rate > 0) {
		double pct = 100.0 * (double)p->count / (double)p->total;
		double eta = (double)(p->total > p->count ? p->total - p->count : 0) / rate;

		fprintf(stderr, "%s: %llu/%llu %s (%.0f%%), %.0f %s/s, ETA %.0fs%s", edu_prog,
		        p->count, p->total, p->label, pct, rate, p->label, eta, end);
	} else {
		fprintf(stderr, "%s: %llu %s, %.0f %s/s, %.1fs%s", edu_prog, p->count, p->label,
		        rate, p->label, secs, end);
	}
}

void edu_progress_update(struct edu_progress *p)
{
	double since = edu_elapsed(&p->last);

	if (since < (p->mode == 1 ? EDU_PROGRESS_TTY : EDU_PROGRESS_PLAIN))
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	show(p, edu_elapsed(&p->start), p->mode == 1 ? "\033[K\r" : "\n");
}

void edu_progress_done(struct edu_progress *p)
{
	if (p->mode == 1)
		fputs("\r\033[K", stderr);
	else if (p->mode == 2)
		show(p, edu_elapsed(&p->start), " (done)\n");
}
