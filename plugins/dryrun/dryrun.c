/* SPDX-License-Identifier: MIT */
/* The dryrun backend: prints the plan of an upload and sends nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mspublish/plugin.h"

struct dry {
	const struct ms_host *host;
};

/* Totals of the plan. */
struct dry_totals {
	uint64_t files, bytes;
	uint64_t lfs_files, lfs_bytes;
	uint64_t normal_files, normal_bytes;
	uint64_t cached;
};

static const char *dry_str(const char *s)
{
	return s ? s : "";
}

static bool dry_setting_true(const struct ms_host *h, const char *key)
{
	const char *v = h->config_get(h, key);

	return v && !strcmp(v, "true");
}

static bool dry_has_report_json(const struct ms_host *h)
{
	return h->struct_size >= offsetof(struct ms_host, report_json) +
					 sizeof(h->report_json) &&
	       h->report_json;
}

static int dry_create(void **self_out, const struct ms_host *host)
{
	struct dry *d;

	*self_out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return host->error(host, MS_ENOMEM, "out of memory");
	d->host = host;
	*self_out = d;
	return MS_OK;
}

static void dry_destroy(void *self)
{
	free(self);
}

static int dry_login(void *self, const struct ms_login *req,
		     struct ms_identity *who_out)
{
	(void)self;
	(void)req;
	who_out->authenticated = false;
	who_out->username[0] = '\0';
	return MS_OK;
}

/* The message of commit i (0-based) of n, malloc'd. */
static char *dry_batch_message(const char *msg, size_t i, size_t n)
{
	char *s = NULL;

	if (n <= 1)
		return strdup(msg);
	if (asprintf(&s, "%s (batch %zu/%zu)", msg, i + 1, n) < 0)
		return NULL;
	return s;
}

static int dry_add_number(cJSON *obj, const char *key, double v)
{
	return cJSON_AddNumberToObject(obj, key, v) ? MS_OK : MS_ENOMEM;
}

/*
 * The plan as one JSON document: request facts, every file, the totals and
 * the commits.  Returns malloc'd text or NULL when out of memory.
 */
static char *dry_plan_json(const struct ms_upload *req, bool hashed,
			   const struct dry_totals *t, size_t batch,
			   size_t n_commits, const char *msg)
{
	const struct ms_file *f;
	cJSON *root, *files, *o, *totals, *commits;
	size_t i, first, last;
	char *text = NULL, *m;
	int rc = MS_OK;

	root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (!cJSON_AddStringToObject(root, "backend", "dryrun") ||
	    !cJSON_AddStringToObject(root, "repo_id", dry_str(req->repo_id)) ||
	    !cJSON_AddStringToObject(root, "revision",
				     dry_str(req->revision)) ||
	    !cJSON_AddStringToObject(root, "path_in_repo",
				     dry_str(req->path_in_repo)) ||
	    !cJSON_AddStringToObject(root, "folder", dry_str(req->folder)) ||
	    !cJSON_AddBoolToObject(root, "hashed", hashed))
		goto out;
	files = cJSON_AddArrayToObject(root, "files");
	if (!files)
		goto out;
	for (i = 0; i < req->n_files; i++) {
		f = &req->files[i];
		o = cJSON_CreateObject();
		if (!o)
			goto out;
		cJSON_AddItemToArray(files, o);
		if (!cJSON_AddStringToObject(o, "path", f->repo_path) ||
		    dry_add_number(o, "size", (double)f->size) ||
		    !cJSON_AddStringToObject(o, "mode",
					     f->lfs ? "lfs" : "normal"))
			goto out;
		if (f->hashed &&
		    (!cJSON_AddStringToObject(o, "sha256", f->sha256) ||
		     !cJSON_AddBoolToObject(o, "cached", f->hash_cached)))
			goto out;
	}
	totals = cJSON_AddObjectToObject(root, "totals");
	if (!totals)
		goto out;
	rc = dry_add_number(totals, "files", (double)t->files);
	rc = rc ? rc : dry_add_number(totals, "bytes", (double)t->bytes);
	rc = rc ? rc : dry_add_number(totals, "lfs_files",
				      (double)t->lfs_files);
	rc = rc ? rc : dry_add_number(totals, "lfs_bytes",
				      (double)t->lfs_bytes);
	rc = rc ? rc : dry_add_number(totals, "normal_files",
				      (double)t->normal_files);
	rc = rc ? rc : dry_add_number(totals, "normal_bytes",
				      (double)t->normal_bytes);
	if (hashed)
		rc = rc ? rc : dry_add_number(totals, "hashes_from_cache",
					      (double)t->cached);
	if (rc)
		goto out;
	commits = cJSON_AddArrayToObject(root, "commits");
	if (!commits)
		goto out;
	for (i = 0; i < n_commits; i++) {
		first = i * batch;
		last = first + batch < req->n_files ? first + batch - 1
						    : req->n_files - 1;
		o = cJSON_CreateObject();
		if (!o)
			goto out;
		cJSON_AddItemToArray(commits, o);
		m = dry_batch_message(msg, i, n_commits);
		if (!m)
			goto out;
		if (!cJSON_AddStringToObject(o, "message", m)) {
			free(m);
			goto out;
		}
		free(m);
		if (dry_add_number(o, "files", (double)(last - first + 1)) ||
		    !cJSON_AddStringToObject(o, "first",
					     req->files[first].repo_path) ||
		    !cJSON_AddStringToObject(o, "last",
					     req->files[last].repo_path))
			goto out;
	}
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}

static int dry_upload_folder(void *self, const struct ms_upload *req,
			     struct ms_upload_result *out)
{
	struct dry *d = self;
	const struct ms_host *h = d->host;
	const struct ms_file *f;
	struct dry_totals t = { 0 };
	const char *msg, *json;
	size_t i, batch, n_commits, first, last;
	bool hash;
	char *text, *m;
	int rc;

	hash = dry_setting_true(h, "hash");
	if (hash) {
		/* all cores: "jobs" counts transfers, and we make none */
		rc = h->hash_files(h, req->files, req->n_files, 0);
		if (rc)
			return rc;
	}
	msg = req->commit_message && *req->commit_message
		      ? req->commit_message
		      : "Upload folder";

	h->print(h, "Plan: %zu file(s) to %s, revision %s%s%s%s\n",
		 req->n_files, dry_str(req->repo_id), dry_str(req->revision),
		 *dry_str(req->path_in_repo) ? ", under \"" : "",
		 dry_str(req->path_in_repo),
		 *dry_str(req->path_in_repo) ? "\"" : "");
	for (i = 0; i < req->n_files; i++) {
		f = &req->files[i];
		t.files++;
		t.bytes += f->size;
		if (f->lfs) {
			t.lfs_files++;
			t.lfs_bytes += f->size;
		} else {
			t.normal_files++;
			t.normal_bytes += f->size;
		}
		if (f->hashed && f->hash_cached)
			t.cached++;
		h->print(h, "  %-6s %14" PRIu64 "  %s%s%s\n",
			 f->lfs ? "lfs" : "normal", f->size, f->repo_path,
			 f->hashed ? "  sha256:" : "",
			 f->hashed ? f->sha256 : "");
	}
	h->print(h, "Totals: %" PRIu64 " file(s), %" PRIu64 " bytes; lfs: %"
		    PRIu64 " file(s), %" PRIu64 " bytes; normal: %" PRIu64
		    " file(s), %" PRIu64 " bytes\n",
		 t.files, t.bytes, t.lfs_files, t.lfs_bytes, t.normal_files,
		 t.normal_bytes);

	batch = ms_commit_batch_size(req->n_files);
	n_commits = batch ? (req->n_files + batch - 1) / batch : 0;
	h->print(h, "Commits: %zu (up to %zu file(s) each)\n", n_commits,
		 batch);
	for (i = 0; i < n_commits; i++) {
		first = i * batch;
		last = first + batch < req->n_files ? first + batch - 1
						    : req->n_files - 1;
		m = dry_batch_message(msg, i, n_commits);
		if (!m)
			return h->error(h, MS_ENOMEM, "out of memory");
		h->print(h, "  %zu/%zu \"%s\": %zu file(s), %s .. %s\n",
			 i + 1, n_commits, m, last - first + 1,
			 req->files[first].repo_path,
			 req->files[last].repo_path);
		free(m);
	}
	/* the core closes with "Dry run finished: nothing was sent." */

	json = h->config_get(h, "json");
	if (dry_has_report_json(h) && (!json || !strcmp(json, "true"))) {
		text = dry_plan_json(req, hash, &t, batch, n_commits, msg);
		if (!text)
			return h->error(h, MS_ENOMEM, "out of memory");
		h->report_json(h, "plan", text);
		cJSON_free(text);
	}

	out->files_total = req->n_files;
	out->files_sent = 0;
	out->bytes_uploaded = 0;
	out->n_commits = 0;
	out->up_to_date = false;
	out->repo_created = false;
	return MS_OK;
}

static const struct ms_backend dry_backend = {
	.abi_version = MS_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(struct ms_backend),
	.name = "dryrun",
	.description = "plan an upload (files, lfs/normal, sha256, commits); "
		       "sends nothing",
	.caps = MS_CAP_PLAN,
	.create = dry_create,
	.destroy = dry_destroy,
	.login = dry_login,
	.upload_folder = dry_upload_folder,
};

MS_PLUGIN_EXPORT int ms_plugin_entry(const struct ms_backend **out,
				     uint32_t host_abi_version)
{
	if (host_abi_version != MS_PLUGIN_ABI_VERSION)
		return MS_EABI;
	*out = &dry_backend;
	return MS_OK;
}
