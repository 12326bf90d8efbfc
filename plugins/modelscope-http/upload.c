/* SPDX-License-Identifier: MIT */
/* upload_folder: compare, batch-check, PUT in parallel, commit, verify. */
#include "http.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define UPLOAD_BATCH_OBJECTS 64u
/* LFS bytes hashed before their PUTs are queued (pipeline step). */
#define UPLOAD_CHUNK_BYTES (256ull << 20)

/* One blob to PUT. */
struct upload_blob {
	const struct ms_file *file;
	char *href;
};

/*
 * The PUTs (mspool).  The main thread hashes the files in chunks and
 * queues the blobs of each chunk the hub asks for, so hashing overlaps
 * sending; the workers take blobs in queue order.
 */
struct upload_pool {
	struct mspool q;
	struct http_ctx *c;
	struct upload_blob *blobs; /* capacity: n_files */
	atomic_uint_fast64_t bytes_done;
	atomic_uint_fast64_t bytes_sent; /* of completed PUTs */
	atomic_uint_fast64_t bytes_total;
	atomic_uint files_done;
};

static void upload_progress(struct upload_pool *p, const char *path)
{
	const struct ms_host *h = p->c->host;
	struct ms_progress pr;

	memset(&pr, 0, sizeof(pr));
	pr.struct_size = sizeof(pr);
	pr.phase = "uploading";
	pr.path = path;
	pr.bytes_done = atomic_load(&p->bytes_done);
	pr.bytes_total = atomic_load(&p->bytes_total);
	if (pr.bytes_done > pr.bytes_total)
		pr.bytes_done = pr.bytes_total;
	pr.files_done = atomic_load(&p->files_done);
	pr.files_total = (uint32_t)mspool_queued(&p->q);
	h->progress(h, &pr);
}

struct upload_job {
	struct upload_pool *pool;
	const char *path;
};

static void upload_on_sent(uint64_t delta, void *payload)
{
	struct upload_job *j = payload;

	atomic_fetch_add(&j->pool->bytes_done, delta);
	upload_progress(j->pool, j->path);
}

/* A sibling worker failed: stop this transfer too. */
static bool upload_abort(void *payload)
{
	struct upload_job *j = payload;

	return mspool_stopped(&j->pool->q);
}

/* mspool's job: one blob. */
static int upload_one(void *blob, void *pool)
{
	struct upload_pool *p = pool;
	const struct upload_blob *b = blob;
	const struct ms_host *h = p->c->host;
	const struct ms_file *f = b->file;
	struct upload_job job = { .pool = p, .path = f->rel_path };
	struct stat st;
	int fd, rc;

	rc = h->check_unchanged(h, f);
	if (rc != MS_OK)
		return rc;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return h->error(h, MS_EIO, "cannot open \"%s\": %s",
				f->rel_path, strerror(errno));
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size) {
		close(fd);
		return h->error(h, MS_ECHANGED,
				"\"%s\" changed after it was hashed (size); "
				"nothing was committed, run again",
				f->rel_path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = msnet_put_file(p->c->net, &(struct msnet_put){
				    .href = b->href,
				    .name = f->rel_path,
				    .flags = MSNET_BLOB,
				    .on_sent = upload_on_sent,
				    .abort = upload_abort,
				    .payload = &job,
			    }, fd, f->size);
	close(fd);
	if (rc != MS_OK)
		return rc;
	/* what we sent must still be what we hashed */
	rc = h->check_unchanged(h, f);
	if (rc != MS_OK)
		return rc;
	atomic_fetch_add(&p->bytes_sent, f->size);
	atomic_fetch_add(&p->files_done, 1);
	h->log(h, MS_LOG_VERBOSE, "uploaded \"%s\" (%llu bytes)", f->rel_path,
	       (unsigned long long)f->size);
	upload_progress(p, f->rel_path);
	return MS_OK;
}

static int upload_pool_init(struct upload_pool *p, struct http_ctx *c,
			    size_t cap, unsigned jobs)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->blobs = calloc(cap + 1, sizeof(*p->blobs));
	if (p->blobs == NULL)
		return MS_ENOMEM;
	return mspool_init(&p->q, c->host, jobs, cap, upload_one, p);
}

/* Queue a blob (the pool takes href). */
static void upload_pool_add(struct upload_pool *p, const struct ms_file *f,
			    char *href)
{
	struct upload_blob *b = &p->blobs[mspool_queued(&p->q)];

	b->file = f;
	b->href = href;
	atomic_fetch_add(&p->bytes_total, f->size);
	mspool_add(&p->q, b);
}

/* Stop what still runs, wait for it, free the hrefs and the queue. */
static void upload_pool_free(struct upload_pool *p)
{
	size_t k;

	if (p->blobs == NULL)
		return;
	mspool_free(&p->q);
	for (k = 0; k < mspool_queued(&p->q); k++)
		free(p->blobs[k].href);
	free(p->blobs);
	p->blobs = NULL;
}

static int upload_split_repo(const struct ms_host *h, const char *repo_id,
			     char *owner, size_t ocap, char *name,
			     size_t ncap)
{
	const char *slash = strchr(repo_id, '/');
	size_t ol;

	if (slash == NULL || slash == repo_id || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL)
		return h->error(h, MS_EINVAL,
				"repo id \"%s\" is not owner/name", repo_id);
	ol = (size_t)(slash - repo_id);
	if (ol >= ocap || strlen(slash + 1) >= ncap)
		return h->error(h, MS_EINVAL, "repo id \"%s\" is too long",
				repo_id);
	memcpy(owner, repo_id, ol);
	owner[ol] = '\0';
	snprintf(name, ncap, "%s", slash + 1);
	return MS_OK;
}

/* Revisions go into the URL path verbatim (4.8): allow only safe ones. */
static int upload_check_revision(const struct ms_host *h, const char *rev)
{
	const char *p;

	if (rev[0] == '\0' || rev[0] == '/' || strstr(rev, "..") != NULL)
		goto bad;
	for (p = rev; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-' || *p == '/')
			continue;
		goto bad;
	}
	return MS_OK;
bad:
	return h->error(h, MS_EINVAL,
			"revision \"%s\": only letters, digits, '.', '_', "
			"'-' and '/' are supported", rev);
}

/* Is @p remote_path (under the prefix) present in the folder on disk? */
static bool upload_exists_locally(const struct ms_upload *req,
				  const char *remote_path)
{
	const char *rel = remote_path;
	size_t pl = strlen(req->path_in_repo);
	struct stat st;
	char *p = NULL;
	bool yes;

	if (pl > 0)
		rel += pl + 1;
	if (asprintf(&p, "%s/%s", req->folder, rel) < 0)
		return true; /* be safe: never delete on doubt */
	yes = stat(p, &st) == 0;
	free(p);
	return yes;
}

static int upload_file_cmp(const void *key, const void *elem)
{
	const struct ms_file *f = elem;

	return strcmp(key, f->repo_path);
}

static bool upload_under_prefix(const char *prefix, const char *path)
{
	size_t pl = strlen(prefix);

	if (pl == 0)
		return true;
	return strncmp(path, prefix, pl) == 0 && path[pl] == '/';
}

static double upload_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool upload_same(const struct ms_file *f,
			const struct http_remote_file *r)
{
	return r != NULL && r->size == f->size && r->sha256[0] != '\0' &&
	       strcmp(r->sha256, f->sha256) == 0;
}

static int upload_verify(struct http_ctx *c, const struct ms_upload *req,
			 const char *owner, const char *name,
			 const char *revision,
			 const struct http_action *dels, size_t n_dels)
{
	const struct ms_host *h = c->host;
	const struct http_remote_file *r;
	struct http_remote rem;
	size_t i, bad = 0, unhashed = 0;
	bool found;
	int rc;

	rc = http_remote_list(c, owner, name, revision, &rem, &found);
	if (rc != MS_OK)
		return rc;
	for (i = 0; i < req->n_files; i++) {
		const struct ms_file *f = &req->files[i];

		r = http_remote_find(&rem, f->repo_path);
		if (upload_same(f, r))
			continue;
		if (r != NULL && r->sha256[0] == '\0' && r->size == f->size) {
			/* a hub that lists no Sha256: presence and size */
			unhashed++;
			continue;
		}
		if (bad++ == 0) {
			if (r == NULL)
				rc = h->error(h, MS_EPROTO,
					      "verification failed: \"%s\" is "
					      "not on the hub after the commit",
					      f->repo_path);
			else
				rc = h->error(h, MS_EPROTO,
					      "verification failed: \"%s\" on "
					      "the hub has %llu bytes, sha256 "
					      "%s; sent %llu bytes, sha256 %s",
					      f->repo_path,
					      (unsigned long long)r->size,
					      r->sha256[0] ? r->sha256 : "?",
					      (unsigned long long)f->size,
					      f->sha256);
		}
	}
	for (i = 0; i < n_dels; i++) {
		if (http_remote_find(&rem, dels[i].path) == NULL)
			continue;
		if (bad++ == 0)
			rc = h->error(h, MS_EPROTO,
				      "verification failed: \"%s\" is still "
				      "on the hub after its deletion",
				      dels[i].path);
	}
	if (bad == 0 && unhashed == 0)
		h->log(h, MS_LOG_INFO,
		       "Verified %zu file%s on the hub (path, size, sha256).",
		       req->n_files, req->n_files == 1 ? "" : "s");
	else if (bad == 0)
		h->log(h, MS_LOG_WARN,
		       "Verified %zu file%s on the hub; for %zu of them the "
		       "hub lists no SHA-256, so only path and size were "
		       "compared", req->n_files, req->n_files == 1 ? "" : "s",
		       unhashed);
	else if (bad > 1)
		h->log(h, MS_LOG_ERROR, "verification: %zu files differ", bad);
	http_remote_free(&rem);
	return rc;
}

/* Request counters for --json ("http": {...}) and --verbose. */
static void upload_report(struct http_ctx *c, int rc)
{
	const struct ms_host *h = c->host;
	struct msnet_stats st;
	char json[160];

	if (c->net == NULL)
		return;
	msnet_stats(c->net, &st);
	h->log(h, MS_LOG_VERBOSE, "%llu HTTP request%s (%llu retr%s)",
	       (unsigned long long)st.requests, st.requests == 1 ? "" : "s",
	       (unsigned long long)st.retries, st.retries == 1 ? "y" : "ies");
	if (rc != MS_OK && rc != MS_ECANCELED)
		return;
	snprintf(json, sizeof(json), "{\"requests\":%llu,\"retries\":%llu}",
		 (unsigned long long)st.requests,
		 (unsigned long long)st.retries);
	h->report_json(h, "http", json);
}

int http_upload_folder(struct http_ctx *c, const struct ms_upload *req,
		       struct ms_upload_result *out)
{
	const struct ms_host *h = c->host;
	struct http_remote rem = { 0 };
	struct http_action *acts = NULL, *dels = NULL;
	struct upload_pool pool;
	const struct ms_file **lfs = NULL;
	char **hrefs = NULL;
	char owner[256], name[256], msg[1024], cid[65];
	const char *message, *revision;
	size_t n_send = 0, n_dels = 0, n_lfs = 0, i, j, s0, e0, n_cpus;
	size_t batch, n_batches, first, cnt;
	uint64_t inline_bytes = 0, blob_bytes = 0, committed_bytes = 0;
	double t0 = upload_now();
	bool created = false, found = false;
	int rc;

	memset(&pool, 0, sizeof(pool));
	revision = req->revision && req->revision[0] ? req->revision :
						       "master";
	message = req->commit_message && req->commit_message[0] ?
		req->commit_message : "Upload folder";
	out->files_total = req->n_files;
	rc = upload_split_repo(h, req->repo_id, owner, sizeof(owner), name,
			       sizeof(name));
	if (rc != MS_OK)
		return rc;
	rc = upload_check_revision(h, revision);
	if (rc != MS_OK)
		return rc;
	rc = http_net(c, req->endpoint, req->token);
	if (rc != MS_OK)
		return rc;
	if (snprintf(out->repo_url, sizeof(out->repo_url), "%s/models/%s/%s",
		     msnet_endpoint(c->net), owner, name) >=
	    (int)sizeof(out->repo_url))
		out->repo_url[0] = '\0';
	if (req->token == NULL || req->token[0] == '\0')
		return h->error(h, MS_EAUTH,
				"no token: uploading to %s needs one; pass "
				"--token or set MODELSCOPE_API_TOKEN (create "
				"a token on the website)",
				msnet_endpoint(c->net));

	/*
	 * The listing first: when it answers, the repository exists and
	 * one request is saved; a 404 means no repository or no revision.
	 */
	rc = http_remote_list(c, owner, name, revision, &rem, &found);
	if (rc != MS_OK)
		goto out;
	if (found) {
		h->log(h, MS_LOG_INFO, "Repository %s/%s exists.", owner,
		       name);
	} else {
		rc = http_repo_ensure(c, owner, name, &created);
		if (rc != MS_OK)
			goto out;
		out->repo_created = created;
	}
	acts = calloc(req->n_files + rem.n + 1, sizeof(*acts));
	dels = calloc(rem.n + 1, sizeof(*dels));
	lfs = calloc(req->n_files + 1, sizeof(*lfs));
	hrefs = calloc(UPLOAD_BATCH_OBJECTS, sizeof(*hrefs));
	if (acts == NULL || dels == NULL || lfs == NULL || hrefs == NULL ||
	    upload_pool_init(&pool, c, req->n_files, req->jobs) != MS_OK) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}

	/*
	 * Hash in chunks (at most 64 new LFS files or UPLOAD_CHUNK_BYTES
	 * of them), then compare the chunk with the listing, batch-check
	 * its LFS objects and queue their PUTs: the workers send one chunk
	 * while the next is being hashed.  The core's cache makes a re-run
	 * hash nothing.
	 */
	n_cpus = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? (size_t)sysconf(_SC_NPROCESSORS_ONLN) : 1;
	for (s0 = 0; s0 < req->n_files; s0 = e0) {
		size_t k0 = n_lfs, n_new = 0;
		uint64_t chunk_bytes = 0;

		for (e0 = s0; e0 < req->n_files; e0++) {
			const struct ms_file *f = &req->files[e0];

			if (!f->lfs || f->hashed)
				continue;
			/* at least one file per core, so hashing uses them all */
			if (n_new == UPLOAD_BATCH_OBJECTS ||
			    (n_new >= n_cpus &&
			     chunk_bytes + f->size > UPLOAD_CHUNK_BYTES))
				break;
			n_new++;
			chunk_bytes += f->size;
		}
		if (mspool_stopped(&pool.q) || h->cancelled(h))
			break;
		rc = h->hash_files(h, req->files + s0, e0 - s0, 0);
		if (rc != MS_OK)
			goto out;
		for (i = s0; i < e0; i++) {
			const struct ms_file *f = &req->files[i];

			if (upload_same(f,
					http_remote_find(&rem, f->repo_path))) {
				out->files_unchanged++;
				continue;
			}
			acts[n_send].file = f;
			acts[n_send].path = f->repo_path;
			n_send++;
			if (!f->lfs) {
				inline_bytes += f->size;
				continue;
			}
			/* one batch entry per distinct object */
			for (j = 0; j < n_lfs; j++)
				if (strcmp(lfs[j]->sha256, f->sha256) == 0)
					break;
			if (j == n_lfs)
				lfs[n_lfs++] = f;
		}
		/* LFS batch check, at most 64 objects per request */
		for (i = k0; i < n_lfs; i += UPLOAD_BATCH_OBJECTS) {
			size_t put = 0, had = 0;

			cnt = n_lfs - i;
			if (cnt > UPLOAD_BATCH_OBJECTS)
				cnt = UPLOAD_BATCH_OBJECTS;
			rc = http_lfs_batch(c, owner, name, lfs + i, cnt,
					    hrefs);
			if (rc != MS_OK)
				goto out;
			for (j = 0; j < cnt; j++) {
				if (hrefs[j] == NULL) {
					had++;
					continue;
				}
				upload_pool_add(&pool, lfs[i + j], hrefs[j]);
				hrefs[j] = NULL;
				put++;
			}
			out->blobs_skipped += had;
			h->log(h, MS_LOG_INFO,
			       "LFS: %zu blob%s to upload, %zu already on "
			       "the hub.", put, put == 1 ? "" : "s", had);
		}
	}

	/* every blob is on the hub before anything is committed */
	rc = mspool_finish(&pool.q); /* MS_ECANCELED after a Ctrl-C */
	if (rc != MS_OK)
		goto out;
	out->blobs_uploaded = mspool_queued(&pool.q);
	blob_bytes = atomic_load(&pool.bytes_sent);

	if (req->delete_remote) {
		for (i = 0; i < rem.n; i++) {
			const char *p = rem.files[i].path;
			bool local = false;

			if (!upload_under_prefix(req->path_in_repo, p))
				continue;
			if (strcmp(p, ".gitattributes") == 0)
				continue; /* the hub's own; never orphaned */
			local = bsearch(p, req->files, req->n_files,
					sizeof(*req->files),
					upload_file_cmp) != NULL;
			/* excluded by a pattern but present: keep it */
			if (!local && !upload_exists_locally(req, p)) {
				dels[n_dels].file = NULL;
				dels[n_dels].path = p;
				n_dels++;
			}
		}
	}
	if (n_send == 0 && n_dels == 0) {
		out->up_to_date = true;
		h->log(h, MS_LOG_INFO, "Nothing to upload: %s is up to date.",
		       req->repo_id);
		rc = MS_OK;
		goto out;
	}
	h->log(h, MS_LOG_INFO,
	       "%zu of %zu file%s to commit (%llu unchanged on the hub), "
	       "%zu remote file%s to delete.",
	       n_send, req->n_files, req->n_files == 1 ? "" : "s",
	       (unsigned long long)out->files_unchanged, n_dels,
	       n_dels == 1 ? "" : "s");

	/* commits last, in sorted batches; deletions ride in the last one */
	for (i = 0; i < n_dels; i++)
		acts[n_send + i] = dels[i];
	batch = n_send ? ms_commit_batch_size(n_send) : 1;
	n_batches = n_send ? (n_send + batch - 1) / batch : 1;
	for (i = 0; i < n_batches; i++) {
		struct ms_progress pr;

		if (h->cancelled(h)) {
			rc = MS_ECANCELED;
			goto out;
		}
		first = i * batch;
		cnt = first + batch > n_send ? n_send - first : batch;
		if (i + 1 == n_batches)
			cnt += n_dels;
		for (j = first; j < first + cnt; j++) {
			if (acts[j].file == NULL)
				continue;
			rc = h->check_unchanged(h, acts[j].file);
			if (rc != MS_OK)
				goto out;
		}
		if (n_batches > 1)
			snprintf(msg, sizeof(msg), "%s (batch %zu/%zu)",
				 message, i + 1, n_batches);
		else
			snprintf(msg, sizeof(msg), "%s", message);
		memset(&pr, 0, sizeof(pr));
		pr.struct_size = sizeof(pr);
		pr.phase = "committing";
		pr.bytes_done = committed_bytes;
		pr.bytes_total = inline_bytes;
		pr.files_done = (uint32_t)out->files_sent;
		pr.files_total = (uint32_t)n_send;
		h->progress(h, &pr);
		rc = http_commit(c, owner, name, revision, msg, acts + first,
				 cnt, cid);
		if (rc != MS_OK) {
			if (out->n_commits > 0)
				h->log(h, MS_LOG_ERROR,
				       "%u of %zu batch commits landed before "
				       "this failure; run again to finish",
				       out->n_commits, n_batches);
			goto out;
		}
		if (out->n_commits < MS_RESULT_MAX_COMMITS)
			snprintf(out->commit_ids[out->n_commits], 65, "%s",
				 cid);
		out->n_commits++;
		for (j = first; j < first + cnt; j++) {
			if (acts[j].file == NULL) {
				out->files_deleted++;
				continue;
			}
			out->files_sent++;
			if (!acts[j].file->lfs)
				committed_bytes += acts[j].file->size;
		}
		h->log(h, MS_LOG_INFO,
		       "Batch %zu/%zu: committed %zu file%s%s%s", i + 1,
		       n_batches, cnt, cnt == 1 ? "" : "s",
		       cid[0] ? ", commit " : "", cid);
	}
	out->bytes_uploaded = blob_bytes + inline_bytes;

	rc = upload_verify(c, req, owner, name, revision, dels, n_dels);
	if (rc != MS_OK)
		goto out;
	h->log(h, MS_LOG_VERBOSE, "upload of %s took %.1f s", req->repo_id,
	       upload_now() - t0);
out:
	/* the workers stop first: none may report or fail after the summary
	 * and the resume message below */
	upload_pool_free(&pool);
	if (out->n_commits > MS_RESULT_MAX_COMMITS) {
		/* commit_ids has room for that many */
		h->log(h, MS_LOG_INFO,
		       "%u commits made; the summary lists the first %d",
		       out->n_commits, MS_RESULT_MAX_COMMITS);
		out->n_commits = MS_RESULT_MAX_COMMITS;
	}
	upload_report(c, rc);
	if (rc == MS_ECANCELED || (rc != MS_OK && h->cancelled(h))) {
		rc = h->error(h, MS_ECANCELED,
			      "interrupted; %s. Run the same command again "
			      "to resume: blobs already on the hub are not "
			      "sent again",
			      out->n_commits ? "earlier batches were "
					       "committed, the rest was not" :
					       "nothing was committed");
	}
	if (out->bytes_uploaded == 0)
		out->bytes_uploaded = blob_bytes;
	if (hrefs != NULL)
		for (i = 0; i < UPLOAD_BATCH_OBJECTS; i++)
			free(hrefs[i]);
	free(hrefs);
	free(lfs);
	free(acts);
	free(dels);
	http_remote_free(&rem);
	return rc;
}
