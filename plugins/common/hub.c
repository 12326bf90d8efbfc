/* SPDX-License-Identifier: MIT */
/* Login and repo creation on the hub, shared by the http and git backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "hub.h"

/* POST @p url with @p body; the body is wiped (it may carry the token). */
static int hub_post(struct msnet *n, struct msnet_req *r, const char *url,
		    cJSON *body, const char *what, struct msnet_response *resp)
{
	const struct ms_host *h = msnet_host(n);
	char *json = cJSON_PrintUnformatted(body);
	int rc;

	if (json == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	memset(r, 0, sizeof(*r));
	r->method = "POST";
	r->url = url;
	r->json_body = json;
	r->what = what;
	rc = msnet_request(n, r, resp);
	explicit_bzero(json, strlen(json));
	cJSON_free(json);
	r->json_body = NULL;
	return rc;
}

static void copy_field(const cJSON *data, const char *key, char *dst, size_t len)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(data, key);

	if (cJSON_IsString(it))
		snprintf(dst, len, "%s", it->valuestring);
}

int mshub_login(struct msnet *n, const char *token, const char *token_origin,
		bool missing_ok, struct mshub_login *out)
{
	const struct ms_host *h = msnet_host(n);
	struct msnet_response resp;
	struct msnet_req r;
	const cJSON *it;
	cJSON *body = NULL;
	char *url = NULL, what[600];
	int rc = MS_OK;

	memset(out, 0, sizeof(*out));
	memset(&resp, 0, sizeof(resp));
	if (token == NULL || token[0] == '\0')
		return MS_OK;
	url = msnet_url(n, "/api/v1/login");
	body = cJSON_CreateObject();
	if (url == NULL || body == NULL ||
	    cJSON_AddStringToObject(body, "AccessToken", token) == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "login to %s", msnet_endpoint(n));
	rc = hub_post(n, &r, url, body, what, &resp);
	if (rc != MS_OK)
		goto out;
	if (missing_ok && (resp.status == 404 || resp.status == 405)) {
		/* a hub without the login call: the publish will tell */
		h->log(h, MS_LOG_VERBOSE, "%s: HTTP %ld; going on with the "
		       "token as given", what, resp.status);
		goto out;
	}
	if (resp.status == 401 || resp.status == 403) {
		rc = h->error(h, MS_EAUTH,
			      "%s failed: the hub refused the token from %s "
			      "(HTTP %ld: %s%s%s); check the token (--token or "
			      "MODELSCOPE_API_TOKEN) or create a new one on the "
			      "website", what, token_origin ? token_origin : "?",
			      resp.status,
			      resp.message[0] ? resp.message : "no message",
			      resp.request_id[0] ? ", request id " : "",
			      resp.request_id);
		goto out;
	}
	rc = msnet_check(n, &r, &resp);
	if (rc != MS_OK)
		goto out;
	copy_field(resp.data, "Username", out->username, sizeof(out->username));
	copy_field(resp.data, "Email", out->email, sizeof(out->email));
	it = cJSON_GetObjectItemCaseSensitive(resp.data, "AccessToken");
	if (cJSON_IsString(it) && it->valuestring[0] != '\0') {
		h->add_secret(h, it->valuestring);
		if (strcmp(it->valuestring, token) != 0)
			out->git_token = strdup(it->valuestring);
	}
	out->authenticated = true;
	h->log(h, MS_LOG_VERBOSE, "logged in to %s as %s", msnet_endpoint(n),
	       out->username[0] ? out->username : "(unknown user)");
out:
	msnet_response_clear(&resp);
	cJSON_Delete(body);
	free(url);
	return rc;
}

void mshub_login_clear(struct mshub_login *l)
{
	if (l->git_token != NULL) {
		explicit_bzero(l->git_token, strlen(l->git_token));
		free(l->git_token);
	}
	memset(l, 0, sizeof(*l));
}

/* The "visibility" setting as the hub's number (protocol doc 3.2). */
static int hub_visibility(const struct ms_host *h, int *out, const char **name)
{
	const char *v = h->config_get(h, "visibility");

	if (v == NULL || v[0] == '\0' || strcasecmp(v, "private") == 0) {
		*out = 1;
		*name = "private";
	} else if (strcasecmp(v, "internal") == 0) {
		*out = 3;
		*name = "internal";
	} else if (strcasecmp(v, "public") == 0) {
		*out = 5;
		*name = "public";
	} else {
		return h->error(h, MS_EINVAL,
				"visibility \"%s\" is not one of private, "
				"internal, public", v);
	}
	return MS_OK;
}

int mshub_create_model(struct msnet *n, const char *owner, const char *name,
		       bool *created_out)
{
	const struct ms_host *h = msnet_host(n);
	const char *license = h->config_get(h, "license");
	const char *vis_name = "private";
	struct msnet_response resp;
	struct msnet_req r;
	cJSON *body = NULL;
	char *url = NULL, what[400];
	int vis = 1, rc;

	*created_out = false;
	memset(&resp, 0, sizeof(resp));
	rc = hub_visibility(h, &vis, &vis_name);
	if (rc != MS_OK)
		return rc;
	if (license == NULL || license[0] == '\0')
		license = "Apache-2.0";
	url = msnet_url(n, "/api/v1/models");
	body = cJSON_CreateObject();
	if (url == NULL || body == NULL ||
	    cJSON_AddStringToObject(body, "Path", owner) == NULL ||
	    cJSON_AddStringToObject(body, "Name", name) == NULL ||
	    cJSON_AddNumberToObject(body, "Visibility", vis) == NULL ||
	    cJSON_AddStringToObject(body, "License", license) == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(what, sizeof(what), "creating repository %s/%s", owner, name);
	rc = hub_post(n, &r, url, body, what, &resp);
	if (rc != MS_OK)
		goto out;
	if (msnet_already_exists(&resp)) {
		h->log(h, MS_LOG_INFO, "Repository %s/%s already exists.", owner,
		       name);
		goto out;
	}
	rc = msnet_check(n, &r, &resp);
	if (rc != MS_OK)
		goto out;
	*created_out = true;
	h->log(h, MS_LOG_INFO, "Created %s repository %s/%s (license %s).",
	       vis_name, owner, name, license);
out:
	msnet_response_clear(&resp);
	cJSON_Delete(body);
	free(url);
	return rc;
}
