/* SPDX-License-Identifier: MIT */
/* The few HTTP requests of the git backend (login, repo creation, the
 * git-lfs batch API and object PUTs): libcurl, retries with backoff,
 * verbose traces through the host with credentials masked. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "git.h"

#define MSGIT_BODY_MAX (4u << 20)
#define MSGIT_PUT_BUF (256u << 10)

static pthread_once_t msgit_curl_once = PTHREAD_ONCE_INIT;

static void msgit_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void msgit_http_global_init(void)
{
	pthread_once(&msgit_curl_once, msgit_curl_init);
}

struct msgit_xfer {
	const struct msgit_http_req *req;
	struct msgit_http_resp *resp;
	uint64_t offset;     /* bytes of the body source read */
	bool src_failed;
	bool overflow;
};

static size_t msgit_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct msgit_xfer *x = ud;
	size_t n = size * nmemb;
	char *nb;

	if (x->resp->len + n > MSGIT_BODY_MAX) {
		x->overflow = true;
		return n; /* keep going, drop the rest */
	}
	nb = realloc(x->resp->body, x->resp->len + n + 1);
	if (nb == NULL)
		return 0;
	memcpy(nb + x->resp->len, ptr, n);
	x->resp->len += n;
	nb[x->resp->len] = '\0';
	x->resp->body = nb;
	return n;
}

static size_t msgit_read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct msgit_xfer *x = ud;
	const struct msgit_http_req *r = x->req;
	size_t cap = size * nmemb;
	uint64_t left = r->src_size - x->offset;
	ssize_t got;

	if (left == 0)
		return 0;
	if (cap > left)
		cap = (size_t)left;
	got = pread(r->src_fd, buf, cap, (off_t)x->offset);
	if (got <= 0) {
		/* a short file: it changed under us */
		x->src_failed = true;
		return CURL_READFUNC_ABORT;
	}
	x->offset += (uint64_t)got;
	if (r->on_sent != NULL)
		r->on_sent((uint64_t)got, r->payload);
	return (size_t)got;
}

static int msgit_xferinfo_cb(void *ud, curl_off_t dt, curl_off_t dn,
			     curl_off_t ut, curl_off_t un)
{
	struct msgit_xfer *x = ud;
	const struct ms_host *h = x->req->host;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return h->cancelled(h) ? 1 : 0;
}

/* --verbose: request and response headers, Authorization masked. */
static int msgit_debug_cb(CURL *c, curl_infotype type, char *data,
			  size_t size, void *ud)
{
	struct msgit_xfer *x = ud;
	const struct ms_host *h = x->req->host;
	const char *dir;
	size_t i = 0, j;

	(void)c;
	if (type == CURLINFO_HEADER_OUT)
		dir = "> ";
	else if (type == CURLINFO_HEADER_IN)
		dir = "< ";
	else if (type == CURLINFO_TEXT)
		dir = "* ";
	else
		return 0;
	while (i < size) {
		j = i;
		while (j < size && data[j] != '\n' && data[j] != '\r')
			j++;
		if (j > i) {
			if (j - i > 14 &&
			    (strncasecmp(data + i, "authorization:", 14) == 0))
				h->log(h, MS_LOG_VERBOSE, "%sAuthorization: ***",
				       dir);
			else if (j - i > 7 &&
				 strncasecmp(data + i, "cookie:", 7) == 0)
				h->log(h, MS_LOG_VERBOSE, "%sCookie: ***", dir);
			else
				h->log(h, MS_LOG_VERBOSE, "%s%.*s", dir,
				       (int)(j - i), data + i);
		}
		i = j + 1;
	}
	return 0;
}

void msgit_http_resp_clear(struct msgit_http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* One attempt.  MS_OK when an HTTP answer arrived (any status). */
static int msgit_http_once(CURL *c, const struct msgit_http_req *r,
			   struct msgit_http_resp *resp, char *err,
			   size_t errlen)
{
	struct msgit_xfer x;
	struct curl_slist *hdrs = NULL, *tmp;
	char ebuf[CURL_ERROR_SIZE];
	char line[1024];
	CURLcode cc;
	size_t i;
	int rc = MS_OK;

	if (r->src_fd >= 0 && r->on_restart != NULL)
		r->on_restart(r->payload);
	memset(&x, 0, sizeof(x));
	x.req = r;
	x.resp = resp;
	msgit_http_resp_clear(resp);
	ebuf[0] = '\0';
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mspublish-git/" MS_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, msgit_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, msgit_xferinfo_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (r->timeout_s > 0) {
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, r->timeout_s);
		/* a stalled transfer, not a slow one, is a timeout */
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, r->timeout_s);
	}
	if (r->verbose) {
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, msgit_debug_cb);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, &x);
	}
	if (r->basic_token != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, "oauth2");
		curl_easy_setopt(c, CURLOPT_PASSWORD, r->basic_token);
	}
	if (r->bearer_token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s",
			 r->bearer_token);
		tmp = curl_slist_append(hdrs, line);
		if (tmp == NULL)
			goto nomem;
		hdrs = tmp;
		curl_easy_setopt(c, CURLOPT_COOKIE, NULL);
		snprintf(line, sizeof(line), "m_session_id=%s",
			 r->bearer_token);
		curl_easy_setopt(c, CURLOPT_COOKIE, line);
	}
	for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++) {
		tmp = curl_slist_append(hdrs, r->headers[i]);
		if (tmp == NULL)
			goto nomem;
		hdrs = tmp;
	}
	if (r->src_fd >= 0) {
		/* streamed PUT with an exact Content-Length */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, msgit_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)r->src_size);
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE,
				 (long)MSGIT_PUT_BUF);
		tmp = curl_slist_append(hdrs, "Expect:");
		if (tmp == NULL)
			goto nomem;
		hdrs = tmp;
	} else if (r->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(r->body));
	}
	if (r->method != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(c);
	/* the cookie line held the token: wipe it */
	explicit_bzero(line, sizeof(line));
	if (x.src_failed) {
		snprintf(err, errlen, "the file changed while it was sent");
		rc = MS_ECHANGED;
		goto out;
	}
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(err, errlen, "cancelled");
		rc = MS_ECANCELED;
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", ebuf[0] ? ebuf :
			 curl_easy_strerror(cc));
		rc = MS_ENET;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (r->src_fd >= 0 && x.offset != r->src_size) {
		snprintf(err, errlen, "sent %llu of %llu bytes",
			 (unsigned long long)x.offset,
			 (unsigned long long)r->src_size);
		rc = MS_ENET;
		goto out;
	}
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = MS_ENOMEM;
out:
	explicit_bzero(line, sizeof(line));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_COOKIE, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/* Sleep for @p ms, waking every 100 ms to honour Ctrl-C. */
int msgit_sleep_ms(const struct ms_host *h, unsigned ms)
{
	struct timespec ts;

	while (ms > 0) {
		unsigned step = ms < 100 ? ms : 100;

		if (h->cancelled(h))
			return MS_ECANCELED;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return MS_OK;
}

unsigned msgit_backoff_ms(unsigned attempt)
{
	unsigned ms = 500u;

	while (attempt-- > 0 && ms < 8000u)
		ms *= 2;
	if (ms > 8000u)
		ms = 8000u;
	/* jitter: +-25 % */
	return ms - ms / 4 + (unsigned)(rand() % (int)(ms / 2 + 1));
}

int msgit_http_request(CURL *c, const struct msgit_http_req *r,
		       struct msgit_http_resp *resp, char *err, size_t errlen)
{
	const struct ms_host *h = r->host;
	unsigned attempt = 0;
	int rc;

	for (;;) {
		err[0] = '\0';
		rc = msgit_http_once(c, r, resp, err, errlen);
		if (rc == MS_OK && resp->status < 500 && resp->status != 429 &&
		    resp->status != 408)
			return MS_OK;
		if (rc != MS_OK && rc != MS_ENET)
			return rc;
		if (rc == MS_OK)
			snprintf(err, errlen, "HTTP %ld", resp->status);
		if (r->no_retry || attempt >= r->retries)
			return rc == MS_OK ? MS_OK : MS_ENET;
		h->log(h, MS_LOG_WARN, "%s: %s; retrying (%u of %u)", r->what,
		       err, attempt + 1, r->retries);
		rc = msgit_sleep_ms(h, msgit_backoff_ms(attempt));
		if (rc != MS_OK)
			return rc;
		attempt++;
	}
}

/* The hub's error text: LFS "message", legacy "Message", or the body. */
void msgit_http_message(const struct msgit_http_resp *resp, char *out,
			size_t outlen)
{
	cJSON *j;
	const cJSON *m = NULL;
	static const char *const keys[] = {"message", "Message", "msg",
					   "error", "Error", NULL};
	size_t i, n;

	out[0] = '\0';
	if (resp->body == NULL)
		return;
	j = cJSON_Parse(resp->body);
	for (i = 0; j != NULL && keys[i] != NULL; i++) {
		m = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		if (cJSON_IsString(m) && m->valuestring[0] != '\0')
			break;
		m = NULL;
	}
	if (m != NULL) {
		snprintf(out, outlen, "%s", m->valuestring);
	} else {
		n = strcspn(resp->body, "\r\n");
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, resp->body, n);
		out[n] = '\0';
	}
	cJSON_Delete(j);
}

void msgit_http_defaults(const struct msgit_target *t,
			 struct msgit_http_req *r, const char *what)
{
	r->host = t->host;
	r->what = what;
	r->src_fd = -1;
	r->retries = t->retries;
	r->timeout_s = t->timeout_s;
	r->verbose = t->verbose;
}

const char *msgit_token(const struct msgit_target *t)
{
	return t->tokens[t->token_used > 0 ? t->token_used : 0];
}
