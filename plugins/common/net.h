/* SPDX-License-Identifier: MIT */
/**
 * @file net.h
 * @brief mscommon: the network code shared by the http and git backends.
 *
 * One struct msnet per backend instance holds the endpoint, the token and
 * the retry policy.  It is thread-safe after msnet_new(): any number of
 * threads may call msnet_request() / msnet_put_file() at once (each call
 * borrows a pooled CURL easy handle, so connections are reused).
 *
 * What every request gets (protocol doc 0.2, 9.3):
 *  - X-Request-ID (fresh 32 hex digits), User-Agent "mspublish/<ver>";
 *  - Authorization: Bearer and Cookie: m_session_id, but only when the URL's
 *    scheme, host and port are the endpoint's.  The token never goes into a
 *    URL and redirects are never followed;
 *  - retries on network errors, timeouts, 5xx and 429 (and, with
 *    MSNET_RETRY_REFS, on 409 and on "Could not update refs" / "try
 *    again" messages): exponential backoff 0.5 s * 2^k (cap 30 s) with
 *    +-25 % jitter, or the server's Retry-After when it says so (cap 60 s);
 *  - cancellation: host->cancelled() is polled during transfers (libcurl
 *    calls back at least once a second) and in backoff sleeps (every
 *    0.1 s); a cancelled call returns MS_ECANCELED;
 *  - with --verbose, one trace line per attempt through host->log:
 *    method, URL, status, request id, time (the host scrubs secrets; the
 *    token never appears in what we format anyway).
 *
 * Errors: functions return MS_OK or a negative enum ms_err.  Transport
 * failures (after the retries) and cancellation set the run's message via
 * host->error.  An HTTP answer, even a 4xx, is a *completed* request:
 * msnet_request() returns MS_OK with the status in the response, and the
 * caller decides, typically with msnet_check().
 *
 * Symbols are hidden (static library linked into each plugin).
 */
#ifndef MSCOMMON_NET_H
#define MSCOMMON_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "mspublish/plugin.h"

/** Settings of msnet_new(); strings are copied. */
struct msnet_opts {
	const struct ms_host *host; /**< logging, errors, cancellation */
	const char *endpoint;       /**< base URL; credentials only go here */
	const char *token;          /**< NULL or "" = no credentials */
	unsigned retries;           /**< extra attempts after the first */
	unsigned timeout_s;         /**< connect timeout and stall limit */
	const char *tag;            /**< User-Agent suffix ("http", "git") */
};

struct msnet;

/** A decoded HTTP answer (protocol doc 0.1).  Free with _clear(). */
struct msnet_response {
	long status;          /**< HTTP status; 0 when none arrived */
	char *body;           /**< NUL-terminated; at most 64 MiB kept */
	size_t body_len;
	cJSON *json;          /**< the parsed body, NULL if not JSON */
	const cJSON *data;    /**< Data / data, else the whole json */
	char message[512];    /**< the hub's Message (or the 1st body line) */
	char request_id[128]; /**< RequestId, else header X-Request-ID */
	bool retryable;       /**< 5xx, 429, or transport failure */
};

/** Body source for streamed uploads (commit bodies, blobs). */
struct msnet_source {
	uint64_t size; /**< exact Content-Length */
	/**
	 * Fill up to @p cap bytes of @p buf; return the count, 0 at the end,
	 * or (size_t)-1 to abort the transfer (the caller keeps the reason
	 * in its payload).
	 */
	size_t (*read)(char *buf, size_t cap, void *payload);
	/** Start over (before a retry).  Return MS_OK or an ms_err. */
	int (*rewind)(void *payload);
	void *payload;
};

/** One request.  Zero-initialise, then fill what you need. */
struct msnet_req {
	const char *method;        /**< "GET", "POST", "PUT", "DELETE" */
	const char *url;           /**< full URL (build with msnet_url) */
	const char *json_body;     /**< NUL-terminated JSON, or NULL */
	const struct msnet_source *src; /**< streamed body instead */
	/**
	 * Content-Type: NULL = application/json for json_body, none for
	 * src (blob PUTs must not have one).
	 */
	const char *content_type;
	/**
	 * Extra "Name: value" header lines, NULL-terminated, or NULL; sent
	 * to any host.  An "Authorization:" line here replaces ours.
	 */
	const char *const *headers;
	const char *what;          /**< "commit to alice/demo": messages */
	unsigned flags;            /**< MSNET_* below */
	/**
	 * Body bytes newly sent (progress), each byte once over all
	 * attempts; may be NULL.
	 */
	void (*on_sent)(uint64_t delta, void *payload);
	/**
	 * Polled during the transfer; true stops it and the call returns
	 * MS_ECANCELED *without* touching the run's message (a sibling
	 * worker failed and already set it).  May be NULL.
	 */
	bool (*abort)(void *payload);
	void *payload;
};

/** Also retry 409 and "Could not update refs" / "try again" (commits). */
#define MSNET_RETRY_REFS (1u << 0)
#define MSNET_BLOB (1u << 2)       /**< blob PUT: success = 4.7 rule */
/** A 2xx answer must be JSON; a garbled one is retried (idempotent calls). */
#define MSNET_JSON (1u << 3)

/**
 * Make the shared state.  Initialises libcurl once per process.
 * @return MS_OK, MS_ENOMEM or MS_EINVAL (bad endpoint), message set
 */
int msnet_new(struct msnet **out, const struct msnet_opts *opts);
/** NULL-safe; wipes the token copy. */
void msnet_free(struct msnet *n);

/**
 * Perform @p req with retries; on return @p resp holds the last answer.
 * @return MS_OK when an HTTP answer arrived that is not worth retrying
 *         (any status; see resp->status), MS_ENET when the retries ran
 *         out (message set, naming req->what, the status or curl error,
 *         the hub's Message and RequestId), MS_ECANCELED, MS_ENOMEM, or
 *         the code a msnet_source.rewind returned.  When the source's
 *         read aborted, MS_EIO with resp->status 0 (the caller, who knows
 *         why, sets the message).
 */
int msnet_request(struct msnet *n, const struct msnet_req *req,
		  struct msnet_response *resp);

/**
 * Turn a completed answer into a result: MS_OK for 2xx/3xx (for blob
 * requests, also a JSON Code of 200 or none), else the mapped code (401,
 * 403 -> MS_EAUTH; 404 -> MS_ENOTFOUND; other 4xx -> MS_EPROTO; 5xx, 429 ->
 * MS_ENET) with the message set: "<what>: HTTP <status>: <Message>
 * (request id <id>)", plus a hint about the token for 401/403.
 */
int msnet_check(struct msnet *n, const struct msnet_req *req,
		const struct msnet_response *resp);

/** Free what the response holds and zero it; NULL-safe. */
void msnet_response_clear(struct msnet_response *resp);

/** True when the answer says "already exists" (protocol doc 0.1, E3026). */
bool msnet_already_exists(const struct msnet_response *resp);

/** A file PUT: where to, and what goes with it besides the bytes. */
struct msnet_put {
	const char *href;
	const char *name;    /**< the file, as messages name it */
	const char *what;    /**< messages' label; NULL: upload of "name" */
	/** NULL: none (a ModelScope blob PUT must not have one) */
	const char *content_type;
	const char *const *headers; /**< as in struct msnet_req */
	unsigned flags;      /**< MSNET_*; MSNET_BLOB for protocol doc 4.7 */
	void (*on_sent)(uint64_t delta, void *payload);
	bool (*abort)(void *payload);
	void *payload;       /**< on_sent, abort: as in struct msnet_req */
};

/**
 * PUT @p size bytes of the open file @p fd (read with pread from offset 0,
 * fixed 256 KiB buffers) to put->href with Content-Length; credentials only
 * if href is on the endpoint's host.  Fails with MS_ECHANGED (message
 * naming put->name) when the file does not deliver exactly @p size bytes.
 * Retries as msnet_request; a retry's resent bytes are not reported to
 * on_sent again.
 */
int msnet_put_file(struct msnet *n, const struct msnet_put *put, int fd,
		   uint64_t size);

/**
 * Build "<endpoint><path>" with printf-style @p fmt for the path part
 * (e.g. "/api/v1/models/%s"); malloc'd, NULL on allocation failure.
 * Query values must be escaped by the caller with msnet_escape().
 */
char *msnet_url(const struct msnet *n, const char *fmt, ...) MS_PRINTF(2, 3);
/** URL-escape @p s (RFC 3986 unreserved kept); malloc'd or NULL. */
char *msnet_escape(const char *s);

/** True when @p url has the endpoint's scheme, host and port. */
bool msnet_same_origin(const struct msnet *n, const char *url);

/** The endpoint (no trailing slash) and host, for messages. */
const char *msnet_endpoint(const struct msnet *n);
const struct ms_host *msnet_host(const struct msnet *n);

/** Counters, for summaries and benchmarks (thread-safe reads). */
struct msnet_stats {
	uint64_t requests; /**< HTTP attempts made, retries included */
	uint64_t retries;  /**< of which retries */
};
void msnet_stats(const struct msnet *n, struct msnet_stats *out);

/** Read an unsigned setting via host->config_get, else @p def. */
unsigned msnet_config_uint(const struct ms_host *h, const char *key,
			   unsigned def);
/**
 * Wait before retry number @p attempt (1 = the first retry): 0.5 s doubled
 * per attempt, at most @p cap_ms, with +-25 % jitter.
 */
unsigned long msnet_backoff_ms(unsigned attempt, unsigned long cap_ms);
/**
 * Sleep @p ms in 100 ms steps; false as soon as the run is cancelled or
 * @p abort (may be NULL) says so.
 */
bool msnet_sleep_ms(const struct ms_host *h, unsigned long ms,
		    bool (*abort)(void *payload), void *payload);
/** Read a boolean setting ("true"/"false"/"1"/"0"/"yes"/"no"). */
bool msnet_config_bool(const struct ms_host *h, const char *key, bool def);

#endif
