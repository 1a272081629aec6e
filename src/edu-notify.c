/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-notify: tells the team. Reads a short message (a pipeline's summary lines) from a file or
 * stdin and sends it to every configured channel: a Slack incoming webhook, e-mail over SMTP, or
 * the SendGrid API. Channel addresses and credentials come only from the environment because they
 * are secrets; they are never printed. It does not retry: the exit status says whether a later
 * retry is worth it (75) or a person must fix the configuration (69, 78).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edu.h"

#define SYNOPSIS "edu-notify [-hnVv] [-C channel] [-l level] [-S subject] [file]"
#define MAXBODY (64 * 1024)
#define SENDGRID_URL "https://api.sendgrid.com/v3/mail/send"

enum { CH_SLACK = 1, CH_EMAIL = 2, CH_SENDGRID = 4 };

struct buf {
	char *p;
	size_t n, cap;
};

static int verbose, dryrun;

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = edu_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* JSON string body: escapes quotes, backslashes and control characters; UTF-8 passes through. */
static void buf_json(struct buf *b, const char *s)
{
	char esc[8];

	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			buf_add(b, esc, 2);
		} else if (c == '\n') {
			buf_add(b, "\\n", 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			buf_add(b, esc, 6);
		} else {
			buf_add(b, s, 1);
		}
	}
	buf_add(b, "\"", 1);
}

static void buf_base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char out[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[0] = tab[(v >> 18) & 63];
		out[1] = tab[(v >> 12) & 63];
		out[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[3] = i + 2 < n ? tab[v & 63] : '=';
		buf_add(b, out, 4);
	}
}

static void read_body(struct buf *body, const char *file)
{
	FILE *fp = stdin;
	char chunk[8192];
	size_t got;

	if (file && (fp = fopen(file, "r")) == NULL)
		edu_die(EDU_EX_NOINPUT, "%s:", file);
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (body->n + got > MAXBODY) {
			buf_add(body, chunk, MAXBODY - body->n);
			buf_str(body, "\n(message truncated)\n");
			break;
		}
		buf_add(body, chunk, got);
	}
	if (ferror(fp))
		edu_die(EDU_EX_IOERR, "%s: read error:", file ? file : "stdin");
	if (file)
		fclose(fp);
	if (body->n == 0)
		buf_add(body, "", 0);
}

/* The status a failed transfer maps to: worth a retry, or not. */
static int classify(CURLcode rc, long http)
{
	if (rc == CURLE_OK)
		return http == 429 || http >= 500 ? EDU_EX_TEMPFAIL : EDU_EX_UNAVAILABLE;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return EDU_EX_TEMPFAIL;
	default:
		return EDU_EX_UNAVAILABLE;
	}
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *new_handle(char *errbuf)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		edu_die(EDU_EX_OSERR, "curl_easy_init failed");
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "eduinfo-pipeline/" EDU_VERSION " (edu-notify)");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	return c;
}

static int finish(CURL *c, CURLcode rc, const char *errbuf, const char *channel)
{
	long http = 0;
	int status;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK && (http == 0 || (http >= 200 && http < 300))) {
		if (verbose)
			edu_warn("%s: sent", channel);
		return EDU_EX_OK;
	}
	status = classify(rc, http);
	if (rc != CURLE_OK)
		edu_warn("%s: %s", channel, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		edu_warn("%s: HTTP status %ld", channel, http);
	return status;
}

static int post_json(const char *channel, const char *url, const char *auth, const struct buf *json)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdr = NULL;
	struct buf bearer = {0};
	CURL *c;
	CURLcode rc;
	int status;

	if (dryrun) {
		printf("%s: would POST %zu bytes of JSON\n%s\n", channel, json->n, json->p);
		return EDU_EX_OK;
	}
	c = new_handle(errbuf);
	hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
	if (auth) {
		buf_str(&bearer, "Authorization: Bearer ");
		buf_str(&bearer, auth);
		hdr = curl_slist_append(hdr, bearer.p);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json->p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)json->n);
	rc = curl_easy_perform(c);
	status = finish(c, rc, errbuf, channel);
	curl_slist_free_all(hdr);
	free(bearer.p);
	return status;
}

static int send_slack(const char *url, const char *subject, const char *body)
{
	struct buf json = {0}, text = {0};
	int status;

	buf_str(&text, subject);
	buf_str(&text, "\n");
	buf_str(&text, body);
	buf_str(&json, "{\"text\":");
	buf_json(&json, text.p);
	buf_str(&json, "}");
	status = post_json("slack", url, NULL, &json);
	free(json.p);
	free(text.p);
	return status;
}

/* Splits a comma-separated address list; returns the count. */
static size_t split_addresses(char *list, char **out, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(list, ", "); tok && n < max; tok = strtok(NULL, ", "))
		out[n++] = tok;
	return n;
}

static int send_sendgrid(const char *key, const char *from, char *to, const char *subject,
                         const char *body)
{
	const char *url = getenv("EDU_SENDGRID_URL");
	struct buf json = {0};
	char *rcpt[32];
	size_t n = split_addresses(to, rcpt, 32);
	int status;

	buf_str(&json, "{\"personalizations\":[{\"to\":[");
	for (size_t i = 0; i < n; i++) {
		buf_str(&json, i ? ",{\"email\":" : "{\"email\":");
		buf_json(&json, rcpt[i]);
		buf_str(&json, "}");
	}
	buf_str(&json, "]}],\"from\":{\"email\":");
	buf_json(&json, from);
	buf_str(&json, "},\"subject\":");
	buf_json(&json, subject);
	buf_str(&json, ",\"content\":[{\"type\":\"text/plain\",\"value\":");
	buf_json(&json, body);
	buf_str(&json, "}]}");
	status = post_json("sendgrid", url && *url ? url : SENDGRID_URL, key, &json);
	free(json.p);
	return status;
}

struct upload {
	const char *p;
	size_t left;
};

static size_t feed(char *dst, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t len = size * n < u->left ? size * n : u->left;

	memcpy(dst, u->p, len);
	u->p += len;
	u->left -= len;
	return len;
}

static void header_subject(struct buf *msg, const char *subject)
{
	int ascii = 1;

	for (const char *s = subject; *s; s++)
		if ((unsigned char)*s >= 0x80)
			ascii = 0;
	buf_str(msg, "Subject: ");
	if (ascii) {
		buf_str(msg, subject);
	} else {
		/* RFC 2047: French subjects carry accents. */
		buf_str(msg, "=?UTF-8?B?");
		buf_base64(msg, (const unsigned char *)subject, strlen(subject));
		buf_str(msg, "?=");
	}
	buf_str(msg, "\r\n");
}

static int send_email(const char *url, const char *from, char *to, const char *subject,
                      const char *body)
{
	char errbuf[CURL_ERROR_SIZE], date[64], line[256];
	struct curl_slist *rcpts = NULL;
	struct buf msg = {0};
	struct upload up;
	char *rcpt[32];
	size_t n = split_addresses(to, rcpt, 32);
	time_t now = time(NULL);
	struct tm tm;
	CURL *c;
	CURLcode rc;
	int status;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(line, sizeof(line), "Date: %s\r\nFrom: %s\r\n", date, from);
	buf_str(&msg, line);
	buf_str(&msg, "To: ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_str(&msg, ", ");
		buf_str(&msg, rcpt[i]);
		rcpts = curl_slist_append(rcpts, rcpt[i]);
	}
	buf_str(&msg, "\r\n");
	snprintf(line, sizeof(line), "Message-ID: <%lld.%ld@eduinfo-pipeline>\r\n", (long long)now,
	         (long)getpid());
	buf_str(&msg, line);
	header_subject(&msg, subject);
	buf_str(&msg, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	              "Content-Transfer-Encoding: 8bit\r\n\r\n");
	for (const char *p = body; *p; p++) {
		if (*p == '\n')
			buf_add(&msg, "\r\n", 2);
		else if (*p != '\r')
			buf_add(&msg, p, 1);
	}
	if (dryrun) {
		printf("email: would send to %zu recipient(s)\n%s\n", n, msg.p);
		status = EDU_EX_OK;
	} else {
		c = new_handle(errbuf);
		up.p = msg.p;
		up.left = msg.n;
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
		curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		if (getenv("EDU_SMTP_USER"))
			curl_easy_setopt(c, CURLOPT_USERNAME, getenv("EDU_SMTP_USER"));
		if (getenv("EDU_SMTP_PASSWORD"))
			curl_easy_setopt(c, CURLOPT_PASSWORD, getenv("EDU_SMTP_PASSWORD"));
		rc = curl_easy_perform(c);
		status = finish(c, rc, errbuf, "email");
	}
	curl_slist_free_all(rcpts);
	free(msg.p);
	return status;
}

static int parse_channel(const char *s)
{
	if (strcmp(s, "slack") == 0)
		return CH_SLACK;
	if (strcmp(s, "email") == 0)
		return CH_EMAIL;
	if (strcmp(s, "sendgrid") == 0)
		return CH_SENDGRID;
	edu_die(EDU_EX_USAGE, "-C %s: unknown channel (slack, email, sendgrid)", s);
}

static const char *need(const char *var, const char *channel)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0')
		edu_die(EDU_EX_CONFIG, "%s: %s is not set", channel, var);
	return v;
}

/* Keeps the worse of two statuses: a permanent failure outranks a temporary one. */
static int worse(int a, int b)
{
	if (a == EDU_EX_OK)
		return b;
	if (b == EDU_EX_OK || a == EDU_EX_CONFIG || a == EDU_EX_UNAVAILABLE)
		return a;
	return b;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	const char *level = "info", *subject = NULL;
	struct buf body = {0}, subj = {0};
	int channels = 0, status = EDU_EX_OK, ch;

	edu_setprog(argv[0]);
	while ((ch = getopt_long(argc, argv, "C:S:Vhl:nv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			channels |= parse_channel(optarg);
			break;
		case 'S':
			subject = optarg;
			break;
		case 'V':
			edu_version();
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'l':
			if (strcmp(optarg, "info") && strcmp(optarg, "warning") &&
			    strcmp(optarg, "error"))
				edu_die(EDU_EX_USAGE, "-l %s: unknown level (info, warning, error)",
				        optarg);
			level = optarg;
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind > 1)
		edu_usage(SYNOPSIS, 0);
	if (channels == 0) {
		/* Default: every channel the environment configures. */
		if (getenv("EDU_SLACK_WEBHOOK") && *getenv("EDU_SLACK_WEBHOOK"))
			channels |= CH_SLACK;
		if (getenv("EDU_SMTP_URL") && *getenv("EDU_SMTP_URL"))
			channels |= CH_EMAIL;
		if (getenv("EDU_SENDGRID_API_KEY") && *getenv("EDU_SENDGRID_API_KEY"))
			channels |= CH_SENDGRID;
		if (channels == 0)
			edu_die(EDU_EX_CONFIG, "no channel configured: set EDU_SLACK_WEBHOOK, "
			                       "EDU_SMTP_URL or EDU_SENDGRID_API_KEY");
	}
	read_body(&body, optind < argc ? argv[optind] : NULL);

	buf_str(&subj, "[eduinfo-pipeline] ");
	if (strcmp(level, "info") != 0) {
		buf_str(&subj, strcmp(level, "error") == 0 ? "ERROR: " : "WARNING: ");
	}
	if (subject) {
		buf_str(&subj, subject);
	} else {
		/* The first line of the message is the natural subject of a summary. */
		size_t len = strcspn(body.p, "\n");

		buf_add(&subj, body.p, len > 120 ? 120 : len);
	}

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		edu_die(EDU_EX_OSERR, "curl_global_init failed");
	if (channels & CH_SLACK)
		status =
		    worse(status, send_slack(need("EDU_SLACK_WEBHOOK", "slack"), subj.p, body.p));
	if (channels & (CH_EMAIL | CH_SENDGRID)) {
		const char *from = need("EDU_MAIL_FROM", "email");
		char *to = edu_strdup(need("EDU_MAIL_TO", "email"));

		if (channels & CH_EMAIL)
			status = worse(status, send_email(need("EDU_SMTP_URL", "email"), from, to,
			                                  subj.p, body.p));
		free(to);
		if (channels & CH_SENDGRID) {
			to = edu_strdup(need("EDU_MAIL_TO", "sendgrid"));
			status =
			    worse(status, send_sendgrid(need("EDU_SENDGRID_API_KEY", "sendgrid"),
			                                from, to, subj.p, body.p));
			free(to);
		}
	}
	curl_global_cleanup();
	free(body.p);
	free(subj.p);
	edu_close_stdout();
	return status;
}
