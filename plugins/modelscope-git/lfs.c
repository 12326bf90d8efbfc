/* SPDX-License-Identifier: MIT */
/* git-lfs basic transfer: the batch API at <remote>/info/lfs/objects/batch,
 * parallel streamed PUTs and verify calls, before any ref moves. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "git.h"

#define MSGIT_BATCH_MAX 100
#define MSGIT_LFS_MEDIA "application/vnd.git-lfs+json"

/* One object the server asked for. */
struct msgit_lfs_job {
	struct msgit_lfs_obj *obj;
	char *href;
	char **headers;        /* "K: V", NULL-terminated */
	char *verify_href;     /* or NULL */
	char **verify_headers;
};

struct msgit_lfs_run {
	struct msgit_target *t;
	struct msgit_lfs_job *jobs;
	size_t n_jobs;
	size_t next;           /* next job to take */
	int rc;                /* first failure */
	pthread_mutex_t lock;
	struct msgit_lfs_stats *stats;
	uint64_t bytes_done, bytes_total;
	uint32_t files_done, files_total;
};

static void msgit_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

/* The "header" object of an action as "K: V" lines. */
static char **msgit_headers_from(const cJSON *hdr, const char *extra)
{
	const cJSON *it;
	size_t n = 0, i = 0, len;
	char **v;

	cJSON_ArrayForEach(it, hdr)
		n++;
	v = calloc(n + 2, sizeof(*v));
	if (v == NULL)
		return NULL;
	cJSON_ArrayForEach(it, hdr) {
		if (!cJSON_IsString(it) || it->string == NULL)
			continue;
		len = strlen(it->string) + strlen(it->valuestring) + 3;
		v[i] = malloc(len);
		if (v[i] == NULL)
			goto fail;
		snprintf(v[i], len, "%s: %s", it->string, it->valuestring);
		i++;
	}
	if (extra != NULL) {
		v[i] = strdup(extra);
		if (v[i] == NULL)
			goto fail;
	}
	return v;
fail:
	msgit_strv_free(v);
	return NULL;
}

static bool msgit_has_auth_header(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strncasecmp(v[i], "authorization:", 14) == 0)
			return true;
	return false;
}

/* Same scheme://host:port as the remote URL: credentials may go there. */
static bool msgit_same_origin(const char *a, const char *b)
{
	const char *ea = strstr(a, "://"), *eb = strstr(b, "://");
	size_t la, lb;

	if (ea == NULL || eb == NULL)
		return false;
	ea += 3;
	eb += 3;
	la = (size_t)(ea - a) + strcspn(ea, "/?#");
	lb = (size_t)(eb - b) + strcspn(eb, "/?#");
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void msgit_lfs_progress(struct msgit_lfs_run *run, const char *path)
{
	const struct ms_host *h = run->t->host;
	struct ms_progress p;

	memset(&p, 0, sizeof(p));
	p.struct_size = sizeof(p);
	p.phase = "uploading";
	p.path = path;
	p.bytes_done = run->bytes_done;
	p.bytes_total = run->bytes_total;
	p.files_done = run->files_done;
	p.files_total = run->files_total;
	h->progress(h, &p);
}

struct msgit_put_ctx {
	struct msgit_lfs_run *run;
	const char *path;
	uint64_t sent; /* by this attempt */
};

static void msgit_on_sent(uint64_t delta, void *payload)
{
	struct msgit_put_ctx *pc = payload;

	pthread_mutex_lock(&pc->run->lock);
	pc->sent += delta;
	pc->run->bytes_done += delta;
	msgit_lfs_progress(pc->run, pc->path);
	pthread_mutex_unlock(&pc->run->lock);
}

/* A retry sends the object again: its bytes count once. */
static void msgit_on_restart(void *payload)
{
	struct msgit_put_ctx *pc = payload;

	pthread_mutex_lock(&pc->run->lock);
	pc->run->bytes_done -= pc->sent;
	pc->sent = 0;
	pthread_mutex_unlock(&pc->run->lock);
}

/* PUT one object, then verify it when the server asked for that. */
static int msgit_lfs_put(struct msgit_lfs_run *run, CURL *c,
			 struct msgit_lfs_job *job)
{
	struct msgit_target *t = run->t;
	const struct ms_host *h = t->host;
	const struct ms_file *f = job->obj->file;
	struct msgit_http_req r;
	struct msgit_http_resp resp;
	struct msgit_put_ctx pc;
	char err[512], msg[512], what[600], body[160];
	const char *tok = msgit_token(t);
	unsigned attempt = 0;
	int fd = -1, rc;

	memset(&resp, 0, sizeof(resp));
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = h->error(h, MS_EIO, "cannot open \"%s\": %m", f->path);
		goto out;
	}
	pc.run = run;
	pc.path = f->repo_path;
	pc.sent = 0;
	snprintf(what, sizeof(what), "LFS upload of \"%s\"", f->repo_path);
	memset(&r, 0, sizeof(r));
	msgit_http_defaults(t, &r, what);
	r.method = "PUT";
	r.url = job->href;
	r.headers = (const char *const *)job->headers;
	if (!msgit_has_auth_header(job->headers) &&
	    msgit_same_origin(job->href, t->url))
		r.basic_token = tok;
	r.src_fd = fd;
	r.src_size = f->size;
	r.on_sent = msgit_on_sent;
	r.on_restart = msgit_on_restart;
	r.payload = &pc;
	for (;;) {
		rc = msgit_http_request(c, &r, &resp, err, sizeof(err));
		if (rc == MS_ECHANGED) {
			rc = h->error(h, MS_ECHANGED, "\"%s\" changed while it "
				      "was uploaded; run again", f->path);
			goto out;
		}
		if (rc != MS_OK) {
			rc = h->error(h, rc, "%s failed: %s", what, err);
			goto out;
		}
		if (resp.status < 300)
			break;
		msgit_http_message(&resp, msg, sizeof(msg));
		if (resp.status == 401 || resp.status == 403) {
			rc = h->error(h, MS_EAUTH, "%s: HTTP %ld: %s; check the "
				      "token (--token or MODELSCOPE_API_TOKEN)",
				      what, resp.status, msg);
			goto out;
		}
		/* the server refused the bytes (e.g. a hash mismatch):
		 * once more from the start, then give up */
		if (attempt++ >= 1 || resp.status < 400) {
			rc = h->error(h, MS_EPROTO, "%s: HTTP %ld: %s", what,
				      resp.status, msg);
			goto out;
		}
		h->log(h, MS_LOG_WARN, "%s: HTTP %ld: %s; retrying", what,
		       resp.status, msg);
	}
	rc = h->check_unchanged(h, f);
	if (rc != MS_OK)
		goto out;
	if (job->verify_href != NULL) {
		snprintf(body, sizeof(body), "{\"oid\":\"%s\",\"size\":%llu}",
			 f->sha256, (unsigned long long)f->size);
		snprintf(what, sizeof(what), "LFS verify of \"%s\"",
			 f->repo_path);
		memset(&r, 0, sizeof(r));
		msgit_http_defaults(t, &r, what);
		r.method = "POST";
		r.url = job->verify_href;
		r.body = body;
		r.headers = (const char *const *)job->verify_headers;
		if (!msgit_has_auth_header(job->verify_headers) &&
		    msgit_same_origin(job->verify_href, t->url))
			r.basic_token = tok;
		rc = msgit_http_request(c, &r, &resp, err, sizeof(err));
		if (rc != MS_OK) {
			rc = h->error(h, rc, "%s failed: %s", what, err);
			goto out;
		}
		if (resp.status >= 300) {
			msgit_http_message(&resp, msg, sizeof(msg));
			rc = h->error(h, MS_EPROTO, "%s: HTTP %ld: %s", what,
				      resp.status, msg);
			goto out;
		}
	}
	h->log(h, MS_LOG_VERBOSE, "LFS object %s (%s) uploaded", f->sha256,
	       f->repo_path);
	rc = MS_OK;
out:
	if (fd >= 0)
		close(fd);
	msgit_http_resp_clear(&resp);
	return rc;
}

static void *msgit_lfs_worker(void *arg)
{
	struct msgit_lfs_run *run = arg;
	const struct ms_host *h = run->t->host;
	struct msgit_lfs_job *job;
	CURL *c = curl_easy_init();
	int rc;

	if (c == NULL) {
		pthread_mutex_lock(&run->lock);
		if (run->rc == MS_OK)
			run->rc = h->error(h, MS_ENOMEM, "curl_easy_init failed");
		pthread_mutex_unlock(&run->lock);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&run->lock);
		if (run->rc != MS_OK || run->next >= run->n_jobs) {
			pthread_mutex_unlock(&run->lock);
			break;
		}
		job = &run->jobs[run->next++];
		pthread_mutex_unlock(&run->lock);
		rc = msgit_lfs_put(run, c, job);
		pthread_mutex_lock(&run->lock);
		if (rc != MS_OK && run->rc == MS_OK)
			run->rc = rc;
		if (rc == MS_OK) {
			job->obj->uploaded = true;
			run->stats->uploaded++;
			run->stats->bytes += job->obj->file->size;
			run->files_done++;
			msgit_lfs_progress(run, NULL);
		}
		pthread_mutex_unlock(&run->lock);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static void msgit_jobs_free(struct msgit_lfs_job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(jobs[i].href);
		free(jobs[i].verify_href);
		msgit_strv_free(jobs[i].headers);
		msgit_strv_free(jobs[i].verify_headers);
	}
	free(jobs);
}

/* POST one batch and turn its answer into jobs. */
static int msgit_lfs_batch(struct msgit_target *t, CURL *c,
			   struct msgit_lfs_obj **objs, size_t n,
			   struct msgit_lfs_job **jobs_out, size_t *n_out)
{
	const struct ms_host *h = t->host;
	static const char *const hdrs[] = {
		"Accept: " MSGIT_LFS_MEDIA,
		"Content-Type: " MSGIT_LFS_MEDIA,
		NULL};
	struct msgit_http_req r;
	struct msgit_http_resp resp;
	struct msgit_lfs_job *jobs = NULL;
	cJSON *req = NULL, *arr, *o, *ans = NULL;
	const cJSON *list, *it, *oid, *err, *acts, *up, *ver, *href;
	char *body = NULL, *url = NULL;
	char ebuf[512], msg[512];
	size_t i, k, nj = 0;
	int rc;

	memset(&resp, 0, sizeof(resp));
	req = cJSON_CreateObject();
	if (req == NULL)
		goto nomem;
	cJSON_AddStringToObject(req, "operation", "upload");
	arr = cJSON_AddArrayToObject(req, "transfers");
	if (arr == NULL)
		goto nomem;
	cJSON_AddItemToArray(arr, cJSON_CreateString("basic"));
	arr = cJSON_AddArrayToObject(req, "objects");
	if (arr == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		if (o == NULL)
			goto nomem;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "oid", objs[i]->file->sha256);
		cJSON_AddNumberToObject(o, "size",
					(double)objs[i]->file->size);
	}
	o = cJSON_AddObjectToObject(req, "ref");
	if (o != NULL) {
		char ref[300];

		snprintf(ref, sizeof(ref), "refs/heads/%s", t->revision);
		cJSON_AddStringToObject(o, "name", ref);
	}
	body = cJSON_PrintUnformatted(req);
	if (body == NULL)
		goto nomem;
	if (asprintf(&url, "%s/info/lfs/objects/batch", t->url) < 0) {
		url = NULL;
		goto nomem;
	}
	memset(&r, 0, sizeof(r));
	msgit_http_defaults(t, &r, "LFS batch request");
	r.method = "POST";
	r.url = url;
	r.body = body;
	r.headers = hdrs;
	r.basic_token = msgit_token(t);
	rc = msgit_http_request(c, &r, &resp, ebuf, sizeof(ebuf));
	if (rc != MS_OK) {
		rc = h->error(h, rc, "LFS batch request to %s failed: %s", url,
			      ebuf);
		goto out;
	}
	if (resp.status != 200) {
		msgit_http_message(&resp, msg, sizeof(msg));
		if (resp.status == 401 || resp.status == 403)
			rc = h->error(h, MS_EAUTH, "LFS batch request: HTTP %ld:"
				      " %s; check the token (--token or "
				      "MODELSCOPE_API_TOKEN) and that it may "
				      "write to the repository", resp.status,
				      msg);
		else
			rc = h->error(h, resp.status == 404 ? MS_ENOTFOUND :
				      MS_EPROTO, "LFS batch request to %s: "
				      "HTTP %ld: %s", url, resp.status, msg);
		goto out;
	}
	ans = cJSON_Parse(resp.body != NULL ? resp.body : "");
	list = cJSON_GetObjectItemCaseSensitive(ans, "objects");
	if (!cJSON_IsArray(list)) {
		rc = h->error(h, MS_EPROTO, "LFS batch answer without "
			      "\"objects\" from %s", url);
		goto out;
	}
	jobs = calloc(n, sizeof(*jobs));
	if (jobs == NULL)
		goto nomem;
	cJSON_ArrayForEach(it, list) {
		oid = cJSON_GetObjectItemCaseSensitive(it, "oid");
		if (!cJSON_IsString(oid))
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(objs[k]->file->sha256,
				   oid->valuestring) == 0)
				break;
		if (k == n)
			continue;
		err = cJSON_GetObjectItemCaseSensitive(it, "error");
		if (err != NULL) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(
				err, "message");

			rc = h->error(h, MS_EPROTO, "the LFS server refused "
				      "\"%s\": %s", objs[k]->file->repo_path,
				      cJSON_IsString(m) ? m->valuestring :
				      "no reason given");
			goto out;
		}
		acts = cJSON_GetObjectItemCaseSensitive(it, "actions");
		up = cJSON_GetObjectItemCaseSensitive(acts, "upload");
		href = cJSON_GetObjectItemCaseSensitive(up, "href");
		if (!cJSON_IsString(href)) {
			objs[k]->skipped = true;
			continue;
		}
		if (nj >= n || objs[k]->uploaded)
			continue;
		jobs[nj].obj = objs[k];
		jobs[nj].href = strdup(href->valuestring);
		jobs[nj].headers = msgit_headers_from(
			cJSON_GetObjectItemCaseSensitive(up, "header"),
			"Content-Type: application/octet-stream");
		nj++;
		if (jobs[nj - 1].href == NULL || jobs[nj - 1].headers == NULL)
			goto nomem;
		ver = cJSON_GetObjectItemCaseSensitive(acts, "verify");
		href = cJSON_GetObjectItemCaseSensitive(ver, "href");
		if (cJSON_IsString(href)) {
			jobs[nj - 1].verify_href = strdup(href->valuestring);
			jobs[nj - 1].verify_headers = msgit_headers_from(
				cJSON_GetObjectItemCaseSensitive(ver, "header"),
				"Accept: " MSGIT_LFS_MEDIA);
			if (jobs[nj - 1].verify_href == NULL ||
			    jobs[nj - 1].verify_headers == NULL)
				goto nomem;
		}
	}
	/* not listed at all: the server has it */
	for (k = 0; k < n; k++) {
		bool listed = objs[k]->skipped;

		for (i = 0; !listed && i < nj; i++)
			listed = jobs[i].obj == objs[k];
		if (!listed)
			objs[k]->skipped = true;
	}
	*jobs_out = jobs;
	*n_out = nj;
	jobs = NULL;
	nj = 0;
	rc = MS_OK;
	goto out;
nomem:
	rc = h->error(h, MS_ENOMEM, "out of memory");
out:
	msgit_jobs_free(jobs, nj);
	cJSON_Delete(ans);
	cJSON_Delete(req);
	free(body);
	free(url);
	msgit_http_resp_clear(&resp);
	return rc;
}

static int msgit_cmp_oid(const void *a, const void *b)
{
	const struct msgit_lfs_obj *const *x = a, *const *y = b;

	return strcmp((*x)->file->sha256, (*y)->file->sha256);
}

int msgit_lfs_upload(struct msgit_target *t, struct msgit_lfs_obj *objs,
		     size_t n, unsigned jobs, struct msgit_lfs_stats *stats)
{
	const struct ms_host *h = t->host;
	struct msgit_lfs_obj **uniq = NULL;
	struct msgit_lfs_job *bjobs = NULL;
	struct msgit_lfs_run run;
	pthread_t tids[64];
	size_t i, nu = 0, start, cnt, nbj = 0;
	unsigned nthreads, started;
	CURL *c = NULL;
	int rc = MS_OK;

	memset(&run, 0, sizeof(run));
	pthread_mutex_init(&run.lock, NULL);
	run.t = t;
	run.stats = stats;
	if (n == 0)
		goto out;
	uniq = calloc(n, sizeof(*uniq));
	if (uniq == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		uniq[i] = &objs[i];
	qsort(uniq, n, sizeof(*uniq), msgit_cmp_oid);
	/* one object per content */
	for (i = 0; i < n; i++) {
		if (nu > 0 && strcmp(uniq[nu - 1]->file->sha256,
				     uniq[i]->file->sha256) == 0)
			continue;
		uniq[nu++] = uniq[i];
		run.bytes_total += uniq[i]->file->size;
	}
	run.files_total = (uint32_t)nu;
	c = curl_easy_init();
	if (c == NULL) {
		rc = h->error(h, MS_ENOMEM, "curl_easy_init failed");
		goto out;
	}
	for (start = 0; start < nu; start += cnt) {
		cnt = nu - start < MSGIT_BATCH_MAX ? nu - start :
			MSGIT_BATCH_MAX;
		if (h->cancelled(h)) {
			rc = h->error(h, MS_ECANCELED, "cancelled");
			goto out;
		}
		rc = msgit_lfs_batch(t, c, uniq + start, cnt, &bjobs, &nbj);
		if (rc != MS_OK)
			goto out;
		for (i = start; i < start + cnt; i++) {
			if (uniq[i]->skipped) {
				stats->skipped++;
				run.bytes_total -= uniq[i]->file->size;
				run.files_total--;
			}
		}
		if (nbj == 0)
			continue;
		run.jobs = bjobs;
		run.n_jobs = nbj;
		run.next = 0;
		nthreads = jobs < 1 ? 1 : jobs;
		if (nthreads > 64)
			nthreads = 64;
		if (nthreads > nbj)
			nthreads = (unsigned)nbj;
		for (started = 0; started < nthreads; started++)
			if (pthread_create(&tids[started], NULL,
					   msgit_lfs_worker, &run) != 0)
				break;
		if (started == 0)
			msgit_lfs_worker(&run);
		for (i = 0; i < started; i++)
			pthread_join(tids[i], NULL);
		msgit_jobs_free(bjobs, nbj);
		bjobs = NULL;
		nbj = 0;
		if (run.rc != MS_OK) {
			rc = run.rc;
			goto out;
		}
	}
	/* duplicates of a content share its fate */
	for (i = 0; i < n; i++) {
		struct msgit_lfs_obj *o = &objs[i];
		struct msgit_lfs_obj **u = bsearch(&o, uniq, nu,
						  sizeof(*uniq),
						  msgit_cmp_oid);

		if (u != NULL && *u != o) {
			o->uploaded = (*u)->uploaded;
			o->skipped = (*u)->skipped;
		}
	}
out:
	msgit_jobs_free(bjobs, nbj);
	if (c != NULL)
		curl_easy_cleanup(c);
	free(uniq);
	pthread_mutex_destroy(&run.lock);
	return rc;
}
