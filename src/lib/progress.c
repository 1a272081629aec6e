/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * A progress meter on stderr: a self-overwriting line on a terminal, plain lines every
 * EDU_PROGRESS_PLAIN seconds when asked for (-p) and stderr is a file, so cron logs stay
 * readable. It reads the clock only every few thousand rows (or bytes) to stay off the hot path.
 */
#include <stdio.h>
#include <string.h>
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

/*
 * An amount as curl and pv show one: bytes in binary units ("11.8 MiB"), anything else as a count
 * with thousands separators and its label ("1,234,567 rows"); per second with rate.
 */
static void amount(char *buf, size_t n, const char *label, double v, int rate)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	char digits[32], *d = digits;
	size_t len, k = 0, o = 0;

	if (strcmp(label, "bytes") == 0) {
		while (v >= 1024 && k + 1 < sizeof(unit) / sizeof(unit[0]))
			v /= 1024, k++;
		snprintf(buf, n, k ? "%.1f %s%s" : "%.0f %s%s", v, unit[k], rate ? "/s" : "");
		return;
	}
	snprintf(digits, sizeof(digits), "%.0f", v);
	len = strlen(digits);
	for (; *d && o + 2 < n; d++) {
		buf[o++] = *d;
		if (d[1] && (len - (size_t)(d - digits) - 1) % 3 == 0)
			buf[o++] = ',';
	}
	snprintf(buf + o, n - o, " %s%s", label, rate ? "/s" : "");
}

/* A duration: "6 s", "2 min 5 s", "1 h 3 min". */
static void duration(char *buf, size_t n, double secs)
{
	long s = (long)(secs + 0.5);

	if (s < 60)
		snprintf(buf, n, "%ld s", s);
	else if (s < 3600)
		snprintf(buf, n, "%ld min %ld s", s / 60, s % 60);
	else
		snprintf(buf, n, "%ld h %ld min", s / 3600, s % 3600 / 60);
}

static void show(struct edu_progress *p, double secs, const char *end)
{
	double rate = secs > 0 ? (double)p->count / secs : 0;
	char count[48], total[48], speed[48], time[32];

	amount(count, sizeof(count), p->label, (double)p->count, 0);
	amount(speed, sizeof(speed), p->label, rate, 1);
	if (p->total > 0 && rate > 0) {
		double pct = 100.0 * (double)p->count / (double)p->total;

		amount(total, sizeof(total), p->label, (double)p->total, 0);
		duration(time, sizeof(time),
		         (double)(p->total > p->count ? p->total - p->count : 0) / rate);
		fprintf(stderr, "%s: %s / %s (%.0f%%), %s, ETA %s%s", edu_prog, count, total, pct,
		        speed, time, end);
	} else {
		fprintf(stderr, "%s: %s, %s, %.1f s%s", edu_prog, count, speed, secs, end);
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
