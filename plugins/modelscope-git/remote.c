/* SPDX-License-Identifier: MIT */
/* Talking to the hub's git remote with libgit2: credentials through the
 * callback only, fetch of one branch, fast-forward-only push. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "git.h"
#include "net.h"

const char *msgit_token(const struct msgit_target *t)
{
	return t->tokens[t->token_used > 0 ? t->token_used : 0];
}

char *msgit_basic_header(const char *token)
{
	static const char pre[] = "Authorization: Basic ";
	unsigned char *raw = NULL;
	char *out = NULL;
	size_t n;

	if (token == NULL || *token == '\0')
		return NULL;
	n = strlen(token) + 7;
	raw = malloc(n + 1);
	out = malloc(sizeof(pre) + 4 * ((n + 2) / 3) + 1);
	if (raw == NULL || out == NULL) {
		free(out);
		out = NULL;
		goto out;
	}
	memcpy(raw, "oauth2:", 7);
	memcpy(raw + 7, token, n - 7);
	memcpy(out, pre, sizeof(pre) - 1);
	EVP_EncodeBlock((unsigned char *)out + sizeof(pre) - 1, raw, (int)n);
out:
	if (raw != NULL) {
		explicit_bzero(raw, n);
		free(raw);
	}
	return out;
}

/* libgit2 says "unexpected http status code: N" for HTTP answers. */
static bool msgit_status_is(const char *msg, const char *code)
{
	const char *p = strstr(msg, "status code: ");

	return p != NULL && strncmp(p + 13, code, 3) == 0;
}

int msgit_fail(struct msgit_target *t, int gerr, const char *what)
{
	const struct ms_host *h = t->host;
	const git_error *e = git_error_last();
	const char *msg = e != NULL && e->message != NULL ? e->message :
		"unknown error";
	int code = MS_ERROR;

	if (t->cancelled_flag)
		return h->error(h, MS_ECANCELED, "%s: cancelled", what);
	if (t->auth_failed || gerr == GIT_EAUTH ||
	    msgit_status_is(msg, "401") || msgit_status_is(msg, "403"))
		return h->error(h, MS_EAUTH, "%s: the hub refused the "
				"credentials for %s (%s); check the token "
				"(--token or MODELSCOPE_API_TOKEN) and that it "
				"may write to the repository", what, t->url,
				msg);
	if (msgit_status_is(msg, "404"))
		code = MS_ENOTFOUND;
	else if (e != NULL && (e->klass == GIT_ERROR_NET ||
			       e->klass == GIT_ERROR_HTTP ||
			       e->klass == GIT_ERROR_SSL ||
			       e->klass == GIT_ERROR_OS))
		code = MS_ENET;
	else if (e != NULL && (e->klass == GIT_ERROR_ODB ||
			       e->klass == GIT_ERROR_FILESYSTEM))
		code = MS_EIO;
	return h->error(h, code, "%s: %s", what, msg);
}

static int msgit_cred_cb(git_credential **out, const char *url,
			 const char *user_from_url, unsigned int allowed,
			 void *payload)
{
	struct msgit_target *t = payload;
	int i = t->auth_tries++;

	(void)url;
	(void)user_from_url;
	if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) || i >= 2 ||
	    t->tokens[i] == NULL) {
		t->auth_failed = true;
		git_error_set_str(GIT_ERROR_NET, "authentication failed");
		return GIT_EAUTH;
	}
	t->token_used = i;
	return git_credential_userpass_plaintext_new(out, "oauth2",
						     t->tokens[i]);
}

static int msgit_sideband_cb(const char *str, int len, void *payload)
{
	struct msgit_target *t = payload;
	const struct ms_host *h = t->host;
	int i = 0, j;

	/* the remote's "remote: ..." lines, for --verbose */
	while (i < len) {
		j = i;
		while (j < len && str[j] != '\n' && str[j] != '\r')
			j++;
		if (j > i)
			h->log(h, MS_LOG_VERBOSE, "remote: %.*s", j - i,
			       str + i);
		i = j + 1;
	}
	if (h->cancelled(h)) {
		t->cancelled_flag = true;
		return -1;
	}
	return 0;
}

static int msgit_transfer_cb(const git_indexer_progress *st, void *payload)
{
	struct msgit_target *t = payload;

	if (t->host->cancelled(t->host)) {
		t->cancelled_flag = true;
		return -1;
	}
	(void)st;
	return 0;
}

/* The push refuses to replace a remote tip other than the one we built
 * on, unless forced. */
static int msgit_negotiation_cb(const git_push_update **updates, size_t len,
				void *payload)
{
	struct msgit_target *t = payload;
	size_t i;

	for (i = 0; i < len; i++) {
		if (t->force)
			continue;
		/* already there (a retried push that had landed) */
		if (git_oid_equal(&updates[i]->src, &updates[i]->dst))
			continue;
		if (git_oid_equal(&updates[i]->src, &t->expected_tip))
			continue;
		t->push_rejected = true;
		git_error_set_str(GIT_ERROR_REFERENCE,
				  "the remote branch moved "
				  "since it was fetched");
		return GIT_ENONFASTFORWARD;
	}
	return 0;
}

/* Does the server's reason for refusing a ref update mean that another
 * push landed first (git receive-pack's words)?  Anything else, a hook
 * or a protected branch, is not helped by fetching and pushing again. */
static bool msgit_status_moved(const char *status)
{
	static const char *const moved[] = {
		"non-fast-forward", "fetch first", "stale info",
		"failed to update ref", "failed to lock", NULL,
	};
	size_t i;

	for (i = 0; moved[i] != NULL; i++)
		if (strstr(status, moved[i]) != NULL)
			return true;
	return false;
}

static int msgit_update_ref_cb(const char *refname, const char *status,
			       void *data)
{
	struct msgit_target *t = data;

	if (status != NULL) {
		if (msgit_status_moved(status))
			t->push_rejected = true;
		snprintf(t->push_status, sizeof(t->push_status), "%s: %s",
			 refname, status);
	}
	return 0;
}

static int msgit_push_progress_cb(unsigned int current, unsigned int total,
				  size_t bytes, void *payload)
{
	struct msgit_target *t = payload;
	const struct ms_host *h = t->host;
	struct ms_progress p;

	t->push_bytes = bytes;
	memset(&p, 0, sizeof(p));
	p.struct_size = sizeof(p);
	p.phase = "committing";
	p.files_done = current;
	p.files_total = total;
	h->progress(h, &p);
	if (h->cancelled(h)) {
		t->cancelled_flag = true;
		return -1;
	}
	return 0;
}

static void msgit_callbacks(struct msgit_target *t, git_remote_callbacks *cb)
{
	cb->credentials = msgit_cred_cb;
	cb->sideband_progress = msgit_sideband_cb;
	cb->transfer_progress = msgit_transfer_cb;
	cb->push_negotiation = msgit_negotiation_cb;
	cb->push_update_reference = msgit_update_ref_cb;
	cb->push_transfer_progress = msgit_push_progress_cb;
	cb->payload = t;
}

/*
 * An anonymous in-memory remote: nothing goes into the cache repo's config.
 * url.*.insteadOf rewriting is skipped: the URL is exactly what we were
 * given (and libgit2 1.5 leaks a pcre2 match block per config entry when
 * it looks those up).
 */
static int msgit_remote_new(git_remote **out, git_repository *repo,
			    const char *url)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = repo;
	o.name = NULL;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &o);
}

static void msgit_attempt_reset(struct msgit_target *t)
{
	t->auth_tries = t->token_used > 0 ? t->token_used : 0;
	t->auth_failed = false;
	t->cancelled_flag = false;
	/* a push refused earlier must not stop the next fetch's retries */
	t->push_rejected = false;
	t->push_status[0] = '\0';
	git_error_clear();
}

/* Transient network trouble (not auth, not 404) is worth another try. */
static bool msgit_retryable(struct msgit_target *t, int gerr)
{
	const git_error *e = git_error_last();

	if (t->auth_failed || t->cancelled_flag || gerr == GIT_EAUTH ||
	    gerr == GIT_EUSER || t->push_rejected)
		return false;
	if (e == NULL)
		return false;
	if (e->message != NULL && (msgit_status_is(e->message, "404") ||
				   msgit_status_is(e->message, "401") ||
				   msgit_status_is(e->message, "403")))
		return false;
	return e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_HTTP ||
	       e->klass == GIT_ERROR_SSL || e->klass == GIT_ERROR_OS;
}

static int msgit_fetch_once(struct msgit_target *t, git_repository *repo,
			    git_oid *tip_out, bool *exists_out, int *gerr_out)
{
	git_remote *remote = NULL;
	git_remote_callbacks cb;
	git_fetch_options fo;
	git_proxy_options po;
	git_remote_connect_options co;
	const git_remote_head **heads;
	size_t n, i;
	char *specs[1];
	git_strarray arr;
	git_odb *odb = NULL;
	int gerr;

	*exists_out = false;
	gerr = msgit_remote_new(&remote, repo, t->url);
	if (gerr < 0)
		goto out;
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	msgit_callbacks(t, &cb);
	git_proxy_options_init(&po, GIT_PROXY_OPTIONS_VERSION);
	po.type = GIT_PROXY_AUTO;
	git_remote_connect_options_init(&co,
					GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	co.callbacks = cb;
	co.proxy_opts = po;
	/* a redirect could carry the credentials to another host */
	co.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	gerr = git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &co);
	if (gerr < 0)
		goto out;
	gerr = git_remote_ls(&heads, &n, remote);
	if (gerr < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (strcmp(heads[i]->name, t->refname) == 0) {
			git_oid_cpy(tip_out, &heads[i]->oid);
			*exists_out = true;
		}
	}
	if (!*exists_out)
		goto out;
	gerr = git_repository_odb(&odb, repo);
	if (gerr < 0)
		goto out;
	if (git_odb_exists(odb, tip_out))
		goto out; /* we have it from an earlier run */
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks = cb;
	fo.proxy_opts = po;
	fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	specs[0] = t->refname;
	arr.strings = specs;
	arr.count = 1;
	gerr = git_remote_download(remote, &arr, &fo);
out:
	if (remote != NULL)
		git_remote_disconnect(remote);
	git_odb_free(odb);
	git_remote_free(remote);
	*gerr_out = gerr;
	return gerr;
}

/*
 * After a failed libgit2 operation: MS_OK when it is worth another try
 * (a network error, tries left; the backoff has been slept), else the
 * final code with the message set.
 */
static int msgit_retry(struct msgit_target *t, int gerr, const char *verb,
		       const char *what, unsigned *attempt)
{
	const struct ms_host *h = t->host;
	const git_error *e;

	if (!msgit_retryable(t, gerr) || *attempt >= t->retries)
		return msgit_fail(t, gerr, what);
	e = git_error_last();
	h->log(h, MS_LOG_WARN, "%s %s failed (%s); retrying (%u of %u)", verb,
	       t->url, e != NULL && e->message != NULL ? e->message : "?",
	       *attempt + 1, t->retries);
	/* git waits at most 8 s between tries */
	if (!msnet_sleep_ms(h, msnet_backoff_ms(*attempt + 1, 8000u), NULL,
			    NULL))
		return h->error(h, MS_ECANCELED, "cancelled");
	(*attempt)++;
	return MS_OK;
}

int msgit_fetch_tip(struct msgit_target *t, git_repository *repo,
		    git_oid *tip_out, bool *exists_out)
{
	unsigned attempt = 0;
	int gerr, rc;

	for (;;) {
		msgit_attempt_reset(t);
		msgit_fetch_once(t, repo, tip_out, exists_out, &gerr);
		if (gerr >= 0)
			return MS_OK;
		rc = msgit_retry(t, gerr, "fetching", "cannot fetch from the "
				 "hub", &attempt);
		if (rc != MS_OK)
			return rc;
	}
}

int msgit_push_branch(struct msgit_target *t, git_repository *repo,
		      bool *rejected_out)
{
	const struct ms_host *h = t->host;
	git_remote *remote = NULL;
	git_push_options po;
	char spec[1100];
	char *specs[1];
	git_strarray arr;
	unsigned attempt = 0;
	int gerr = 0, rc;

	*rejected_out = false;
	snprintf(spec, sizeof(spec), "%s%s:%s", t->force ? "+" : "",
		 t->refname, t->refname);
	specs[0] = spec;
	arr.strings = specs;
	arr.count = 1;
	for (;;) {
		msgit_attempt_reset(t);
		gerr = msgit_remote_new(&remote, repo, t->url);
		if (gerr < 0)
			return msgit_fail(t, gerr, "cannot push to the hub");
		git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
		msgit_callbacks(t, &po.callbacks);
		po.proxy_opts.type = GIT_PROXY_AUTO;
		po.pb_parallelism = 1;
		po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
		gerr = git_remote_push(remote, &arr, &po);
		git_remote_free(remote);
		remote = NULL;
		if (gerr >= 0 && !t->push_rejected && !t->push_status[0])
			return MS_OK;
		if (!t->push_rejected && t->push_status[0])
			return h->error(h, MS_EPROTO, "the hub refused the "
					"push to %s: %s", t->url,
					t->push_status);
		if (t->push_rejected) {
			*rejected_out = true;
			return h->error(h, MS_ECONFLICT, "the hub refused the "
					"push to %s%s%s: the branch moved",
					t->url, t->push_status[0] ? ": " : "",
					t->push_status);
		}
		rc = msgit_retry(t, gerr, "pushing to", "cannot push to the "
				 "hub", &attempt);
		if (rc != MS_OK)
			return rc;
	}
}
