/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * edu-notify: tells the team. Reads a short message (a pipeline's summary lines) from a file or
 * stdin and sends it to every configured channel: a Slack incoming webhook, e-mail over SMTP, or
 * the SendGrid API. Channel addresses and credentials come only from the environment because they
 * are secrets; they are never printed, not even in libcurl's errors. Handles and the
 * error-to-status table are the library's (src/lib/curl.c). It does not retry: the exit status
 * says whether a later retry is worth it (75) or a person must fix the configuration (69, 78).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "edu.h"

#define SYNOPSIS "edu-notify [-hnVv] [-C channel] [-l level] [-S subject] [file]"
#define MAXBODY (64 * 1024)
#define SENDGRID_URL "https://api.sendgrid.com/v3/mail/send"

enum { CH_SLACK = 1, CH_EMAIL = 2, CH_SENDGRID = 4 };

static int verbose, dryrun;

/* JSON string body: escapes quotes, backslashes and control characters; UTF-8 passes through. */
static void add_json(struct edu_str *b, const char *s)
{
	char esc[8];

	edu_str_addn(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			edu_str_addn(b, esc, 2);
		} else if (c == '\n') {
			edu_str_addn(b, "\\n", 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			edu_str_addn(b, esc, 6);
		} else {
			edu_str_addn(b, s, 1);
		}
	}
	edu_str_addn(b, "\"", 1);
}

static void add_base64(struct edu_str *b, const unsigned char *s, size_t n)
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
		edu_str_addn(b, out, 4);
	}
}

static void read_body(struct edu_str *body, const char *file)
{
	FILE *fp = stdin;
	char chunk[8192];
	size_t got;

	if (file && (fp = fopen(file, "r")) == NULL)
		edu_die(EDU_EX_NOINPUT, "%s:", file);
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (body->len + got > MAXBODY) {
			edu_str_addn(body, chunk, MAXBODY - body->len);
			edu_str_add(body, "%s", "\n(message truncated)\n");
			break;
		}
		edu_str_addn(body, chunk, got);
	}
	if (ferror(fp))
		edu_die(EDU_EX_IOERR, "%s: read error:", file ? file : "stdin");
	if (file)
		fclose(fp);
	if (body->len == 0)
		edu_str_addn(body, "", 0);
}

static const char *need(const char *var, const char *channel)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0')
		edu_die(EDU_EX_CONFIG, "%s: %s is not set", channel, var);
	return v;
}

/*
 * A channel's URL from the environment, with the scheme checked here: libcurl would take a bare
 * host for http and fail as with a bad option, and the URL itself is never printed.
 */
static const char *need_url(const char *var, const char *channel, const char *s1, const char *s2)
{
	const char *v = need(var, channel);

	if (strncasecmp(v, s1, strlen(s1)) != 0 && strncasecmp(v, s2, strlen(s2)) != 0)
		edu_die(EDU_EX_CONFIG, "%s: %s is not an %s or %s URL", channel, var, s1, s2);
	return v;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* A handle of the suite's libcurl layer: connections in 10 s, the whole exchange in 30. */
static CURL *new_handle(const char *protocols)
{
	CURL *c = edu_curl_new(NULL, protocols, 10, 30);

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	return c;
}

/*
 * The status of a transfer, said without the channel's address: libcurl's error buffer names
 * hosts and URLs, and the webhook URL and the mail server are secrets. what is how the peer
 * is named instead ("the mail server"). libcurl calls every SMTP rejection a send error: the
 * server's reply code tells a permanent refusal (5xx: 69) from a deferral (4xx: 75).
 */
static int finish(CURL *c, CURLcode rc, const char *channel, const char *what, int smtp)
{
	long code = 0;
	int status, refused;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	refused = smtp && rc != CURLE_OK && code >= 400;
	if (refused)
		status = code >= 500 ? EDU_EX_UNAVAILABLE : EDU_EX_TEMPFAIL;
	else
		status = rc != CURLE_OK ? edu_curl_status(rc) : edu_http_status(code);
	if (status == EDU_EX_OK) {
		if (verbose)
			edu_warn("%s: sent", channel);
	} else if (rc != CURLE_OK && !refused) {
		edu_warn("%s: %s: %s", channel, what, curl_easy_strerror(rc));
	} else {
		edu_warn("%s: %s: %s status %ld", channel, what, smtp ? "SMTP" : "HTTP", code);
	}
	return status;
}

static int post_json(const char *channel, const char *what, const char *url, const char *auth,
                     const struct edu_str *json)
{
	struct curl_slist *hdr = NULL;
	struct edu_str bearer = {0};
	CURL *c;
	CURLcode rc;
	int status;

	if (dryrun) {
		printf("%s: would POST %zu bytes of JSON\n%s\n", channel, json->len, json->p);
		return EDU_EX_OK;
	}
	c = new_handle("http,https");
	hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
	if (auth) {
		edu_str_add(&bearer, "%s", "Authorization: Bearer ");
		edu_str_add(&bearer, "%s", auth);
		hdr = curl_slist_append(hdr, bearer.p);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json->p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)json->len);
	rc = curl_easy_perform(c);
	status = finish(c, rc, channel, what, 0);
	curl_slist_free_all(hdr);
	edu_str_free(&bearer);
	return status;
}

static int send_slack(const char *url, const char *subject, const char *body)
{
	struct edu_str json = {0}, text = {0};
	int status;

	edu_str_add(&text, "%s", subject);
	edu_str_add(&text, "%s", "\n");
	edu_str_add(&text, "%s", body);
	edu_str_add(&json, "%s", "{\"text\":");
	add_json(&json, text.p);
	edu_str_add(&json, "%s", "}");
	status = post_json("slack", "the webhook", url, NULL, &json);
	edu_str_free(&json);
	edu_str_free(&text);
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
	const char *url = getenv("EDU_SENDGRID_URL") && *getenv("EDU_SENDGRID_URL")
	                      ? need_url("EDU_SENDGRID_URL", "sendgrid", "http://", "https://")
	                      : SENDGRID_URL;
	struct edu_str json = {0};
	char *rcpt[32];
	size_t n = split_addresses(to, rcpt, 32);
	int status;

	edu_str_add(&json, "%s", "{\"personalizations\":[{\"to\":[");
	for (size_t i = 0; i < n; i++) {
		edu_str_add(&json, "%s", i ? ",{\"email\":" : "{\"email\":");
		add_json(&json, rcpt[i]);
		edu_str_add(&json, "%s", "}");
	}
	edu_str_add(&json, "%s", "]}],\"from\":{\"email\":");
	add_json(&json, from);
	edu_str_add(&json, "%s", "},\"subject\":");
	add_json(&json, subject);
	edu_str_add(&json, "%s", ",\"content\":[{\"type\":\"text/plain\",\"value\":");
	add_json(&json, body);
	edu_str_add(&json, "%s", "}]}");
	status = post_json("sendgrid", "the API", url, key, &json);
	edu_str_free(&json);
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

static void header_subject(struct edu_str *msg, const char *subject)
{
	int ascii = 1;

	for (const char *s = subject; *s; s++)
		if ((unsigned char)*s >= 0x80)
			ascii = 0;
	edu_str_add(msg, "%s", "Subject: ");
	if (ascii) {
		edu_str_add(msg, "%s", subject);
	} else {
		/* RFC 2047: French subjects carry accents. */
		edu_str_add(msg, "%s", "=?UTF-8?B?");
		add_base64(msg, (const unsigned char *)subject, strlen(subject));
		edu_str_add(msg, "%s", "?=");
	}
	edu_str_add(msg, "%s", "\r\n");
}

static int send_email(const char *url, const char *from, char *to, const char *subject,
                      const char *body)
{
	char date[64], line[256];
	struct curl_slist *rcpts = NULL;
	struct edu_str msg = {0};
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
	edu_str_add(&msg, "%s", line);
	edu_str_add(&msg, "%s", "To: ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			edu_str_add(&msg, "%s", ", ");
		edu_str_add(&msg, "%s", rcpt[i]);
		rcpts = curl_slist_append(rcpts, rcpt[i]);
	}
	edu_str_add(&msg, "%s", "\r\n");
	snprintf(line, sizeof(line), "Message-ID: <%lld.%ld@eduinfo-pipeline>\r\n", (long long)now,
	         (long)getpid());
	edu_str_add(&msg, "%s", line);
	header_subject(&msg, subject);
	edu_str_add(&msg, "%s",
	            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	            "Content-Transfer-Encoding: 8bit\r\n\r\n");
	for (const char *p = body; *p; p++) {
		if (*p == '\n')
			edu_str_addn(&msg, "\r\n", 2);
		else if (*p != '\r')
			edu_str_addn(&msg, p, 1);
	}
	if (dryrun) {
		printf("email: would send to %zu recipient(s)\n%s\n", n, msg.p);
		status = EDU_EX_OK;
	} else {
		c = new_handle("smtp,smtps");
		up.p = msg.p;
		up.left = msg.len;
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
		status = finish(c, rc, "email", "the mail server", 1);
	}
	curl_slist_free_all(rcpts);
	edu_str_free(&msg);
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

/* Keeps the worse of two statuses: a permanent failure outranks a temporary one. */
static int worse(int a, int b)
{
	if (a == EDU_EX_OK)
		return b;
	if (b == EDU_EX_OK || a == EDU_EX_CONFIG || a == EDU_EX_UNAVAILABLE)
		return a;
	return b;
}

/* What the command line asks for. */
struct opts {
	const char *level, *subject, *file;
	int channels;
};

/* getopt's switch: one case per option, hence its length. */
static void parse_options(struct opts *o, int argc, char *argv[])
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"version", no_argument, NULL, 'V'},
	                                         {NULL, 0, NULL, 0}};
	int ch;

	memset(o, 0, sizeof(*o));
	o->level = "info";
	while ((ch = getopt_long(argc, argv, "C:hl:nS:Vv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			o->channels |= parse_channel(optarg);
			break;
		case 'h':
			edu_usage(SYNOPSIS, 1);
		case 'l':
			if (strcmp(optarg, "info") && strcmp(optarg, "warning") &&
			    strcmp(optarg, "error"))
				edu_die(EDU_EX_USAGE, "-l %s: unknown level (info, warning, error)",
				        optarg);
			o->level = optarg;
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'S':
			o->subject = optarg;
			break;
		case 'V':
			edu_version();
		case 'v':
			verbose = 1;
			break;
		default:
			edu_usage(SYNOPSIS, 0);
		}
	}
	if (argc - optind > 1)
		edu_usage(SYNOPSIS, 0);
	o->file = optind < argc ? argv[optind] : NULL;
}

/* Without -C: every channel the environment configures, and at least one. */
static int default_channels(void)
{
	int channels = 0;

	if (getenv("EDU_SLACK_WEBHOOK") && *getenv("EDU_SLACK_WEBHOOK"))
		channels |= CH_SLACK;
	if (getenv("EDU_SMTP_URL") && *getenv("EDU_SMTP_URL"))
		channels |= CH_EMAIL;
	if (getenv("EDU_SENDGRID_API_KEY") && *getenv("EDU_SENDGRID_API_KEY"))
		channels |= CH_SENDGRID;
	if (channels == 0)
		edu_die(EDU_EX_CONFIG, "no channel configured: set EDU_SLACK_WEBHOOK, "
		                       "EDU_SMTP_URL or EDU_SENDGRID_API_KEY");
	return channels;
}

/* "[eduinfo-pipeline] ERROR: " and -S, or else the message's first line (its summary). */
static void make_subject(struct edu_str *subj, const struct opts *o, const char *body)
{
	edu_str_add(subj, "%s", "[eduinfo-pipeline] ");
	if (strcmp(o->level, "info") != 0)
		edu_str_add(subj, "%s", strcmp(o->level, "error") == 0 ? "ERROR: " : "WARNING: ");
	if (o->subject) {
		edu_str_add(subj, "%s", o->subject);
	} else {
		size_t len = strcspn(body, "\n");

		edu_str_addn(subj, body, len > 120 ? 120 : len);
	}
}

/* The message on each channel asked for; the worst status of them. */
static int send_all(int channels, const char *subject, const char *body)
{
	int status = EDU_EX_OK;

	if (channels & CH_SLACK)
		status =
		    worse(status,
		          send_slack(need_url("EDU_SLACK_WEBHOOK", "slack", "http://", "https://"),
		                     subject, body));
	if (channels & (CH_EMAIL | CH_SENDGRID)) {
		const char *from = need("EDU_MAIL_FROM", "email");
		char *to = edu_strdup(need("EDU_MAIL_TO", "email"));

		if (channels & CH_EMAIL)
			status = worse(status, send_email(need_url("EDU_SMTP_URL", "email",
			                                           "smtp://", "smtps://"),
			                                  from, to, subject, body));
		free(to);
		if (channels & CH_SENDGRID) {
			to = edu_strdup(need("EDU_MAIL_TO", "sendgrid"));
			status =
			    worse(status, send_sendgrid(need("EDU_SENDGRID_API_KEY", "sendgrid"),
			                                from, to, subject, body));
			free(to);
		}
	}
	return status;
}

int main(int argc, char *argv[])
{
	struct opts o;
	struct edu_str body = {0}, subj = {0};
	int status;

	edu_setprog(argv[0]);
	parse_options(&o, argc, argv);
	if (o.channels == 0)
		o.channels = default_channels();
	read_body(&body, o.file);
	make_subject(&subj, &o, body.p);
	status = send_all(o.channels, subj.p, body.p);
	edu_str_free(&body);
	edu_str_free(&subj);
	edu_close_stdout();
	return status;
}
