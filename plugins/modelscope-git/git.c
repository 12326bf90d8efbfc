/* SPDX-License-Identifier: MIT */
/* The git backend: the vtable, login, and upload_folder (fetch, build the
 * tree in a private bare cache repo, LFS objects first, then the push). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "git.h"
#include "hub.h"
#include "net.h"

struct msgit_backend {
	const struct ms_host *host;
	char *git_token;       /* the hub's git token from login, or NULL */
	struct msnet *hub;     /* the hub's API, from login on */
	char username[128];
	char email[256];
};

static int msgit_create(void **self_out, const struct ms_host *host)
{
	struct msgit_backend *b;

	*self_out = NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return host->error(host, MS_ENOMEM, "out of memory");
	if (git_libgit2_init() < 0) {
		free(b);
		return host->error(host, MS_ERROR, "cannot initialise libgit2");
	}
	/* a cache repo: fsync is not worth its cost; objects are verified
	 * by the hub anyway */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "mspublish-git/" MS_VERSION);
	b->host = host;
	*self_out = b;
	return MS_OK;
}

static void msgit_destroy(void *self)
{
	struct msgit_backend *b = self;

	if (b == NULL)
		return;
	if (b->git_token != NULL) {
		explicit_bzero(b->git_token, strlen(b->git_token));
		free(b->git_token);
	}
	msnet_free(b->hub);
	git_libgit2_shutdown();
	free(b);
}

/* Register a token and the Basic credential that carries it. */
static void msgit_add_secret(const struct ms_host *h, const char *token)
{
	char *basic;

	if (token == NULL || *token == '\0')
		return;
	h->add_secret(h, token);
	basic = msgit_basic_header(token);
	if (basic != NULL) {
		h->add_secret(h, strchr(basic, ':') + 8); /* after "Basic " */
		explicit_bzero(basic, strlen(basic));
		free(basic);
	}
}

/* The hub's API (login, repo creation) through mscommon: Bearer + cookie
 * to the endpoint only, retries, masked traces. */
static int msgit_hub_net(struct msgit_backend *b, const char *endpoint,
			 const char *token)
{
	struct msnet_opts o;

	if (b->hub != NULL)
		return MS_OK;
	memset(&o, 0, sizeof(o));
	o.host = b->host;
	o.endpoint = endpoint;
	o.token = token;
	o.retries = msnet_config_uint(b->host, "retries", 5);
	o.timeout_s = msnet_config_uint(b->host, "timeout", 60);
	o.tag = "git";
	return msnet_new(&b->hub, &o);
}

static int msgit_login(void *self, const struct ms_login *req,
		       struct ms_identity *who_out)
{
	struct msgit_backend *b = self;
	struct mshub_login l;
	int rc;

	msgit_add_secret(b->host, req->token);
	rc = msgit_hub_net(b, req->endpoint, req->token);
	if (rc != MS_OK)
		return rc;
	/* no token: nothing to check here; a public fetch may still work
	 * and the push will say what is missing.  A hub without the login
	 * call is not an error either: the push will tell. */
	rc = mshub_login(b->hub, req->token, req->token_origin, true, &l);
	if (rc == MS_OK && l.authenticated) {
		snprintf(b->username, sizeof(b->username), "%s", l.username);
		snprintf(b->email, sizeof(b->email), "%s", l.email);
		if (who_out != NULL) {
			snprintf(who_out->username, sizeof(who_out->username),
				 "%s", l.username);
			who_out->authenticated = true;
		}
		if (l.git_token != NULL) {
			/* also as the Basic credential that carries it */
			msgit_add_secret(b->host, l.git_token);
			if (b->git_token != NULL) {
				explicit_bzero(b->git_token, strlen(b->git_token));
				free(b->git_token);
			}
			b->git_token = l.git_token;
			l.git_token = NULL;
		}
	}
	mshub_login_clear(&l);
	return rc;
}

/* Create repo_id ("owner/name", checked by the core) on the hub. */
static int msgit_create_named(struct msgit_backend *b, const char *repo_id,
			      bool *created_out)
{
	const char *slash = strchr(repo_id, '/');
	char *owner = strndup(repo_id, slash != NULL ? (size_t)(slash - repo_id)
						    : strlen(repo_id));
	int rc;

	if (owner == NULL)
		return b->host->error(b->host, MS_ENOMEM, "out of memory");
	rc = mshub_create_model(b->hub, owner, slash != NULL ? slash + 1 : "",
				created_out);
	free(owner);
	return rc;
}

/* $cache/git/<remote URL made into one safe file name> */
static char *msgit_cache_path(const struct ms_host *h, const char *url)
{
	const char *base = h->cache_dir(h);
	const char *u = strstr(url, "://");
	char *out, *p;
	size_t n;

	if (base == NULL)
		return NULL;
	u = u != NULL ? u + 3 : url;
	n = strlen(base) + strlen(u) + 8;
	out = malloc(n);
	if (out == NULL)
		return NULL;
	snprintf(out, n, "%s/git/", base);
	p = out + strlen(out);
	for (; *u != '\0'; u++)
		*p++ = (char)((*u >= 'a' && *u <= 'z') ||
			      (*u >= 'A' && *u <= 'Z') ||
			      (*u >= '0' && *u <= '9') || *u == '.' ||
			      *u == '-' ? *u : '_');
	*p = '\0';
	return out;
}

static int msgit_mkdirs(const char *path)
{
	char *tmp = strdup(path), *p;
	int rc = 0;

	if (tmp == NULL)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(tmp);
	return rc;
}

/*
 * No delta search when packing for a push: model files are not deltas of
 * each other, and libgit2 would spend seconds per thousand small files on
 * it.  libgit2 1.5 takes the "big file" limit (objects above it are never
 * deltified) from pack.deltaCacheSize, later versions from
 * pack.bigFileThreshold: set both.  Only pack settings, no credentials.
 */
static void msgit_tune_cache(const struct ms_host *h, git_repository *repo)
{
	static const char *const keys[] = {"pack.deltaCacheSize",
					   "pack.bigFileThreshold", NULL};
	git_config *cfg = NULL;
	int64_t v;
	size_t i;

	if (git_repository_config(&cfg, repo) < 0)
		goto out;
	for (i = 0; keys[i] != NULL; i++) {
		if (git_config_get_int64(&v, cfg, keys[i]) == 0 && v == 1)
			continue;
		if (git_config_set_int64(cfg, keys[i], 1) < 0)
			h->log(h, MS_LOG_VERBOSE, "cannot set %s in the cache "
			       "repository", keys[i]);
	}
out:
	git_error_clear();
	git_config_free(cfg);
}

static int msgit_open_cache(struct msgit_target *t, git_repository **out)
{
	const struct ms_host *h = t->host;
	char *path = msgit_cache_path(h, t->url);
	int gerr, rc = MS_OK;

	*out = NULL;
	if (path == NULL)
		return h->error(h, MS_EIO, "no cache directory for the git "
				"backend (set XDG_CACHE_HOME or HOME)");
	if (msgit_mkdirs(path) < 0) {
		rc = h->error(h, MS_EIO, "cannot create \"%s\": %s", path,
			      strerror(errno));
		goto out;
	}
	gerr = git_repository_open_bare(out, path);
	if (gerr < 0)
		gerr = git_repository_init(out, path, 1);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot open the cache repository");
		goto out;
	}
	msgit_tune_cache(h, *out);
	h->log(h, MS_LOG_VERBOSE, "cache repository: %s", path);
out:
	free(path);
	return rc;
}

/* Hash the LFS files (pointer oids) through the host's cache. */
static int msgit_hash_lfs(const struct ms_host *h, const struct ms_upload *req)
{
	struct ms_file *tmp;
	size_t i, n = 0, k = 0;
	int rc;

	for (i = 0; i < req->n_files; i++)
		if (req->files[i].lfs && !req->files[i].hashed &&
		    req->files[i].size > 0)
			n++;
	if (n == 0)
		return MS_OK;
	tmp = calloc(n, sizeof(*tmp));
	if (tmp == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	for (i = 0; i < req->n_files; i++)
		if (req->files[i].lfs && !req->files[i].hashed &&
		    req->files[i].size > 0)
			tmp[k++] = req->files[i];
	rc = h->hash_files(h, tmp, n, req->jobs);
	k = 0;
	for (i = 0; rc == MS_OK && i < req->n_files; i++)
		if (req->files[i].lfs && !req->files[i].hashed &&
		    req->files[i].size > 0)
			req->files[i] = tmp[k++];
	free(tmp);
	return rc;
}

static int msgit_signature(struct msgit_backend *b, git_signature **out)
{
	char email[300];

	if (b->username[0] == '\0')
		return git_signature_now(out, "mspublish",
					 "mspublish@localhost");
	if (b->email[0] != '\0')
		snprintf(email, sizeof(email), "%s", b->email);
	else
		snprintf(email, sizeof(email), "%s@users.noreply.localhost",
			 b->username);
	return git_signature_now(out, b->username, email);
}

/*
 * The LFS files whose pointers the new commit adds or changes, as batch
 * objects.  Pointers the remote tree already has name objects the hub has
 * accepted before; only new ones need the batch API.
 */
static int msgit_lfs_objects(const struct ms_host *h,
			     const struct ms_upload *req, const bool *changed,
			     struct msgit_lfs_obj **out, size_t *n_out)
{
	struct msgit_lfs_obj *objs;
	size_t i, n = 0;

	*out = NULL;
	*n_out = 0;
	objs = calloc(req->n_files + 1, sizeof(*objs));
	if (objs == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	for (i = 0; i < req->n_files; i++) {
		const struct ms_file *f = &req->files[i];

		if (!f->lfs || f->size == 0 || !changed[i] ||
		    strcmp(f->repo_path, ".gitattributes") == 0)
			continue;
		objs[n++].file = f;
	}
	*out = objs;
	*n_out = n;
	return MS_OK;
}

/* "scheme://user[:pass]@host/...": credentials in a URL. */
static bool msgit_has_userinfo(const char *url)
{
	const char *p = strstr(url, "://");
	size_t auth;

	if (p == NULL)
		return false;
	p += 3;
	auth = strcspn(p, "/?#");
	return memchr(p, '@', auth) != NULL;
}

/* --json: what only the git route knows, under "git". */
static void msgit_report(const struct ms_host *h, const struct msgit_target *t,
			 const git_oid *parent, const char *commit,
			 int rebuilds, uint64_t pack_bytes)
{
	char phex[GIT_OID_HEXSZ + 1];
	cJSON *o = cJSON_CreateObject();
	char *txt;

	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "remote", t->url);
	cJSON_AddStringToObject(o, "branch", t->revision);
	cJSON_AddStringToObject(o, "commit", commit);
	if (parent != NULL) {
		git_oid_tostr(phex, sizeof(phex), parent);
		cJSON_AddStringToObject(o, "parent", phex);
	} else {
		cJSON_AddNullToObject(o, "parent");
	}
	cJSON_AddNumberToObject(o, "rebuilds", rebuilds);
	cJSON_AddNumberToObject(o, "pack_bytes", (double)pack_bytes);
	txt = cJSON_PrintUnformatted(o);
	if (txt != NULL)
		h->report_json(h, "git", txt);
	free(txt);
	cJSON_Delete(o);
}

static int msgit_upload_folder(void *self, const struct ms_upload *req,
			       struct ms_upload_result *res)
{
	struct msgit_backend *b = self;
	const struct ms_host *h = b->host;
	const char *git_url = h->config_get(h, "git-url");
	struct msgit_target t;
	struct msgit_build bld;
	struct msgit_lfs_obj *objs = NULL;
	struct msgit_lfs_stats ls, ls2;
	git_repository *repo = NULL;
	git_commit *tip_commit = NULL;
	git_tree *new_tree = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_oid tip, commit_id, empty_tree;
	char hex[GIT_OID_HEXSZ + 1];
	size_t n_objs = 0, i;
	bool exists, rejected, created = false, tried_create = false;
	bool *changed = NULL;
	struct msgit_statcache *stat = NULL;
	int attempt, rc, gerr;

	memset(&t, 0, sizeof(t));
	memset(&ls, 0, sizeof(ls));
	t.host = h;
	t.revision = req->revision != NULL && *req->revision ?
		req->revision : "master";
	if (snprintf(t.refname, sizeof(t.refname), "refs/heads/%s",
		     t.revision) >= (int)sizeof(t.refname))
		return h->error(h, MS_EINVAL, "revision \"%s\" is too long",
				t.revision);
	t.retries = msnet_config_uint(h, "retries", 5);
	t.timeout_s = msnet_config_uint(h, "timeout", 60);
	t.force = msnet_config_bool(h, "force", false);
	t.token_used = -1;
	t.tokens[0] = req->token != NULL && *req->token ? req->token : NULL;
	t.tokens[1] = b->git_token;
	if (t.tokens[0] == NULL) {
		t.tokens[0] = t.tokens[1];
		t.tokens[1] = NULL;
	}
	msgit_add_secret(h, req->token);
	msgit_add_secret(h, b->git_token);
	if (git_url != NULL && *git_url)
		t.url = strdup(git_url);
	else if (asprintf(&t.url, "%s/%s.git", req->endpoint,
			  req->repo_id) < 0)
		t.url = NULL;
	if (t.url == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	if (msgit_has_userinfo(t.url)) {
		rc = h->error(h, MS_EINVAL, "--git-url must not carry "
			      "credentials; give the token with --token");
		goto out;
	}
	res->files_total = req->n_files;
	snprintf(res->repo_url, sizeof(res->repo_url), "%s", t.url);
	rc = msgit_open_cache(&t, &repo);
	if (rc != MS_OK)
		goto out;
	stat = msgit_statcache_load(git_repository_path(repo));
	if (stat == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	rc = msgit_hash_lfs(h, req);
	if (rc != MS_OK)
		goto out;
	changed = calloc(req->n_files + 1, sizeof(*changed));
	if (changed == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		git_commit_free(tip_commit);
		tip_commit = NULL;
		git_tree_free(new_tree);
		new_tree = NULL;
		rc = msgit_fetch_tip(&t, repo, &tip, &exists);
		if (rc == MS_ENOTFOUND && !tried_create) {
			tried_create = true;
			if (msnet_config_bool(h, "no-create", false)) {
				rc = h->error(h, MS_ENOTFOUND, "%s does not "
					      "exist on the hub (and "
					      "--no-create was given)",
					      req->repo_id);
				goto out;
			}
			rc = msgit_hub_net(b, req->endpoint, req->token);
			if (rc == MS_OK)
				rc = msgit_create_named(b, req->repo_id,
							&created);
			if (rc != MS_OK)
				goto out;
			res->repo_created = created;
			rc = msgit_fetch_tip(&t, repo, &tip, &exists);
		}
		if (rc != MS_OK)
			goto out;
		memset(&bld, 0, sizeof(bld));
		memset(changed, 0, (req->n_files + 1) * sizeof(*changed));
		bld.req = req;
		bld.repo = repo;
		bld.changed = changed;
		bld.stat = stat;
		msgit_statcache_restart(stat);
		if (exists) {
			gerr = git_commit_lookup(&tip_commit, repo, &tip);
			if (gerr == 0)
				gerr = git_commit_tree(&bld.base, tip_commit);
			if (gerr < 0) {
				rc = msgit_fail(&t, gerr, "cannot read the "
						"remote commit");
				goto out;
			}
			git_oid_cpy(&t.expected_tip, &tip);
		} else {
			memset(&t.expected_tip, 0, sizeof(t.expected_tip));
			h->log(h, MS_LOG_VERBOSE, "branch %s does not exist on "
			       "the hub yet", t.revision);
		}
		rc = msgit_tree_build(&t, &bld);
		if (rc == MS_OK)
			msgit_statcache_save(stat, h);
		git_odb_hash(&empty_tree, "", 0, GIT_OBJECT_TREE);
		if (rc == MS_OK &&
		    ((exists && git_oid_equal(&bld.tree_id,
					      git_tree_id(bld.base))) ||
		     (!exists && git_oid_equal(&bld.tree_id, &empty_tree)))) {
			git_tree_free(bld.base);
			h->log(h, MS_LOG_INFO, "Nothing to upload: %s is up to "
			       "date.", req->repo_id);
			res->up_to_date = true;
			res->files_unchanged = bld.files_unchanged;
			rc = MS_OK;
			goto out;
		}
		git_tree_free(bld.base);
		if (rc != MS_OK)
			goto out;
		/* the files must still be what was hashed and read */
		for (i = 0; i < req->n_files; i++) {
			rc = h->check_unchanged(h, &req->files[i]);
			if (rc != MS_OK)
				goto out;
		}
		/* every object confirmed before any ref moves (again after a
		 * rebuild: the server skips what it has) */
		free(objs);
		memset(&ls2, 0, sizeof(ls2));
		rc = msgit_lfs_objects(h, req, changed, &objs, &n_objs);
		if (rc == MS_OK)
			rc = msgit_lfs_upload(&t, objs, n_objs, req->jobs,
					      &ls2);
		if (rc != MS_OK)
			goto out;
		/* objects sent by the first attempt count as uploaded, not
		 * as found on the hub by the second */
		ls2.skipped = ls2.skipped > ls.uploaded ?
			ls2.skipped - ls.uploaded : 0;
		ls.uploaded += ls2.uploaded;
		ls.bytes += ls2.bytes;
		ls.skipped = ls2.skipped;
		gerr = git_tree_lookup(&new_tree, repo, &bld.tree_id);
		if (gerr == 0)
			gerr = msgit_signature(b, &sig);
		if (gerr == 0) {
			const git_commit *parents[1] = {tip_commit};

			gerr = git_commit_create(&commit_id, repo, NULL, sig,
						 sig, NULL,
						 req->commit_message != NULL &&
						 *req->commit_message ?
						 req->commit_message :
						 "upload model folder",
						 new_tree, exists ? 1 : 0,
						 parents);
		}
		git_signature_free(sig);
		sig = NULL;
		if (gerr == 0)
			gerr = git_reference_create(&ref, repo, t.refname,
						    &commit_id, 1,
						    "mspublish: commit");
		git_reference_free(ref);
		ref = NULL;
		if (gerr < 0) {
			rc = msgit_fail(&t, gerr, "cannot write the commit");
			goto out;
		}
		if (h->cancelled(h)) {
			rc = h->error(h, MS_ECANCELED, "cancelled before the "
				      "push; nothing was changed on the hub");
			goto out;
		}
		h->log(h, MS_LOG_INFO, "Pushing %llu changed and %llu deleted "
		       "file(s) to %s (%s)",
		       (unsigned long long)bld.files_sent,
		       (unsigned long long)bld.files_deleted, req->repo_id,
		       t.revision);
		rc = msgit_push_branch(&t, repo, &rejected);
		if (rc == MS_OK)
			break;
		/* restore the local branch to what the hub has */
		if (exists)
			git_reference_create(&ref, repo, t.refname, &tip, 1,
					     "mspublish: reset");
		git_reference_free(ref);
		ref = NULL;
		if (!rejected || attempt > 0) {
			if (rejected)
				rc = h->error(h, MS_ECONFLICT, "%s moved on "
					      "the hub twice while "
					      "publishing; run again (or "
					      "--force)", t.revision);
			goto out;
		}
		h->log(h, MS_LOG_WARN, "%s moved on the hub while publishing; "
		       "fetching it again and rebuilding", t.revision);
	}
	git_oid_tostr(hex, sizeof(hex), &commit_id);
	res->n_commits = 1;
	snprintf(res->commit_ids[0], sizeof(res->commit_ids[0]), "%s", hex);
	res->files_sent = bld.files_sent;
	res->files_unchanged = bld.files_unchanged;
	res->files_deleted = bld.files_deleted;
	res->blobs_uploaded = ls.uploaded;
	res->blobs_skipped = ls.skipped;
	res->bytes_uploaded = ls.bytes + (uint64_t)t.push_bytes;
	h->log(h, MS_LOG_INFO, "Pushed %s to %s (%s)", hex, req->repo_id,
	       t.revision);
	msgit_report(h, &t, exists ? &tip : NULL, hex, attempt,
		     (uint64_t)t.push_bytes);
	rc = MS_OK;
out:
	git_reference_free(ref);
	git_tree_free(new_tree);
	git_commit_free(tip_commit);
	git_repository_free(repo);
	free(objs);
	free(changed);
	msgit_statcache_free(stat);
	free(t.url);
	return rc;
}

static const struct ms_backend msgit_backend_vtable = {
	.abi_version = MS_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(struct ms_backend),
	.name = "git",
	.description = "ModelScope hub through git + git-lfs (libgit2)",
	.caps = MS_CAP_NETWORK | MS_CAP_LFS | MS_CAP_RESUME | MS_CAP_DELETE,
	.create = msgit_create,
	.destroy = msgit_destroy,
	.login = msgit_login,
	.upload_folder = msgit_upload_folder,
};

MS_PLUGIN_EXPORT int ms_plugin_entry(const struct ms_backend **out,
				     uint32_t host_abi_version)
{
	if (host_abi_version != MS_PLUGIN_ABI_VERSION)
		return MS_EABI;
	*out = &msgit_backend_vtable;
	return MS_OK;
}
