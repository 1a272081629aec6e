/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * One HTTP (or file://) GET for edu-fetch and edu-ifmodified, on the suite's libcurl layer
 * (src/lib/curl.c: connect and stall timeouts, TLS always verified unless asked, the error
 * table), with bounded redirects, compressed transfer, and retries of temporary failures with
 * exponential backoff, jitter and Retry-After. The body is hashed (SHA-256, and a second digest
 * when asked: a publisher's SHA-1 or MD5) and counted as it arrives, and handed to the caller's
 * sink only after its first bytes were sniffed as the declared format, so an HTML error page
 * served with status 200 never reaches a file or a pipe. It does not decide what to do with the
 * body.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "edu.h"

#define SNIFF_MAX 1024
#define MAX_REDIRS 10
#define BACKOFF_BASE 1.0    /* seconds before the first retry */
#define BACKOFF_CAP 30.0    /* longest wait between two attempts */
#define RETRY_AFTER_MAX 120 /* a server asking for longer is not waited for: exit 75 */

struct xfer {
	const struct edu_http *rq;
	struct edu_http_res *rs;
	CURL *h;
	EVP_MD_CTX *md, *md2; /* SHA-256, and rq->digest's (md2 NULL without) */
	const EVP_MD *type2;
	unsigned char sniff[SNIFF_MAX];
	size_t nsniff;
	int sniffed, headers_seen;
	int encoded;         /* Content-Encoding: Content-Length counts encoded bytes */
	const char *refused; /* why the body was refused */
	char location[512];  /* of the last response, to name a refused redirect */
	struct edu_progress prog;
	int prog_on;
};

int edu_format_parse(const char *name)
{
	static const char *names[] = {"any", "csv", "json", "gzip", "zip"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *format_name(int f)
{
	static const char *names[] = {"any", "csv", "json", "gzip", "zip"};

	return f >= 0 && f <= EDU_FMT_ZIP ? names[f] : "?";
}

const char *edu_http_date_iso(const char *http_date, char *buf, size_t n)
{
	time_t t;
	struct tm tm;

	if (http_date == NULL || *http_date == '\0')
		return NULL;
	t = curl_getdate(http_date, NULL);
	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return NULL;
	strftime(buf, n, "%Y-%m-%d %H:%M:%S+00", &tm);
	return buf;
}

static int success(long status)
{
	return status == 0 || (status >= 200 && status < 300);
}

/*
 * True when p starts like markup: "<!", "<?" or a tag name ended by a blank, '>' or '/'. A bare
 * '<' is not enough: a CSV header may well start with "<5 ans;".
 */
static int markup(const unsigned char *p, size_t n)
{
	size_t j = 1;

	if (n < 2 || p[0] != '<')
		return 0;
	if (p[1] == '!' || p[1] == '?')
		return 1;
	if (p[1] == '/')
		j++;
	if (j >= n || !((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z')))
		return 0;
	while (j < n && ((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z') ||
	                 (p[j] >= '0' && p[j] <= '9') || p[j] == '-' || p[j] == ':'))
		j++;
	return j == n || strchr(" \t\r\n>/", p[j]) != NULL;
}

/* Why the first bytes are not the declared format, or NULL. */
static const char *sniff_refusal(int fmt, const char *ctype, const unsigned char *p, size_t n)
{
	size_t i = 0;

	/* Even unchecked, an empty body is never a download: it would replace a good file. */
	if (n == 0)
		return "empty body";
	if (fmt == EDU_FMT_ANY)
		return NULL;
	if (strncasecmp(ctype, "text/html", 9) == 0 ||
	    strncasecmp(ctype, "application/xhtml", 17) == 0)
		return "the server sent an HTML page (Content-Type text/html)";
	if (fmt == EDU_FMT_GZIP) {
		if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
			return NULL;
	} else if (fmt == EDU_FMT_ZIP) {
		if (n >= 4 && memcmp(p, "PK\003\004", 4) == 0)
			return NULL;
	}
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (markup(p + i, n - i))
		return "the body is an HTML or XML page";
	switch (fmt) {
	case EDU_FMT_CSV:
		if (memchr(p, '\0', n) != NULL || (n >= 2 && p[0] == 0x1f && p[1] == 0x8b))
			return "the body is binary, not CSV text";
		return NULL;
	case EDU_FMT_JSON:
		if (i < n && (p[i] == '{' || p[i] == '['))
			return NULL;
		return "the body is not JSON";
	case EDU_FMT_GZIP:
		return "the body is not gzip data";
	default:
		return "the body is not a zip archive";
	}
}

static void forward(struct xfer *x, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (!x->prog_on) {
		long long cl = x->rs->content_length;

		edu_progress_init(&x->prog, "bytes", x->rq->progress,
		                  cl > 0 ? (unsigned long long)cl : 0);
		x->prog_on = 1;
	}
	x->rs->emitted = 1;
	x->rq->sink(x->rq->ctx, p, n);
	x->prog.count += n;
	if (x->prog.mode)
		edu_progress_update(&x->prog);
}

/* Checks the sniff buffer once, then passes it on. Returns 0 when the body is refused. */
static int check_sniff(struct xfer *x)
{
	x->sniffed = 1;
	x->refused = sniff_refusal(x->rq->format, x->rs->content_type, x->sniff, x->nsniff);
	if (x->refused)
		return 0;
	forward(x, (const char *)x->sniff, x->nsniff);
	return 1;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *v)
{
	struct xfer *x = v;
	struct edu_http_res *rs = x->rs;
	size_t n = size * nmemb, len = n;
	char *colon, *val;
	char line[512];

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= sizeof(line))
		return n;
	memcpy(line, p, len);
	line[len] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or a 100): forget the previous one's headers. */
		const char *sp = strchr(line, ' ');

		rs->etag[0] = rs->last_modified[0] = rs->content_type[0] = rs->reason[0] = '\0';
		rs->retry_after = -1;
		x->encoded = 0;
		x->location[0] = '\0';
		if (sp && (sp = strchr(sp + 1, ' ')) != NULL)
			snprintf(rs->reason, sizeof(rs->reason), "%s", sp + 1);
		return n;
	}
	if ((colon = strchr(line, ':')) == NULL)
		return n;
	*colon = '\0';
	for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
		;
	if (strcasecmp(line, "ETag") == 0) {
		snprintf(rs->etag, sizeof(rs->etag), "%s", val);
	} else if (strcasecmp(line, "Last-Modified") == 0) {
		snprintf(rs->last_modified, sizeof(rs->last_modified), "%s", val);
	} else if (strcasecmp(line, "Content-Type") == 0) {
		snprintf(rs->content_type, sizeof(rs->content_type), "%s", val);
	} else if (strcasecmp(line, "Location") == 0) {
		snprintf(x->location, sizeof(x->location), "%s", val);
	} else if (strcasecmp(line, "Content-Encoding") == 0) {
		x->encoded = strcasecmp(val, "identity") != 0;
	} else if (strcasecmp(line, "Retry-After") == 0) {
		char *end;
		long secs = strtol(val, &end, 10);

		if (end != val && *end == '\0' && secs >= 0) {
			rs->retry_after = secs;
		} else {
			time_t t = curl_getdate(val, NULL);

			if (t != (time_t)-1)
				rs->retry_after = t > time(NULL) ? (long)(t - time(NULL)) : 0;
		}
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *v)
{
	struct xfer *x = v;
	struct edu_http_res *rs = x->rs;
	size_t n = size * nmemb, take;
	long status = 0;
	curl_off_t cl = -1;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (!success(status))
		return n; /* an error page: its status says enough */
	if (!x->headers_seen) {
		x->headers_seen = 1;
		rs->status = status;
		/* Compressed, Content-Length counts the encoded bytes: not the size we keep. */
		if (!x->encoded &&
		    curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
			rs->content_length = cl;
		if (x->rq->on_headers && x->rq->on_headers(x->rq->ctx, rs)) {
			rs->stopped = 1;
			return 0;
		}
	}
	EVP_DigestUpdate(x->md, p, n);
	if (x->md2)
		EVP_DigestUpdate(x->md2, p, n);
	rs->size += n;
	if (!x->sniffed) {
		take = SNIFF_MAX - x->nsniff < n ? SNIFF_MAX - x->nsniff : n;
		memcpy(x->sniff + x->nsniff, p, take);
		x->nsniff += take;
		if (x->nsniff < SNIFF_MAX)
			return n;
		if (!check_sniff(x))
			return 0;
		p += take;
		n -= take;
		forward(x, p, n);
		return size * nmemb;
	}
	forward(x, p, n);
	return n;
}

static int refusal(struct xfer *x)
{
	if (x->rq->format == EDU_FMT_ANY)
		snprintf(x->rs->error, sizeof(x->rs->error), "%s", x->refused);
	else
		snprintf(x->rs->error, sizeof(x->rs->error), "%s, not %s", x->refused,
		         format_name(x->rq->format));
	return EDU_EX_UNAVAILABLE;
}

/* Forgets what the previous attempt saw. */
static void start_attempt(struct xfer *x)
{
	struct edu_http_res *rs = x->rs;

	rs->status = 0;
	rs->emitted = rs->stopped = 0;
	rs->size = 0;
	rs->content_length = -1;
	rs->retry_after = -1;
	rs->filetime = -1;
	rs->etag[0] = rs->last_modified[0] = rs->content_type[0] = rs->reason[0] = '\0';
	rs->sha256[0] = rs->digest[0] = rs->error[0] = '\0';
	x->nsniff = 0;
	x->sniffed = x->headers_seen = 0;
	x->refused = NULL;
	x->prog_on = x->encoded = 0;
	x->location[0] = '\0';
	EVP_DigestInit_ex(x->md, EVP_sha256(), NULL);
	if (x->md2)
		EVP_DigestInit_ex(x->md2, x->type2, NULL);
}

/* The request headers of a conditional GET, or NULL. */
static struct curl_slist *conditions(const struct edu_http *rq)
{
	struct curl_slist *hdrs = NULL;
	char hdr[512];

	if (rq->if_none_match && *rq->if_none_match) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", rq->if_none_match);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	if (rq->if_modified_since && *rq->if_modified_since) {
		snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", rq->if_modified_since);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	return hdrs;
}

/* The suite's handle settings (src/lib/curl.c), then this GET's own. */
static void set_options(struct xfer *x, char *errbuf, struct curl_slist *hdrs)
{
	curl_easy_reset(x->h);
	edu_curl_setup(x->h, errbuf, "http,https,file", x->rq->timeout, 0);
	curl_easy_setopt(x->h, CURLOPT_URL, x->rq->url);
	curl_easy_setopt(x->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(x->h, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
	curl_easy_setopt(x->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->h, CURLOPT_FILETIME, 1L);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	if (x->rq->insecure) {
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* What libcurl knows once the transfer ended: status, file time, announced length. */
static void collect(struct xfer *x)
{
	struct edu_http_res *rs = x->rs;
	long status = 0, filetime = -1;
	curl_off_t cl = -1;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_FILETIME, &filetime);
	if (curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
		rs->content_length = cl;
	rs->status = status;
	rs->filetime = filetime;
	if (x->prog_on)
		edu_progress_done(&x->prog);
}

/* A successful transfer: the body checked whole, its digest, its date. */
static int finish_body(struct xfer *x)
{
	struct edu_http_res *rs = x->rs;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!x->sniffed && !check_sniff(x))
		return refusal(x);
	/* curl checks Content-Length on HTTP/1.1; this covers what it cannot see. */
	if (rs->content_length >= 0 && rs->size < (unsigned long long)rs->content_length &&
	    rs->status != 0 && !x->encoded) {
		snprintf(rs->error, sizeof(rs->error), "body shorter than Content-Length");
		return EDU_EX_TEMPFAIL;
	}
	EVP_DigestFinal_ex(x->md, md, &mdlen);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(rs->sha256 + 2 * i, 3, "%02x", md[i]);
	if (x->md2) {
		EVP_DigestFinal_ex(x->md2, md, &mdlen);
		for (unsigned i = 0; i < mdlen && i < 64; i++)
			snprintf(rs->digest + 2 * i, 3, "%02x", md[i]);
	}
	if (rs->last_modified[0] == '\0' && rs->filetime >= 0)
		edu_http_date(rs->filetime, rs->last_modified, sizeof(rs->last_modified));
	return EDU_EX_OK;
}

/* The attempt's exit status, from libcurl's result c and the HTTP status. */
static int outcome(struct xfer *x, CURLcode c, const char *errbuf)
{
	struct edu_http_res *rs = x->rs;
	long status = rs->status;

	if (rs->stopped)
		return EDU_EX_OK;
	if (x->refused)
		return refusal(x);
	if (c == CURLE_UNSUPPORTED_PROTOCOL && status >= 300 && status < 400) {
		/* The server's choice, not the user's: a permanent failure, not a usage error. */
		snprintf(rs->error, sizeof(rs->error),
		         "HTTP %ld redirect to '%s' refused: only http and https are followed",
		         status, x->location);
		return EDU_EX_UNAVAILABLE;
	}
	if (c != CURLE_OK) {
		snprintf(rs->error, sizeof(rs->error), "%s", edu_curl_error(c, errbuf));
		/* A 5xx/429 whose body was cut is still a 5xx/429. */
		if (!(c == CURLE_PARTIAL_FILE && !success(status)))
			return edu_curl_status(c);
	}
	if (success(status))
		return finish_body(x);
	if (status == 304)
		return EDU_EX_OK;
	snprintf(rs->error, sizeof(rs->error), "HTTP %ld%s%s", status, rs->reason[0] ? " " : "",
	         rs->reason);
	return edu_http_status(status);
}

static int perform(struct xfer *x)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hdrs = conditions(x->rq);
	CURLcode c;

	start_attempt(x);
	set_options(x, errbuf, hdrs);
	x->rs->attempts++;
	c = curl_easy_perform(x->h);
	collect(x);
	curl_slist_free_all(hdrs);
	return outcome(x, c, errbuf);
}

static void pause_for(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int edu_http_get(const struct edu_http *rq, struct edu_http_res *rs)
{
	static int seeded;
	struct xfer x;
	int rc;

	if (!seeded) {
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = 1;
	}
	memset(rs, 0, sizeof(*rs));
	memset(&x, 0, sizeof(x));
	x.rq = rq;
	x.rs = rs;
	if (rq->insecure)
		edu_warn("WARNING: %s: TLS certificate NOT verified (--insecure): the content may "
		         "be forged",
		         rq->url);
	x.h = edu_curl_new(NULL, "http,https,file", rq->timeout, 0);
	if ((x.md = EVP_MD_CTX_new()) == NULL)
		edu_die(EDU_EX_OSERR, "libcrypto: cannot create a digest");
	if (rq->digest) {
		if ((x.type2 = EVP_get_digestbyname(rq->digest)) == NULL)
			edu_die(EDU_EX_SOFTWARE, "libcrypto: no digest %s", rq->digest);
		if ((x.md2 = EVP_MD_CTX_new()) == NULL)
			edu_die(EDU_EX_OSERR, "libcrypto: cannot create a digest");
	}
	for (int attempt = 0;; attempt++) {
		double wait = BACKOFF_BASE;

		rc = perform(&x);
		if (rc != EDU_EX_TEMPFAIL || attempt >= rq->retries)
			break;
		if (rs->emitted && rq->restart == NULL)
			break;
		for (int i = 0; i < attempt && wait < BACKOFF_CAP; i++)
			wait *= 2;
		if (wait > BACKOFF_CAP)
			wait = BACKOFF_CAP;
		/* Jitter in [wait/2, wait]: clients retrying together do not stay in step. */
		wait = wait / 2 + wait / 2 * ((double)random() / (double)RAND_MAX);
		if (rs->retry_after > RETRY_AFTER_MAX) {
			size_t len = strlen(rs->error);

			snprintf(rs->error + len, sizeof(rs->error) - len,
			         " (Retry-After %lds is more than %ds: not waiting)",
			         rs->retry_after, RETRY_AFTER_MAX);
			break;
		}
		if (rs->retry_after >= 0 && (double)rs->retry_after > wait)
			wait = (double)rs->retry_after;
		if (rq->verbose)
			edu_warn("%s: %s; retrying in %.1fs (attempt %d of %d)", rq->url, rs->error,
			         wait, attempt + 2, rq->retries + 1);
		pause_for(wait);
		if (rs->emitted)
			rq->restart(rq->ctx);
	}
	curl_easy_cleanup(x.h);
	EVP_MD_CTX_free(x.md);
	EVP_MD_CTX_free(x.md2);
	if (rc == EDU_EX_OK && rs->status == 304 && rq->if_none_match == NULL &&
	    rq->if_modified_since == NULL) {
		/* No condition was sent: a 304 has no body, and an empty file is no file. */
		snprintf(rs->error, sizeof(rs->error), "HTTP 304 to an unconditional request");
		rc = EDU_EX_UNAVAILABLE;
	}
	return rc;
}

void edu_http_date(long long t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	buf[0] = '\0';
	if (gmtime_r(&tt, &tm))
		strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}
