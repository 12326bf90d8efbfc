/* SPDX-License-Identifier: MIT */
/*
 * mspublish: argv -> settings -> folder walk -> backend -> exit status.
 * The only place that prints fatal errors and picks the exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "credentials.h"
#include "error.h"
#include "folder.h"
#include "host.h"
#include "loader.h"
#include "log.h"
#include "ms_config.h"
#include "redact.h"
#include "settings.h"

#define FAIL_PREFIX "上传失败"

struct run {
	struct ms_settings *s;
	struct ms_plugin *plugin;
	struct ms_host *host;
	void *self;
	struct ms_filelist *files;
	struct ms_upload_result result;
	double started;
	bool json;
	bool contacted;           /* a network backend was asked to log in */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The token hint helps after an auth failure, or any hub failure without one. */
static bool want_hint(const struct run *r, int rc)
{
	return rc == MS_EAUTH || (r->contacted && !ms_settings_get(r->s, MS_O_TOKEN) &&
				  rc != MS_ECANCELED && rc != MS_ECHANGED && rc != MS_EIO);
}

/* Print @p o as one line on stdout, scrubbed, and free it. */
static void emit_json(cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o), *clean = ms_redact(text ? text : "");

	if (clean)
		printf("%s\n", clean);
	fflush(stdout);
	free(clean);
	cJSON_free(text);
	cJSON_Delete(o);
}

static void print_json(const struct run *r, int rc)
{
	cJSON *o = cJSON_CreateObject(), *commits, *extra;
	const struct ms_upload_result *res = &r->result;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "status", rc ? "error" : "ok");
	if (rc) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddStringToObject(e, "class", ms_error_class(rc));
		cJSON_AddStringToObject(e, "message", ms_error_last());
		if (want_hint(r, rc))
			cJSON_AddStringToObject(e, "hint",
						"set MODELSCOPE_API_TOKEN or pass --token");
	}
	cJSON_AddStringToObject(o, "backend", ms_settings_get(r->s, MS_O_BACKEND));
	if (ms_settings_get(r->s, MS_O_REPO_ID))
		cJSON_AddStringToObject(o, "repo_id", ms_settings_get(r->s, MS_O_REPO_ID));
	if (r->files)
		cJSON_AddStringToObject(o, "folder", r->files->root);
	cJSON_AddStringToObject(o, "endpoint", ms_settings_get(r->s, MS_O_ENDPOINT));
	cJSON_AddStringToObject(o, "revision", ms_settings_get(r->s, MS_O_REVISION));
	cJSON_AddNumberToObject(o, "files", r->files ? (double)r->files->n : 0);
	cJSON_AddNumberToObject(o, "bytes", r->files ? (double)r->files->total_bytes : 0);
	cJSON_AddNumberToObject(o, "files_sent", (double)res->files_sent);
	cJSON_AddNumberToObject(o, "files_unchanged", (double)res->files_unchanged);
	cJSON_AddNumberToObject(o, "files_deleted", (double)res->files_deleted);
	cJSON_AddNumberToObject(o, "blobs_uploaded", (double)res->blobs_uploaded);
	cJSON_AddNumberToObject(o, "blobs_skipped", (double)res->blobs_skipped);
	cJSON_AddNumberToObject(o, "bytes_uploaded", (double)res->bytes_uploaded);
	commits = cJSON_AddArrayToObject(o, "commits");
	for (uint32_t i = 0; i < res->n_commits && i < MS_RESULT_MAX_COMMITS; i++)
		cJSON_AddItemToArray(commits, cJSON_CreateString(res->commit_ids[i]));
	cJSON_AddBoolToObject(o, "up_to_date", res->up_to_date);
	cJSON_AddBoolToObject(o, "repo_created", res->repo_created);
	if (res->repo_url[0])
		cJSON_AddStringToObject(o, "repo_url", res->repo_url);
	cJSON_AddNumberToObject(o, "warnings", ms_log_warnings());
	cJSON_AddNumberToObject(o, "elapsed_s", (double)(long)((now() - r->started) * 1000) / 1000);
	if (r->host) {
		cJSON_ArrayForEach(extra, ms_host_report(r->host))
			cJSON_AddItemReferenceToObject(o, extra->string, extra);
	}
	emit_json(o);
}

/* The --json object when the settings themselves could not be read. */
static void print_error_json(int rc)
{
	cJSON *o = cJSON_CreateObject(), *e;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "status", "error");
	e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "class", ms_error_class(rc));
	cJSON_AddStringToObject(e, "message", ms_error_last());
	emit_json(o);
}

static void print_summary(const struct run *r)
{
	const struct ms_upload_result *res = &r->result;
	double mib = (double)res->bytes_uploaded / (1024.0 * 1024.0);

	if (ms_log_quiet())
		return;
	ms_out(stdout, "Files: %llu (%llu sent, %llu unchanged, %llu deleted)\n",
	       (unsigned long long)(r->files ? r->files->n : 0),
	       (unsigned long long)res->files_sent, (unsigned long long)res->files_unchanged,
	       (unsigned long long)res->files_deleted);
	ms_out(stdout, "Blobs: %llu uploaded, %llu already on the hub; %.1f MiB sent\n",
	       (unsigned long long)res->blobs_uploaded, (unsigned long long)res->blobs_skipped,
	       mib);
	for (uint32_t i = 0; i < res->n_commits && i < MS_RESULT_MAX_COMMITS; i++)
		ms_out(stdout, "Commit: %s\n", res->commit_ids[i]);
	ms_out(stdout, "Elapsed: %.1f s\n", now() - r->started);
	if (res->repo_url[0])
		ms_out(stdout, "Repository: %s\n", res->repo_url);
}

/* The folder must exist and be a directory; ~ is already expanded. */
static int check_folder(const char *dir)
{
	struct stat st;

	if (!dir || !*dir)
		return ms_error_set(MS_EINVAL,
				    "model folder is not set: pass --model-dir DIR or set MODEL_DIR");
	if (stat(dir, &st))
		return ms_error_set(MS_EINVAL, "model folder \"%s\" does not exist (%s)", dir,
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ms_error_set(MS_EINVAL, "model folder \"%s\" is not a directory", dir);
	return MS_OK;
}

/* Seed behaviour: a folder without these may be a LoRA adapter. */
static void check_model_files(const char *dir)
{
	static const char *const want[] = { "config.json", "tokenizer_config.json" };
	char missing[128] = "";

	for (size_t i = 0; i < 2; i++) {
		char *p;

		if (asprintf(&p, "%s/%s", dir, want[i]) < 0)
			return;
		if (access(p, F_OK))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", missing[0] ? " and " : "", want[i]);
		free(p);
	}
	if (missing[0])
		ms_warn("\"%s\" has no %s: it may be a LoRA adapter; publishing it anyway", dir,
			missing);
}

static int open_backend(struct run *r)
{
	const char *name = ms_settings_get(r->s, MS_O_BACKEND);
	int rc;

	rc = ms_loader_open(&r->plugin, name, ms_settings_get(r->s, MS_O_PLUGIN_DIR));
	if (rc)
		return rc;
	rc = ms_host_new(&r->host, r->s, name);
	if (rc)
		return rc;
	ms_error_clear();
	rc = r->plugin->backend->create(&r->self, r->host);
	if (rc || !r->self) {
		if (!ms_error_last()[0])
			ms_error_set(MS_EABI, "backend \"%s\" (%s) failed to start", name,
				     r->plugin->path);
		return rc ? rc : MS_EABI;
	}
	return MS_OK;
}

/* A setting as the chosen backend sees it: its [backend] section over the
 * general value, env and flags over both (ms_settings_backend_get). */
static const char *setting(const struct run *r, enum ms_opt_id id)
{
	return ms_settings_backend_get(r->s, ms_settings_get(r->s, MS_O_BACKEND),
				       ms_options[id].name);
}

static int do_login(struct run *r, struct ms_identity *who)
{
	struct ms_login req = {
		.struct_size = sizeof(req),
		.endpoint = setting(r, MS_O_ENDPOINT),
		.token = ms_settings_get(r->s, MS_O_TOKEN),
		.token_origin = ms_settings_origin(r->s, MS_O_TOKEN),
	};

	memset(who, 0, sizeof(*who));
	who->struct_size = sizeof(*who);
	return r->plugin->backend->login(r->self, &req, who);
}

static int run_upload(struct run *r)
{
	const char *repo = ms_settings_get(r->s, MS_O_REPO_ID);
	const char *dir = ms_settings_get(r->s, MS_O_MODEL_DIR);
	const char *backend = ms_settings_get(r->s, MS_O_BACKEND);
	struct ms_walk_opts wo = { 0 };
	struct ms_identity who;
	struct ms_upload req;
	bool network;
	int rc;

	rc = ms_settings_check_repo_id(repo);
	if (rc)
		return rc;
	rc = check_folder(dir);
	if (rc)
		return rc;
	rc = ms_loader_check_name(backend);
	if (rc)
		return rc;
	if (ms_log_verbose())
		ms_settings_show(r->s, stderr);
	ms_info("Publishing %s to %s (backend %s, %s, revision %s)", dir, repo, backend,
		setting(r, MS_O_ENDPOINT), setting(r, MS_O_REVISION));
	check_model_files(dir);

	wo.folder = dir;
	wo.path_in_repo = setting(r, MS_O_PATH_IN_REPO);
	/* the walk splits the comma/newline lists itself */
	wo.include = (const char *const[]){ ms_settings_get(r->s, MS_O_INCLUDE), NULL };
	wo.exclude = (const char *const[]){ ms_settings_get(r->s, MS_O_EXCLUDE), NULL };
	rc = ms_folder_walk(&r->files, &wo);
	if (rc)
		return rc;

	rc = open_backend(r);
	if (rc)
		return rc;
	network = r->plugin->backend->caps & MS_CAP_NETWORK;
	if (network && !ms_settings_get(r->s, MS_O_TOKEN))
		ms_warn("no token found (--token, MODELSCOPE_API_TOKEN, MODELSCOPE_TOKEN, "
			"settings file, `mspublish login`); trying without one");
	if (ms_settings_bool(r->s, MS_O_STRICT) && ms_log_warnings())
		return ms_error_set(MS_EINVAL, "--strict: %u warning(s); nothing was sent",
				    ms_log_warnings());
	if (ms_host_interrupted())
		return ms_error_set(MS_ECANCELED, "interrupted before anything was sent");

	r->contacted = network;
	rc = do_login(r, &who);
	if (rc)
		return rc;
	if (who.username[0])
		ms_info("Logged in as %s", who.username);

	memset(&req, 0, sizeof(req));
	req.struct_size = sizeof(req);
	req.endpoint = setting(r, MS_O_ENDPOINT);
	req.token = ms_settings_get(r->s, MS_O_TOKEN);
	req.repo_id = repo;
	req.folder = r->files->root;
	req.path_in_repo = wo.path_in_repo ? wo.path_in_repo : "";
	req.revision = setting(r, MS_O_REVISION);
	req.commit_message = setting(r, MS_O_COMMIT_MESSAGE);
	req.files = r->files->files;
	req.n_files = r->files->n;
	req.jobs = (unsigned)strtoul(setting(r, MS_O_JOBS), NULL, 10);
	req.delete_remote = !strcmp(setting(r, MS_O_DELETE), "true");
	r->result.struct_size = sizeof(r->result);
	rc = r->plugin->backend->upload_folder(r->self, &req, &r->result);
	ms_host_progress_done(r->host);
	if (!rc && ms_host_interrupted())
		rc = ms_error_set(MS_ECANCELED, "interrupted");
	if (rc && !ms_error_last()[0])
		ms_error_set(rc, "backend \"%s\" failed: %s", backend, ms_strerror(rc));
	if (!rc && ms_settings_bool(r->s, MS_O_STRICT) && ms_log_warnings())
		rc = ms_error_set(MS_EINVAL, "--strict: %u warning(s)", ms_log_warnings());
	return rc;
}

/* `mspublish login`: check a token with the backend, then store it. */
static int run_login(struct run *r)
{
	struct ms_identity who;
	char *path = NULL, line[4096];
	const char *origin = ms_settings_origin(r->s, MS_O_TOKEN);
	char *stored = ms_settings_login_path();
	/* the token of an earlier login is what this one replaces */
	bool relogin = origin && stored && strcmp(origin, stored) == 0;
	int rc;

	free(stored);
	if (!ms_settings_get(r->s, MS_O_TOKEN) || relogin) {
		/* no token given: read one line from stdin, never from argv history */
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "Token: ");
		if (!fgets(line, sizeof(line), stdin))
			return ms_error_set(MS_EINVAL,
					    "no token: pass --token, set MODELSCOPE_API_TOKEN or type it on stdin");
		line[strcspn(line, "\r\n")] = '\0';
		ms_redact_add(line);
		/* reuse the settings slot so the normal lookup sees it */
		free(r->s->v[MS_O_TOKEN].value);
		free(r->s->v[MS_O_TOKEN].origin);
		r->s->v[MS_O_TOKEN].value = strdup(line);
		r->s->v[MS_O_TOKEN].origin = strdup("stdin");
		explicit_bzero(line, sizeof(line));
		if (!r->s->v[MS_O_TOKEN].value || !*r->s->v[MS_O_TOKEN].value)
			return ms_error_set(MS_EINVAL, "no token given on stdin");
	}
	rc = open_backend(r);
	if (rc)
		return rc;
	rc = do_login(r, &who);
	if (rc)
		return rc;
	if (!who.authenticated)
		return ms_error_set(MS_EINVAL, "backend \"%s\" cannot check a token; use --backend http",
				    ms_settings_get(r->s, MS_O_BACKEND));
	rc = ms_credentials_write(ms_settings_get(r->s, MS_O_TOKEN), &path);
	if (!rc)
		ms_out(stdout, "Logged in%s%s; token stored in %s (mode 0600)\n",
		       who.username[0] ? " as " : "", who.username, path);
	free(path);
	return rc;
}

static int run_logout(void)
{
	char *path = NULL;
	bool existed = false;
	int rc = ms_credentials_delete(&path, &existed);

	if (!rc && existed)
		ms_out(stdout, "Logged out: %s removed\n", path);
	else if (!rc)
		ms_out(stdout, "Not logged in: no stored login at %s\n",
		       path ? path : "(HOME is not set)");
	free(path);
	return rc;
}

static void run_free(struct run *r)
{
	if (r->plugin && r->self)
		r->plugin->backend->destroy(r->self);
	ms_host_free(r->host);
	ms_loader_close(r->plugin);
	ms_filelist_free(r->files);
	ms_settings_free(r->s);
	ms_redact_reset();
}

/* -h prints one screen; --help prints everything. */
static bool wants_full_help(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help"))
			return true;
	return false;
}

int main(int argc, char *argv[])
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.started = now();
	ms_host_catch_signals();
	rc = ms_settings_load(&r.s, argc, argv);
	if (r.s && ms_settings_get(r.s, MS_O_TOKEN))
		ms_redact_add(ms_settings_get(r.s, MS_O_TOKEN));
	if (rc) {
		/* --json promises one object on stdout, even for bad settings */
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "--json"))
				print_error_json(rc);
		ms_out(stderr, "ERROR: %s\n", ms_error_last());
		run_free(&r);
		return 1;
	}
	r.json = ms_settings_bool(r.s, MS_O_JSON);
	ms_log_setup(ms_settings_bool(r.s, MS_O_QUIET), ms_settings_bool(r.s, MS_O_VERBOSE));

	if (ms_settings_bool(r.s, MS_O_HELP) || ms_settings_bool(r.s, MS_O_VERSION)) {
		if (ms_settings_bool(r.s, MS_O_HELP))
			ms_options_help(wants_full_help(argc, argv));
		else
			printf("mspublish %s (plugin ABI %u)\n", MS_VERSION, MS_PLUGIN_ABI_VERSION);
		run_free(&r);
		return 0;
	}
	if (ms_settings_bool(r.s, MS_O_SHOW_CONFIG)) {
		ms_settings_show(r.s, stdout);
		run_free(&r);
		return 0;
	}
	if (ms_settings_bool(r.s, MS_O_LIST_BACKENDS)) {
		rc = ms_loader_list(stdout, ms_settings_get(r.s, MS_O_PLUGIN_DIR));
		run_free(&r);
		return rc ? 1 : 0;
	}

	if (!strcmp(r.s->command, "login"))
		rc = run_login(&r);
	else if (!strcmp(r.s->command, "logout"))
		rc = run_logout();
	else
		rc = run_upload(&r);

	if (!strcmp(r.s->command, "upload")) {
		if (r.json) {
			print_json(&r, rc);
		} else if (!rc && r.plugin && (r.plugin->backend->caps & MS_CAP_PLAN)) {
			ms_out(stdout, "Dry run finished: nothing was sent.\n");
		} else if (!rc) {
			print_summary(&r);
			ms_out(stdout, "Upload finished.\n");
		}
		if (rc) {
			ms_host_progress_done(r.host);
			ms_out(stderr, "ERROR: " FAIL_PREFIX ": %s\n", ms_error_last());
			if (want_hint(&r, rc))
				ms_out(stderr,
				       "hint: set MODELSCOPE_API_TOKEN (or MODELSCOPE_TOKEN) or pass --token\n");
			if (rc == MS_ECANCELED)
				ms_out(stderr,
				       "Nothing was committed. Run the same command again to resume: "
				       "blobs already sent are not sent again.\n");
		}
	} else if (rc) {
		ms_out(stderr, "ERROR: %s\n", ms_error_last());
	}
	run_free(&r);
	return rc ? 1 : 0;
}
