/* SPDX-License-Identifier: MIT */
/* libcurl requests with retries, credentials policy, envelope decoding. */
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "ms_config.h"

#define NET_BODY_MAX (64u << 20)
#define NET_POOL_MAX 32
#define NET_PUT_BUF (256u << 10)
#define NET_BACKOFF_BASE_MS 500u
#define NET_BACKOFF_CAP_MS 30000u
#define NET_RETRY_AFTER_CAP_MS 60000u

/* A pooled easy handle and the socket it made last (for quick ACKs). */
struct net_handle {
	CURL *c;
	curl_socket_t fd;
};

struct msnet {
	const struct ms_host *host;
	char *endpoint;
	char *token;
	char *auth_header;  /* "Authorization: Bearer <token>" or NULL */
	char *cookie;       /* "m_session_id=<token>" or NULL */
	char *scheme;
	char *hostname;
	char *port;
	char user_agent[128];
	unsigned retries;
	unsigned timeout_s;
	pthread_mutex_t lock;
	struct net_handle *pool[NET_POOL_MAX];
	unsigned n_pool;
	atomic_uint_fast64_t n_requests;
	atomic_uint_fast64_t n_retries;
};

/* State of one attempt, shared with the curl callbacks. */
struct net_xfer {
	struct msnet *n;
	const struct msnet_req *req;
	char *body;
	size_t len, cap;
	bool truncated;
	char hdr_request_id[128];
	long retry_after_ms;
	bool src_aborted;
	bool stalled;          /* no byte moved for timeout_s seconds */
	bool aborted;          /* req->abort said so */
	curl_off_t *ul_reported; /* body bytes given to on_sent, all attempts */
	curl_off_t seen_ul, seen_dl;
	double last_move;
	struct net_handle *hd;
};

static double net_now(void);
static void net_handle_free(struct net_handle *hd);

static pthread_once_t net_once = PTHREAD_ONCE_INIT;
static CURLcode net_global_rc = CURLE_OK;

static void net_global_init(void)
{
	net_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *net_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void net_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Split a URL into lower-cased scheme, host and port (default filled). */
static int net_origin(const char *url, char **scheme, char **host,
		      char **port)
{
	CURLU *u;
	int rc = MS_EINVAL;

	*scheme = NULL;
	*host = NULL;
	*port = NULL;
	u = curl_url();
	if (u == NULL)
		return MS_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto out;
	rc = MS_OK;
out:
	if (rc != MS_OK) {
		curl_free(*scheme);
		curl_free(*host);
		curl_free(*port);
		*scheme = NULL;
		*host = NULL;
		*port = NULL;
	}
	curl_url_cleanup(u);
	return rc;
}

int msnet_new(struct msnet **out, const struct msnet_opts *opts)
{
	const struct ms_host *h = opts->host;
	struct msnet *n = NULL;
	char *sc = NULL, *ho = NULL, *po = NULL;
	size_t len;
	int rc;

	*out = NULL;
	pthread_once(&net_once, net_global_init);
	if (net_global_rc != CURLE_OK)
		return h->error(h, MS_ERROR, "cannot initialise libcurl: %s",
				curl_easy_strerror(net_global_rc));
	if (opts->endpoint == NULL || opts->endpoint[0] == '\0')
		return h->error(h, MS_EINVAL, "no endpoint configured");
	rc = net_origin(opts->endpoint, &sc, &ho, &po);
	if (rc != MS_OK)
		return h->error(h, rc, "invalid endpoint \"%s\": not a URL",
				opts->endpoint);
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	n->host = h;
	n->scheme = strdup(sc);
	n->hostname = strdup(ho);
	n->port = strdup(po);
	n->endpoint = strdup(opts->endpoint);
	if (n->scheme == NULL || n->hostname == NULL || n->port == NULL ||
	    n->endpoint == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	len = strlen(n->endpoint);
	while (len > 0 && n->endpoint[len - 1] == '/')
		n->endpoint[--len] = '\0';
	if (opts->token != NULL && opts->token[0] != '\0') {
		h->add_secret(h, opts->token);
		n->token = net_strdup(opts->token);
		/* asprintf leaves its pointer undefined on failure: each one
		 * is cleared on its own, so the out: path wipes what exists */
		if (n->token != NULL &&
		    asprintf(&n->auth_header, "Authorization: Bearer %s",
			     opts->token) < 0)
			n->auth_header = NULL;
		if (n->auth_header != NULL &&
		    asprintf(&n->cookie, "m_session_id=%s", opts->token) < 0)
			n->cookie = NULL;
		if (n->cookie == NULL) {
			rc = h->error(h, MS_ENOMEM, "out of memory");
			goto out;
		}
	}
	n->retries = opts->retries;
	n->timeout_s = opts->timeout_s ? opts->timeout_s : 60;
	snprintf(n->user_agent, sizeof(n->user_agent), "mspublish/%s (%s)",
		 MS_VERSION, opts->tag ? opts->tag : "net");
	pthread_mutex_init(&n->lock, NULL);
	*out = n;
	n = NULL;
	rc = MS_OK;
out:
	curl_free(sc);
	curl_free(ho);
	curl_free(po);
	if (n != NULL) {
		free(n->scheme);
		free(n->hostname);
		free(n->port);
		free(n->endpoint);
		net_wipe_free(n->token);
		net_wipe_free(n->auth_header);
		net_wipe_free(n->cookie);
		free(n);
	}
	return rc;
}

void msnet_free(struct msnet *n)
{
	unsigned i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n_pool; i++)
		net_handle_free(n->pool[i]);
	pthread_mutex_destroy(&n->lock);
	free(n->scheme);
	free(n->hostname);
	free(n->port);
	free(n->endpoint);
	net_wipe_free(n->token);
	net_wipe_free(n->auth_header);
	net_wipe_free(n->cookie);
	free(n);
}

const char *msnet_endpoint(const struct msnet *n)
{
	return n->endpoint;
}

const struct ms_host *msnet_host(const struct msnet *n)
{
	return n->host;
}

void msnet_stats(const struct msnet *n, struct msnet_stats *out)
{
	out->requests = atomic_load(&((struct msnet *)n)->n_requests);
	out->retries = atomic_load(&((struct msnet *)n)->n_retries);
}

bool msnet_same_origin(const struct msnet *n, const char *url)
{
	char *sc = NULL, *ho = NULL, *po = NULL;
	bool same = false;

	if (net_origin(url, &sc, &ho, &po) != MS_OK)
		return false;
	same = strcasecmp(sc, n->scheme) == 0 &&
	       strcasecmp(ho, n->hostname) == 0 && strcmp(po, n->port) == 0;
	curl_free(sc);
	curl_free(ho);
	curl_free(po);
	return same;
}

char *msnet_url(const struct msnet *n, const char *fmt, ...)
{
	char *path = NULL, *url = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (r < 0)
		return NULL;
	if (asprintf(&url, "%s%s", n->endpoint, path) < 0)
		url = NULL;
	free(path);
	return url;
}

char *msnet_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s), i, o = 0;
	char *out = malloc(len * 3 + 1);

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static unsigned config_parse_uint(const char *v, unsigned def)
{
	char *end = NULL;
	unsigned long x;

	if (v == NULL || v[0] == '\0')
		return def;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x > 1000000ul)
		return def;
	return (unsigned)x;
}

unsigned msnet_config_uint(const struct ms_host *h, const char *key,
			   unsigned def)
{
	return config_parse_uint(h->config_get(h, key), def);
}

bool msnet_config_bool(const struct ms_host *h, const char *key, bool def)
{
	const char *v = h->config_get(h, key);

	if (v == NULL || v[0] == '\0')
		return def;
	if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0)
		return true;
	if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcasecmp(v, "no") == 0 || strcasecmp(v, "off") == 0)
		return false;
	return def;
}

/* --- handle pool --- */

static void net_handle_free(struct net_handle *hd)
{
	if (hd == NULL)
		return;
	curl_easy_cleanup(hd->c);
	free(hd);
}

static struct net_handle *net_handle_get(struct msnet *n)
{
	struct net_handle *hd = NULL;

	pthread_mutex_lock(&n->lock);
	if (n->n_pool > 0)
		hd = n->pool[--n->n_pool];
	pthread_mutex_unlock(&n->lock);
	if (hd != NULL) {
		curl_easy_reset(hd->c);
		return hd;
	}
	hd = calloc(1, sizeof(*hd));
	if (hd == NULL)
		return NULL;
	hd->fd = CURL_SOCKET_BAD;
	hd->c = curl_easy_init();
	if (hd->c == NULL) {
		free(hd);
		return NULL;
	}
	return hd;
}

static void net_handle_put(struct msnet *n, struct net_handle *hd)
{
	if (hd == NULL)
		return;
	pthread_mutex_lock(&n->lock);
	if (n->n_pool < NET_POOL_MAX) {
		n->pool[n->n_pool++] = hd;
		hd = NULL;
	}
	pthread_mutex_unlock(&n->lock);
	net_handle_free(hd);
}

static int net_sockopt_cb(void *clientp, curl_socket_t fd,
			  curlsocktype purpose)
{
	struct net_handle *hd = clientp;

	(void)purpose;
	hd->fd = fd;
	return CURL_SOCKOPT_OK;
}

static int net_closesocket_cb(void *clientp, curl_socket_t fd)
{
	struct net_handle *hd = clientp;

	if (hd->fd == fd)
		hd->fd = CURL_SOCKET_BAD;
	return close(fd);
}

/* --- response decoding (protocol doc 0.1) --- */

void msnet_response_clear(struct msnet_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	cJSON_Delete(resp->json);
	memset(resp, 0, sizeof(*resp));
}

static const char *json_first_string(const cJSON *obj,
				     const char *const *keys)
{
	const cJSON *it;
	size_t i;

	if (!cJSON_IsObject(obj))
		return NULL;
	for (i = 0; keys[i] != NULL; i++) {
		it = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);
		if (cJSON_IsString(it) && it->valuestring[0] != '\0')
			return it->valuestring;
	}
	return NULL;
}

static void net_decode(struct msnet_response *r, const char *hdr_id)
{
	static const char *const msg_keys[] = {
		"message", "Message", "msg", "Msg", "error", "Error",
		"detail", "Detail", NULL
	};
	static const char *const id_keys[] = {
		"request_id", "requestId", "RequestId", NULL
	};
	const char *s;
	const cJSON *d;
	size_t i;

	r->json = NULL;
	r->data = NULL;
	r->message[0] = '\0';
	r->request_id[0] = '\0';
	if (r->body != NULL && r->body_len > 0)
		r->json = cJSON_ParseWithLength(r->body, r->body_len);
	if (r->json != NULL) {
		d = cJSON_GetObjectItemCaseSensitive(r->json, "Data");
		if (d == NULL)
			d = cJSON_GetObjectItemCaseSensitive(r->json, "data");
		r->data = d != NULL ? d : r->json;
		s = json_first_string(r->json, msg_keys);
		if (s != NULL)
			snprintf(r->message, sizeof(r->message), "%s", s);
		s = json_first_string(r->json, id_keys);
		if (s != NULL)
			snprintf(r->request_id, sizeof(r->request_id), "%s",
				 s);
	} else if (r->body != NULL) {
		for (i = 0; i < r->body_len && i + 1 < sizeof(r->message);
		     i++) {
			if (r->body[i] == '\n' || r->body[i] == '\r')
				break;
			r->message[i] = r->body[i];
		}
		r->message[i] = '\0';
	}
	if (r->request_id[0] == '\0' && hdr_id != NULL)
		snprintf(r->request_id, sizeof(r->request_id), "%s", hdr_id);
}

bool msnet_already_exists(const struct msnet_response *resp)
{
	static const char *const codes[] = {
		"10010101001", "10020101001", "10010202004", NULL
	};
	static const char *const words[] = {
		"exist", "already", "can not be used", "not available",
		"已被注册", "已存在", "名称不可用", NULL
	};
	const cJSON *code;
	char buf[32] = "";
	size_t i;

	if (resp->status != 400 && resp->status != 405)
		return false;
	code = resp->json ?
		cJSON_GetObjectItemCaseSensitive(resp->json, "Code") : NULL;
	if (cJSON_IsNumber(code))
		snprintf(buf, sizeof(buf), "%.0f", code->valuedouble);
	else if (cJSON_IsString(code))
		snprintf(buf, sizeof(buf), "%s", code->valuestring);
	for (i = 0; codes[i] != NULL; i++)
		if (strcmp(buf, codes[i]) == 0)
			return true;
	for (i = 0; words[i] != NULL; i++)
		if (strstr(resp->message, words[i]) != NULL)
			return true;
	return false;
}

/* Protocol doc 4.7: JSON Code absent, 200 or "200". */
static bool net_blob_code_ok(const struct msnet_response *r)
{
	const cJSON *code;

	if (!cJSON_IsObject(r->json))
		return true;
	code = cJSON_GetObjectItemCaseSensitive(r->json, "Code");
	if (code == NULL)
		return true;
	if (cJSON_IsNumber(code))
		return code->valuedouble == 200;
	if (cJSON_IsString(code))
		return strcmp(code->valuestring, "200") == 0;
	return false;
}

static bool net_refs_message(const char *m)
{
	return strstr(m, "Could not update refs") != NULL ||
	       strstr(m, "try again") != NULL;
}

int msnet_check(struct msnet *n, const struct msnet_req *req,
		const struct msnet_response *resp)
{
	const struct ms_host *h = n->host;
	const char *what = req->what ? req->what : req->method;
	const char *hint = "";
	char rid[160] = "";
	int code;

	if (resp->status >= 200 && resp->status < 400) {
		if (!(req->flags & MSNET_BLOB) || net_blob_code_ok(resp))
			return MS_OK;
		code = MS_EPROTO;
	} else if (resp->status == 401 || resp->status == 403) {
		code = MS_EAUTH;
		hint = n->token == NULL ?
			" (no token: pass --token or set "
			"MODELSCOPE_API_TOKEN)" :
			" (check the token: --token or MODELSCOPE_API_TOKEN;"
			" it needs write access to the repository)";
	} else if (resp->status == 404) {
		code = MS_ENOTFOUND;
	} else if (resp->status == 429 || resp->status >= 500) {
		code = MS_ENET;
	} else {
		code = MS_EPROTO;
	}
	if (resp->request_id[0] != '\0')
		snprintf(rid, sizeof(rid), " (request id %s)",
			 resp->request_id);
	return h->error(h, code, "%s: HTTP %ld: %s%s%s", what, resp->status,
			resp->message[0] ? resp->message : "(no message)", rid,
			hint);
}

/* --- curl callbacks --- */

static size_t net_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct net_xfer *x = ud;
	size_t len = size * nmemb, want;
	char *nb;

	if (x->truncated || len == 0)
		return len;
	if (x->len + len > NET_BODY_MAX) {
		x->truncated = true;
		return len;
	}
	if (x->len + len + 1 > x->cap) {
		want = x->cap ? x->cap * 2 : 4096;
		while (want < x->len + len + 1)
			want *= 2;
		nb = realloc(x->body, want);
		if (nb == NULL)
			return 0;
		x->body = nb;
		x->cap = want;
	}
	memcpy(x->body + x->len, ptr, len);
	x->len += len;
	x->body[x->len] = '\0';
	return len;
}

static void net_trim_copy(char *dst, size_t cap, const char *src, size_t n)
{
	while (n > 0 && (*src == ' ' || *src == '\t')) {
		src++;
		n--;
	}
	while (n > 0 && (src[n - 1] == '\r' || src[n - 1] == '\n' ||
			 src[n - 1] == ' '))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static size_t net_header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct net_xfer *x = ud;
	size_t len = size * nitems;
	char tmp[64];
	char *end;
	long v;

	if (len > 13 && strncasecmp(buf, "X-Request-ID:", 13) == 0) {
		net_trim_copy(x->hdr_request_id, sizeof(x->hdr_request_id),
			      buf + 13, len - 13);
	} else if (len > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		net_trim_copy(tmp, sizeof(tmp), buf + 12, len - 12);
		v = strtol(tmp, &end, 10);
		if (end != tmp && *end == '\0' && v >= 0)
			x->retry_after_ms = v > 3600 ? 3600000 : v * 1000;
	}
	return len;
}

static size_t net_read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct net_xfer *x = ud;
	const struct msnet_source *src = x->req->src;
	size_t r;

	r = src->read(buf, size * nitems, src->payload);
	if (r == (size_t)-1) {
		x->src_aborted = true;
		return CURL_READFUNC_ABORT;
	}
	return r;
}

/*
 * The request is out and the answer not in: ask the kernel to ACK at once.
 * Servers that write the status line and the body in two segments (Python's
 * http.server, the fake hub) otherwise wait ~40 ms per answer on a reused
 * connection for our delayed ACK (Nagle on their side).  Linux only; a
 * no-op elsewhere.
 */
static void net_quickack(struct net_xfer *x)
{
#ifdef TCP_QUICKACK
	int one = 1;

	/* the handle's newest socket: this transfer's in practice */
	if (x->hd->fd != CURL_SOCKET_BAD)
		setsockopt(x->hd->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
			   sizeof(one));
#else
	(void)x;
#endif
}

static int net_xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
			   curl_off_t ultotal, curl_off_t ulnow)
{
	struct net_xfer *x = ud;
	const struct ms_host *h = x->n->host;
	double now = net_now();

	(void)dltotal;
	if (ulnow != x->seen_ul || dlnow != x->seen_dl) {
		x->seen_ul = ulnow;
		x->seen_dl = dlnow;
		x->last_move = now;
	} else if (now - x->last_move > (double)x->n->timeout_s) {
		/* connected, but nothing moved either way: a stall */
		x->stalled = true;
		return 1;
	}
	/* each body byte counts once: a retry resends what an earlier
	 * attempt reported already, which is no progress */
	if (x->req->on_sent != NULL && ulnow > *x->ul_reported) {
		x->req->on_sent((uint64_t)(ulnow - *x->ul_reported),
				x->req->payload);
		*x->ul_reported = ulnow;
	}
	if (ulnow >= ultotal && dlnow == 0)
		net_quickack(x);
	if (h->cancelled(h))
		return 1;
	if (x->req->abort != NULL && x->req->abort(x->req->payload)) {
		x->aborted = true;
		return 1;
	}
	return 0;
}

static void net_request_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		for (i = 0; i < sizeof(raw); i++)
			raw[i] = (unsigned char)(rand() & 0xff);
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

static double net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One attempt.  Returns the CURLcode; fills resp and x. */
static CURLcode net_perform(struct msnet *n, const struct msnet_req *req,
			    struct net_xfer *x, struct msnet_response *resp,
			    curl_off_t *ul_reported)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char idh[64], rid[33], ctype[160];
	bool creds = false;
	size_t i;
	CURLcode cc = CURLE_OUT_OF_MEMORY;
	struct net_handle *hd;
	CURL *c;
	long status = 0;
	double t0 = net_now();

	memset(x, 0, sizeof(*x));
	x->ul_reported = ul_reported;
	x->retry_after_ms = -1;
	x->last_move = t0;
	x->n = n;
	x->req = req;
	hd = net_handle_get(n);
	if (hd == NULL)
		return CURLE_OUT_OF_MEMORY;
	c = hd->c;
	x->hd = hd;
	net_request_id(rid);
	snprintf(idh, sizeof(idh), "X-Request-ID: %s", rid);

#define NET_ADD(s)                                                  \
	do {                                                        \
		tmp = curl_slist_append(hdrs, (s));                 \
		if (tmp == NULL)                                    \
			goto out;                                   \
		hdrs = tmp;                                         \
	} while (0)

	NET_ADD(idh);
	NET_ADD("Expect:");
	if (req->content_type != NULL &&
	    (req->json_body != NULL || req->src != NULL)) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 req->content_type);
		NET_ADD(ctype);
	} else if (req->json_body != NULL) {
		NET_ADD("Content-Type: application/json");
	} else if (req->src != NULL) {
		NET_ADD("Content-Type:");
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		NET_ADD(req->headers[i]);
	if (n->auth_header != NULL && msnet_same_origin(n, req->url)) {
		bool own = false;

		/* the caller's Authorization (an href's header) wins */
		for (i = 0; req->headers != NULL && req->headers[i] != NULL;
		     i++)
			if (strncasecmp(req->headers[i], "Authorization:",
					14) == 0)
				own = true;
		creds = true;
		if (!own)
			NET_ADD(n->auth_header);
	}
#undef NET_ADD

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, n->user_agent);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)n->timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, net_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, net_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, net_xferinfo_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, net_sockopt_cb);
	curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, hd);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, net_closesocket_cb);
	curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, hd);
	if (creds)
		curl_easy_setopt(c, CURLOPT_COOKIE, n->cookie);
	if (req->src != NULL) {
		curl_easy_setopt(c, CURLOPT_READFUNCTION, net_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		if (strcmp(req->method, "PUT") == 0) {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
					 (curl_off_t)req->src->size);
		} else {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)req->src->size);
			if (strcmp(req->method, "POST") != 0)
				curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
						 req->method);
		}
	} else if (req->json_body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->json_body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(req->json_body));
		if (strcmp(req->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
					 req->method);
	} else if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}

	atomic_fetch_add(&n->n_requests, 1);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	resp->status = cc == CURLE_OK ? status : 0;
	resp->body = x->body;
	resp->body_len = x->len;
	x->body = NULL;
	net_decode(resp, x->hdr_request_id[0] ? x->hdr_request_id : NULL);
	if (cc == CURLE_OK)
		n->host->log(n->host, MS_LOG_VERBOSE,
			     "HTTP %s %s -> %ld (request id %s, %.3f s)",
			     req->method, req->url, status,
			     resp->request_id[0] ? resp->request_id : rid,
			     net_now() - t0);
	else
		n->host->log(n->host, MS_LOG_VERBOSE,
			     "HTTP %s %s -> %s (request id %s, %.3f s)",
			     req->method, req->url, curl_easy_strerror(cc),
			     rid, net_now() - t0);
	if (cc == CURLE_OK && status >= 400 && resp->body_len > 0)
		n->host->log(n->host, MS_LOG_VERBOSE, "  response: %.300s",
			     resp->body);
out:
	curl_slist_free_all(hdrs);
	/* Never keep a handle whose last transfer failed mid-way. */
	if (cc == CURLE_OK)
		net_handle_put(n, hd);
	else
		net_handle_free(hd);
	return cc;
}

/* Sleep @p ms in slices, returning false when cancelled or aborted. */
bool msnet_sleep_ms(const struct ms_host *h, unsigned long ms,
		    bool (*abort)(void *payload), void *payload)
{
	struct timespec ts;
	unsigned long step;

	while (ms > 0) {
		if (h->cancelled(h))
			return false;
		if (abort != NULL && abort(payload))
			return false;
		step = ms > 100 ? 100 : ms;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !h->cancelled(h);
}

unsigned long msnet_backoff_ms(unsigned attempt, unsigned long cap_ms)
{
	unsigned long base = NET_BACKOFF_BASE_MS, jit;
	unsigned char r[2] = { 0, 0 };

	while (attempt-- > 1 && base < cap_ms)
		base *= 2;
	if (base > cap_ms)
		base = cap_ms;
	if (RAND_bytes(r, 2) != 1)
		r[0] = r[1] = 0x80;
	/* jitter in [-25 %, +25 %) */
	jit = (unsigned long)((r[0] << 8) | r[1]) * (base / 2) / 65536u;
	return base - base / 4 + jit;
}

static unsigned long net_backoff_ms(unsigned attempt, long retry_after_ms)
{
	if (retry_after_ms >= 0)
		return retry_after_ms > (long)NET_RETRY_AFTER_CAP_MS ?
			NET_RETRY_AFTER_CAP_MS : (unsigned long)retry_after_ms;
	return msnet_backoff_ms(attempt, NET_BACKOFF_CAP_MS);
}

int msnet_request(struct msnet *n, const struct msnet_req *req,
		  struct msnet_response *resp)
{
	const struct ms_host *h = n->host;
	const char *what = req->what ? req->what : req->method;
	unsigned max = n->retries;
	unsigned attempt;
	char why[800];
	struct net_xfer x;
	unsigned long wait;
	curl_off_t ul_reported = 0;
	CURLcode cc;
	int rc;

	memset(resp, 0, sizeof(*resp));
	for (attempt = 0;; attempt++) {
		if (req->abort != NULL && req->abort(req->payload) &&
		    !h->cancelled(h))
			return MS_ECANCELED; /* the caller's reason stands */
		if (h->cancelled(h))
			return h->error(h, MS_ECANCELED, "%s: cancelled",
					what);
		if (attempt > 0 && req->src != NULL &&
		    req->src->rewind != NULL) {
			rc = req->src->rewind(req->src->payload);
			if (rc != MS_OK)
				return rc;
		}
		msnet_response_clear(resp);
		cc = net_perform(n, req, &x, resp, &ul_reported);
		free(x.body);
		if (x.src_aborted)
			return MS_EIO;
		if (x.aborted && !h->cancelled(h))
			return MS_ECANCELED; /* the caller's reason stands */
		if (h->cancelled(h) ||
		    (cc == CURLE_ABORTED_BY_CALLBACK && !x.stalled))
			return h->error(h, MS_ECANCELED, "%s: cancelled",
					what);
		if (cc == CURLE_OUT_OF_MEMORY)
			return h->error(h, MS_ENOMEM, "%s: out of memory",
					what);
		if (cc != CURLE_OK && x.stalled) {
			resp->retryable = true;
			snprintf(why, sizeof(why),
				 "timed out: nothing moved for %u s",
				 n->timeout_s);
		} else if (cc != CURLE_OK) {
			resp->retryable = true;
			snprintf(why, sizeof(why), "%s",
				 curl_easy_strerror(cc));
		} else {
			resp->retryable =
				((req->flags & MSNET_JSON) &&
				 resp->status >= 200 && resp->status < 300 &&
				 resp->json == NULL) ||
				resp->status == 429 || resp->status >= 500 ||
				((req->flags & MSNET_RETRY_REFS) &&
				 (resp->status == 409 ||
				  (resp->status >= 400 &&
				   net_refs_message(resp->message))));
			snprintf(why, sizeof(why), "HTTP %ld: %s%s%s%s",
				 resp->status,
				 resp->message[0] ? resp->message :
						    "(no message)",
				 resp->request_id[0] ? " (request id " : "",
				 resp->request_id,
				 resp->request_id[0] ? ")" : "");
		}
		if (!resp->retryable)
			return MS_OK;
		if (attempt >= max)
			break;
		wait = net_backoff_ms(attempt + 1, cc == CURLE_OK ?
						   x.retry_after_ms : -1);
		h->log(h, MS_LOG_INFO,
		       "%s: %s; retrying in %.1f s (attempt %u of %u)", what,
		       why, (double)wait / 1000.0, attempt + 2, max + 1);
		atomic_fetch_add(&n->n_retries, 1);
		if (!msnet_sleep_ms(h, wait, req->abort, req->payload)) {
			if (!h->cancelled(h))
				return MS_ECANCELED; /* aborted */
			return h->error(h, MS_ECANCELED, "%s: cancelled",
					what);
		}
	}
	return h->error(h, MS_ENET, "%s: %s (gave up after %u attempt%s)",
			what, why, attempt + 1, attempt ? "s" : "");
}

/* --- streamed blob PUT --- */

struct net_fd_src {
	int fd;
	uint64_t size;
	uint64_t off;
	bool short_read;
	int err;
};

static size_t net_fd_read(char *buf, size_t cap, void *payload)
{
	struct net_fd_src *s = payload;
	uint64_t left = s->size - s->off;
	size_t want = cap;
	ssize_t r;

	if (left == 0) {
		/* the file must end here: probe one byte */
		r = pread(s->fd, buf, 1, (off_t)s->off);
		if (r > 0) {
			s->short_read = true;
			return (size_t)-1;
		}
		return 0;
	}
	if (want > left)
		want = (size_t)left;
	if (want > NET_PUT_BUF)
		want = NET_PUT_BUF;
	do {
		r = pread(s->fd, buf, want, (off_t)s->off);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		s->err = errno;
		return (size_t)-1;
	}
	if (r == 0) {
		s->short_read = true;
		return (size_t)-1;
	}
	s->off += (uint64_t)r;
	return (size_t)r;
}

static int net_fd_rewind(void *payload)
{
	struct net_fd_src *s = payload;

	s->off = 0;
	return MS_OK;
}

int msnet_put_file(struct msnet *n, const struct msnet_put *put, int fd,
		   uint64_t size)
{
	const struct ms_host *h = n->host;
	const char *name = put->name;
	struct net_fd_src s = { .fd = fd, .size = size };
	struct msnet_source src = {
		.size = size,
		.read = net_fd_read,
		.rewind = net_fd_rewind,
		.payload = &s,
	};
	struct msnet_req req = {
		.method = "PUT",
		.url = put->href,
		.src = &src,
		.content_type = put->content_type,
		.headers = put->headers,
		.flags = put->flags,
		.on_sent = put->on_sent,
		.abort = put->abort,
		.payload = put->payload,
	};
	struct msnet_response resp;
	char what[600];
	int rc;

	if (put->what != NULL)
		req.what = put->what;
	else {
		snprintf(what, sizeof(what), "upload of \"%s\"", name);
		req.what = what;
	}
	rc = msnet_request(n, &req, &resp);
	if (rc == MS_EIO) {
		if (s.err != 0)
			rc = h->error(h, MS_EIO, "cannot read \"%s\": %s",
				      name, strerror(s.err));
		else
			rc = h->error(h, MS_ECHANGED,
				      "\"%s\" changed while uploading (its "
				      "size is no longer %llu bytes); "
				      "nothing was committed, run again",
				      name, (unsigned long long)size);
		goto out;
	}
	if (rc != MS_OK)
		goto out;
	/* the answer first: a server that refuses a PUT may answer before
	 * it has read the body, and curl then stops sending */
	rc = msnet_check(n, &req, &resp);
	if (rc == MS_OK && s.off != size)
		rc = h->error(h, MS_ECHANGED,
			      "\"%s\": sent %llu of %llu bytes; nothing was "
			      "committed", name, (unsigned long long)s.off,
			      (unsigned long long)size);
out:
	msnet_response_clear(&resp);
	return rc;
}
