/* SPDX-License-Identifier: MIT */
/* git-lfs basic transfer: the batch API at <remote>/info/lfs/objects/batch,
 * parallel streamed PUTs and verify calls, before any ref moves. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "git.h"
#include "net.h"
#include "pool.h"

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
	struct msnet *net;     /* origin of the remote, no token of its own */
	const char *basic;     /* "Authorization: Basic ..." for that origin */
	struct mspool pool;    /* the PUTs of one batch */
	pthread_mutex_t lock;  /* progress and stats */
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

/* The "header" object of an action as "K: V" lines, plus @p extra. */
static char **msgit_headers_from(const cJSON *hdr, const char *extra)
{
	const cJSON *it;
	size_t n = 0, i = 0, len;
	char **v;

	cJSON_ArrayForEach(it, hdr)
		n++;
	v = calloc(n + 3, sizeof(*v));
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
		i++;
	}
	return v;
fail:
	msgit_strv_free(v);
	return NULL;
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
};

/* A sibling PUT failed: stop this one too. */
static bool msgit_put_abort(void *payload)
{
	struct msgit_put_ctx *pc = payload;

	return mspool_stopped(&pc->run->pool);
}

static void msgit_on_sent(uint64_t delta, void *payload)
{
	struct msgit_put_ctx *pc = payload;

	pthread_mutex_lock(&pc->run->lock);
	pc->run->bytes_done += delta;
	msgit_lfs_progress(pc->run, pc->path);
	pthread_mutex_unlock(&pc->run->lock);
}

/* PUT one object, then verify it when the server asked for that. */
static int msgit_lfs_put(struct msgit_lfs_run *run, struct msgit_lfs_job *job)
{
	struct msgit_target *t = run->t;
	const struct ms_host *h = t->host;
	const struct ms_file *f = job->obj->file;
	struct msgit_put_ctx pc = { .run = run, .path = f->repo_path };
	struct msnet_response resp;
	struct msnet_req r;
	char what[600], body[160];
	int fd, rc;

	memset(&resp, 0, sizeof(resp));
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return h->error(h, MS_EIO, "cannot open \"%s\": %s", f->path,
				strerror(errno));
	snprintf(what, sizeof(what), "LFS upload of \"%s\"", f->repo_path);
	rc = msnet_put_file(run->net, &(struct msnet_put){
				    .href = job->href,
				    .name = f->repo_path,
				    .what = what,
				    .content_type = "application/octet-stream",
				    .headers = (const char *const *)job->headers,
				    .on_sent = msgit_on_sent,
				    .abort = msgit_put_abort,
				    .payload = &pc,
			    }, fd, f->size);
	close(fd);
	if (rc != MS_OK)
		goto out;
	rc = h->check_unchanged(h, f);
	if (rc != MS_OK)
		goto out;
	if (job->verify_href != NULL) {
		snprintf(body, sizeof(body), "{\"oid\":\"%s\",\"size\":%llu}",
			 f->sha256, (unsigned long long)f->size);
		snprintf(what, sizeof(what), "LFS verify of \"%s\"",
			 f->repo_path);
		memset(&r, 0, sizeof(r));
		r.method = "POST";
		r.url = job->verify_href;
		r.json_body = body;
		r.content_type = MSGIT_LFS_MEDIA;
		r.headers = (const char *const *)job->verify_headers;
		r.what = what;
		rc = msnet_request(run->net, &r, &resp);
		if (rc == MS_OK)
			rc = msnet_check(run->net, &r, &resp);
		if (rc != MS_OK)
			goto out;
	}
	h->log(h, MS_LOG_VERBOSE, "LFS object %s (%s) uploaded", f->sha256,
	       f->repo_path);
out:
	msnet_response_clear(&resp);
	return rc;
}

/* mspool's job: one object, counted once it is on the server. */
static int msgit_lfs_job_run(void *job_arg, void *run_arg)
{
	struct msgit_lfs_run *run = run_arg;
	struct msgit_lfs_job *job = job_arg;
	int rc;

	rc = msgit_lfs_put(run, job);
	if (rc != MS_OK)
		return rc;
	pthread_mutex_lock(&run->lock);
	job->obj->uploaded = true;
	run->stats->uploaded++;
	run->stats->bytes += job->obj->file->size;
	run->files_done++;
	msgit_lfs_progress(run, NULL);
	pthread_mutex_unlock(&run->lock);
	return MS_OK;
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
/* The credentials go with an action only to the remote's own origin,
 * and only when the action does not bring its own. */
static const char *msgit_action_auth(struct msgit_lfs_run *run,
				     const cJSON *action, const char *href)
{
	const cJSON *hdr = cJSON_GetObjectItemCaseSensitive(action, "header");
	const cJSON *it;

	cJSON_ArrayForEach(it, hdr)
		if (it->string != NULL &&
		    strcasecmp(it->string, "Authorization") == 0)
			return NULL;
	return msnet_same_origin(run->net, href) ? run->basic : NULL;
}

static int msgit_lfs_batch(struct msgit_lfs_run *run,
			   struct msgit_lfs_obj **objs, size_t n,
			   struct msgit_lfs_job **jobs_out, size_t *n_out)
{
	struct msgit_target *t = run->t;
	const struct ms_host *h = t->host;
	const char *hdrs[3] = {"Accept: " MSGIT_LFS_MEDIA, run->basic, NULL};
	struct msnet_response resp;
	struct msnet_req r;
	struct msgit_lfs_job *jobs = NULL;
	cJSON *req = NULL, *arr, *o;
	const cJSON *list, *it, *oid, *err, *acts, *up, *ver, *href;
	char *body = NULL, *url = NULL;
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
	if (o != NULL)
		cJSON_AddStringToObject(o, "name", t->refname);
	body = cJSON_PrintUnformatted(req);
	if (body == NULL)
		goto nomem;
	if (asprintf(&url, "%s/info/lfs/objects/batch", t->url) < 0) {
		url = NULL;
		goto nomem;
	}
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = url;
	r.json_body = body;
	r.content_type = MSGIT_LFS_MEDIA;
	r.headers = hdrs;
	r.what = "LFS batch request";
	rc = msnet_request(run->net, &r, &resp);
	if (rc == MS_OK)
		rc = msnet_check(run->net, &r, &resp);
	if (rc != MS_OK)
		goto out;
	list = cJSON_GetObjectItemCaseSensitive(resp.json, "objects");
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
			msgit_action_auth(run, up, href->valuestring));
		nj++;
		if (jobs[nj - 1].href == NULL || jobs[nj - 1].headers == NULL)
			goto nomem;
		ver = cJSON_GetObjectItemCaseSensitive(acts, "verify");
		href = cJSON_GetObjectItemCaseSensitive(ver, "href");
		if (cJSON_IsString(href)) {
			jobs[nj - 1].verify_href = strdup(href->valuestring);
			jobs[nj - 1].verify_headers = msgit_headers_from(
				cJSON_GetObjectItemCaseSensitive(ver, "header"),
				msgit_action_auth(run, ver,
						  href->valuestring));
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
	cJSON_Delete(req);
	free(body);
	free(url);
	msnet_response_clear(&resp);
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
	struct msnet_opts no;
	size_t i, nu = 0, start, cnt, nbj = 0;
	char *basic = NULL;
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
	/* no token of its own: the Basic credential is added per request,
	 * only for the remote's origin */
	memset(&no, 0, sizeof(no));
	no.host = h;
	no.endpoint = t->url;
	no.retries = t->retries;
	no.timeout_s = (unsigned)t->timeout_s;
	no.tag = "git-lfs";
	rc = msnet_new(&run.net, &no);
	if (rc != MS_OK)
		goto out;
	basic = msgit_basic_header(msgit_token(t));
	run.basic = basic;
	for (start = 0; start < nu; start += cnt) {
		cnt = nu - start < MSGIT_BATCH_MAX ? nu - start :
			MSGIT_BATCH_MAX;
		if (h->cancelled(h)) {
			rc = h->error(h, MS_ECANCELED, "cancelled");
			goto out;
		}
		rc = msgit_lfs_batch(&run, uniq + start, cnt, &bjobs, &nbj);
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
		rc = mspool_init(&run.pool, h, jobs, nbj, msgit_lfs_job_run,
				 &run);
		if (rc != MS_OK)
			goto out;
		for (i = 0; i < nbj; i++)
			mspool_add(&run.pool, &bjobs[i]);
		rc = mspool_finish(&run.pool);
		mspool_free(&run.pool);
		msgit_jobs_free(bjobs, nbj);
		bjobs = NULL;
		nbj = 0;
		if (rc != MS_OK)
			goto out;
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
	msnet_free(run.net);
	if (basic != NULL) {
		explicit_bzero(basic, strlen(basic));
		free(basic);
	}
	free(uniq);
	pthread_mutex_destroy(&run.lock);
	return rc;
}
