/* eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md. */
/*
 * The suite's one libcurl layer: how a handle is set up (libcurl initialized once, one user
 * agent, no signals, an error buffer, TLS always verified, the protocols a caller allows, its
 * timeouts) and the one table from a libcurl error or an HTTP status to the exit-code table.
 * edu-fetch and edu-ifmodified (through src/lib/http.c) and edu-notify use it; it needs only
 * -lcurl. It makes no request itself and prints nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "edu.h"

/* A transfer below this many bytes a second for the whole timeout is a stall. */
#define STALL_BYTES 1024L

void edu_curl_setup(CURL *h, char *errbuf, const char *protocols, long timeout, long total)
{
	char ua[128];

	snprintf(ua, sizeof(ua), "eduinfo-pipeline/%s (%s)", EDU_VERSION, edu_prog);
	if (errbuf) {
		errbuf[0] = '\0';
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	}
	/* Timeouts by alarm() would need signals: libcurl's threaded resolver needs none. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
	if (total > 0) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT, total);
	} else {
		/* Below 1 KiB/s for the whole timeout is a stall, not a slow server: a trickle of
		 * a byte a second would otherwise hold a cron run forever. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout);
	}
}

CURL *edu_curl_new(char *errbuf, const char *protocols, long timeout, long total)
{
	static int inited;
	CURL *h;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			edu_die(EDU_EX_OSERR, "libcurl: cannot initialize");
		inited = 1;
	}
	if ((h = curl_easy_init()) == NULL)
		edu_die(EDU_EX_OSERR, "libcurl: cannot create a handle");
	edu_curl_setup(h, errbuf, protocols, timeout, total);
	return h;
}

/*
 * Worth a retry: what a network, a DNS or proxy outage or a server going away mid-answer
 * causes, TLS handshakes cut short (CURLE_SSL_CONNECT_ERROR; a certificate that does not verify
 * is CURLE_PEER_FAILED_VERIFICATION, permanent) and HTTP/2 stream errors (a reset stream, a
 * server that sent GOAWAY). A URL libcurl cannot use is a usage error: the caller checks
 * the scheme of a URL read from the configuration before it gets here (EDU_EX_CONFIG).
 */
int edu_curl_status(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return EDU_EX_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return EDU_EX_TEMPFAIL;
	case CURLE_FILE_COULDNT_READ_FILE:
		return EDU_EX_NOINPUT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EDU_EX_USAGE;
	case CURLE_OUT_OF_MEMORY:
		return EDU_EX_OSERR;
	default:
		return EDU_EX_UNAVAILABLE;
	}
}

int edu_http_status(long status)
{
	if (status == 0 || (status >= 200 && status < 300))
		return EDU_EX_OK;
	if (status == 408 || status == 429 || status >= 500)
		return EDU_EX_TEMPFAIL;
	return EDU_EX_UNAVAILABLE;
}

const char *edu_curl_error(CURLcode c, const char *errbuf)
{
	return errbuf && errbuf[0] ? errbuf : curl_easy_strerror(c);
}
