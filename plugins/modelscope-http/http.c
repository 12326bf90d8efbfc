/* SPDX-License-Identifier: MIT */
/* The http backend: vtable, login, repository and listing calls. */
#include "http.h"
#include "hub.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#define HTTP_DEFAULT_RETRIES 5u
#define HTTP_DEFAULT_TIMEOUT 60u

static void http_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static int http_create(void **self_out, const struct ms_host *host)
{
	struct http_ctx *c;

	*self_out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return host->error(host, MS_ENOMEM, "out of memory");
	c->host = host;
	*self_out = c;
	return MS_OK;
}

static void http_destroy(void *self)
{
	struct http_ctx *c = self;

	if (c == NULL)
		return;
	msnet_free(c->net);
	free(c->net_endpoint);
	http_wipe_free(c->net_token);
	free(c);
}

static bool http_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int http_net(struct http_ctx *c, const char *endpoint, const char *token)
{
	const struct ms_host *h = c->host;
	struct msnet_opts o;
	const char *tok = token != NULL && token[0] != '\0' ? token : NULL;
	int rc;

	if (c->net != NULL && http_str_eq(c->net_endpoint, endpoint) &&
	    http_str_eq(c->net_token, tok))
		return MS_OK;
	msnet_free(c->net);
	c->net = NULL;
	free(c->net_endpoint);
	http_wipe_free(c->net_token);
	c->net_endpoint = NULL;
	c->net_token = NULL;
	memset(&o, 0, sizeof(o));
	o.host = h;
	o.endpoint = endpoint;
	o.token = tok;
	o.retries = msnet_config_uint(h, "retries", HTTP_DEFAULT_RETRIES);
	o.timeout_s = msnet_config_uint(h, "timeout", HTTP_DEFAULT_TIMEOUT);
	o.tag = "http";
	rc = msnet_new(&c->net, &o);
	if (rc != MS_OK)
		return rc;
	c->net_endpoint = strdup(endpoint);
	c->net_token = tok != NULL ? strdup(tok) : NULL;
	if (c->net_endpoint == NULL || (tok != NULL && c->net_token == NULL))
		return h->error(h, MS_ENOMEM, "out of memory");
	return MS_OK;
}

/* One JSON API call; @p r is kept for msnet_check(). */
static int http_call(struct http_ctx *c, struct msnet_req *r,
		     const char *method, const char *url, const char *json,
		     const char *what, struct msnet_response *resp)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->json_body = json;
	r->what = what;
	/* reads and the batch check are idempotent: retry garbled JSON */
	if (strcmp(method, "GET") == 0 || strstr(url, "/batch") != NULL)
		r->flags = MSNET_JSON;
	return msnet_request(c->net, r, resp);
}

static int http_login(void *self, const struct ms_login *req,
		      struct ms_identity *who)
{
	struct http_ctx *c = self;
	struct mshub_login l;
	int rc;

	who->authenticated = false;
	who->username[0] = '\0';
	rc = http_net(c, req->endpoint, req->token);
	if (rc != MS_OK)
		return rc;
	rc = mshub_login(c->net, req->token, req->token_origin, false, &l);
	who->authenticated = l.authenticated;
	snprintf(who->username, sizeof(who->username), "%s", l.username);
	mshub_login_clear(&l);
	return rc;
}

int http_repo_ensure(struct http_ctx *c, const char *owner, const char *name,
		     bool *created_out)
{
	const struct ms_host *h = c->host;
	struct msnet_response resp;
	struct msnet_req r;
	char what[400];
	char *url;
	int rc;

	*created_out = false;
	memset(&resp, 0, sizeof(resp));
	url = msnet_url(c->net, "/api/v1/models/%s/%s", owner, name);
	if (url == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	snprintf(what, sizeof(what), "looking up repository %s/%s", owner,
		 name);
	rc = http_call(c, &r, "GET", url, NULL, what, &resp);
	if (rc != MS_OK)
		goto out;
	if (resp.status == 404) {
		if (msnet_config_bool(h, "no-create", false)) {
			rc = h->error(h, MS_ENOTFOUND,
				      "repository %s/%s does not exist on %s "
				      "and --no-create forbids creating it",
				      owner, name, msnet_endpoint(c->net));
			goto out;
		}
		rc = mshub_create_model(c->net, owner, name, created_out);
		goto out;
	}
	rc = msnet_check(c->net, &r, &resp);
	if (rc != MS_OK)
		goto out;
	h->log(h, MS_LOG_INFO, "Repository %s/%s exists.", owner, name);
out:
	msnet_response_clear(&resp);
	free(url);
	return rc;
}

static int http_remote_cmp(const void *a, const void *b)
{
	const struct http_remote_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void http_remote_free(struct http_remote *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->files[i].path);
	free(r->files);
	r->files = NULL;
	r->n = 0;
}

const struct http_remote_file *http_remote_find(const struct http_remote *r,
						const char *path)
{
	struct http_remote_file key = { .path = (char *)path };

	if (r->n == 0)
		return NULL;
	return bsearch(&key, r->files, r->n, sizeof(key), http_remote_cmp);
}

int http_remote_list(struct http_ctx *c, const char *owner, const char *name,
		     const char *revision, struct http_remote *out,
		     bool *found_out)
{
	const struct ms_host *h = c->host;
	struct msnet_response resp;
	struct msnet_req r;
	const cJSON *arr, *e, *it;
	char what[400];
	char *url = NULL, *rev = NULL;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	*found_out = false;
	rev = msnet_escape(revision);
	if (rev == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	url = msnet_url(c->net,
			"/api/v1/models/%s/%s/repo/files?Revision=%s"
			"&Recursive=True",
			owner, name, rev);
	if (url == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "listing files of %s/%s@%s", owner, name,
		 revision);
	rc = http_call(c, &r, "GET", url, NULL, what, &resp);
	if (rc != MS_OK)
		goto out;
	if (resp.status == 404) {
		/* new repository or new branch: nothing there yet */
		h->log(h, MS_LOG_VERBOSE, "%s: not found, taken as empty",
		       what);
		goto out;
	}
	rc = msnet_check(c->net, &r, &resp);
	if (rc != MS_OK)
		goto out;
	*found_out = true;
	if (resp.json == NULL) {
		rc = h->error(h, MS_EPROTO, "%s: the hub's answer is not JSON "
			      "(%zu bytes; request id %s)", what,
			      resp.body_len, resp.request_id);
		goto out;
	}
	arr = resp.data;
	if (cJSON_IsObject(arr))
		arr = cJSON_GetObjectItemCaseSensitive(arr, "Files");
	if (arr == NULL || cJSON_IsNull(arr))
		goto out;
	if (!cJSON_IsArray(arr)) {
		rc = h->error(h, MS_EPROTO, "%s: the hub's answer has no "
			      "file list (request id %s)", what,
			      resp.request_id);
		goto out;
	}
	cJSON_ArrayForEach(e, arr) {
		struct http_remote_file *f;
		const char *p = NULL;

		it = cJSON_GetObjectItemCaseSensitive(e, "Type");
		if (cJSON_IsString(it) && strcmp(it->valuestring, "tree") == 0)
			continue;
		it = cJSON_GetObjectItemCaseSensitive(e, "Path");
		if (!cJSON_IsString(it))
			it = cJSON_GetObjectItemCaseSensitive(e, "Name");
		if (cJSON_IsString(it))
			p = it->valuestring;
		if (p == NULL || p[0] == '\0')
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *nf = realloc(out->files, ncap * sizeof(*f));

			if (nf == NULL) {
				rc = h->error(h, MS_ENOMEM, "out of memory");
				goto out;
			}
			out->files = nf;
			cap = ncap;
		}
		f = &out->files[out->n];
		memset(f, 0, sizeof(*f));
		f->path = strdup(p);
		if (f->path == NULL) {
			rc = h->error(h, MS_ENOMEM, "out of memory");
			goto out;
		}
		out->n++;
		it = cJSON_GetObjectItemCaseSensitive(e, "Size");
		if (cJSON_IsNumber(it) && it->valuedouble >= 0)
			f->size = (uint64_t)it->valuedouble;
		it = cJSON_GetObjectItemCaseSensitive(e, "Sha256");
		if (cJSON_IsString(it) && strlen(it->valuestring) == 64) {
			size_t i;

			for (i = 0; i < 64; i++)
				f->sha256[i] = (char)tolower(
					(unsigned char)it->valuestring[i]);
			f->sha256[64] = '\0';
		}
	}
	if (out->n > 1)
		qsort(out->files, out->n, sizeof(*out->files),
		      http_remote_cmp);
out:
	if (rc != MS_OK)
		http_remote_free(out);
	msnet_response_clear(&resp);
	free(url);
	free(rev);
	return rc;
}

int http_lfs_batch(struct http_ctx *c, const char *owner, const char *name,
		   const struct ms_file *const *objs, size_t n, char **hrefs)
{
	const struct ms_host *h = c->host;
	struct msnet_response resp;
	struct msnet_req r;
	const cJSON *arr, *e, *it;
	cJSON *body = NULL, *list, *o;
	char *json = NULL, *url = NULL;
	char what[400];
	size_t i;
	int rc;

	memset(&resp, 0, sizeof(resp));
	for (i = 0; i < n; i++)
		hrefs[i] = NULL;
	url = msnet_url(c->net,
			"/api/v1/repos/models/%s/%s/info/lfs/objects/batch",
			owner, name);
	body = cJSON_CreateObject();
	if (url == NULL || body == NULL ||
	    cJSON_AddStringToObject(body, "operation", "upload") == NULL)
		goto oom;
	list = cJSON_AddArrayToObject(body, "objects");
	if (list == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		if (o == NULL)
			goto oom;
		cJSON_AddItemToArray(list, o);
		if (cJSON_AddStringToObject(o, "oid", objs[i]->sha256) ==
			    NULL ||
		    cJSON_AddNumberToObject(o, "size",
					    (double)objs[i]->size) == NULL)
			goto oom;
	}
	json = cJSON_PrintUnformatted(body);
	if (json == NULL)
		goto oom;
	snprintf(what, sizeof(what), "LFS batch check of %zu object%s", n,
		 n == 1 ? "" : "s");
	rc = http_call(c, &r, "POST", url, json, what, &resp);
	if (rc != MS_OK)
		goto out;
	rc = msnet_check(c->net, &r, &resp);
	if (rc != MS_OK)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(resp.data, "objects");
	if (!cJSON_IsArray(arr)) {
		/*
		 * The SDK then takes every object as present (4.6), and may
		 * commit pointers to blobs never sent; we refuse instead.
		 */
		rc = h->error(h, MS_EPROTO,
			      "%s: the hub's answer has no \"objects\" list "
			      "(request id %s)", what, resp.request_id);
		goto out;
	}
	cJSON_ArrayForEach(e, arr) {
		const char *oid;

		it = cJSON_GetObjectItemCaseSensitive(e, "oid");
		if (!cJSON_IsString(it))
			continue;
		oid = it->valuestring;
		it = cJSON_GetObjectItemCaseSensitive(e, "actions");
		it = cJSON_GetObjectItemCaseSensitive(it, "upload");
		it = cJSON_GetObjectItemCaseSensitive(it, "href");
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
			continue;
		for (i = 0; i < n; i++) {
			if (hrefs[i] != NULL ||
			    strcasecmp(objs[i]->sha256, oid) != 0)
				continue;
			hrefs[i] = strdup(it->valuestring);
			if (hrefs[i] == NULL)
				goto oom;
		}
	}
	rc = MS_OK;
	goto out;
oom:
	rc = h->error(h, MS_ENOMEM, "out of memory");
out:
	if (rc != MS_OK) {
		for (i = 0; i < n; i++) {
			free(hrefs[i]);
			hrefs[i] = NULL;
		}
	}
	msnet_response_clear(&resp);
	cJSON_free(json);
	cJSON_Delete(body);
	free(url);
	return rc;
}

static int http_upload_entry(void *self, const struct ms_upload *req,
			     struct ms_upload_result *out)
{
	return http_upload_folder(self, req, out);
}

static const struct ms_backend http_backend = {
	.abi_version = MS_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(struct ms_backend),
	.name = "http",
	.description = "ModelScope hub over its HTTP commit API (LFS blobs, "
		       "batched commits, resume)",
	.caps = MS_CAP_NETWORK | MS_CAP_LFS | MS_CAP_RESUME | MS_CAP_DELETE,
	.create = http_create,
	.destroy = http_destroy,
	.login = http_login,
	.upload_folder = http_upload_entry,
};

MS_PLUGIN_EXPORT int ms_plugin_entry(const struct ms_backend **out,
				     uint32_t host_abi_version)
{
	*out = &http_backend;
	if (host_abi_version != MS_PLUGIN_ABI_VERSION)
		return MS_EABI;
	return MS_OK;
}
