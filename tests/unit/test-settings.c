/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the layered settings (core/settings.c, core/inifile.c,
 * core/credentials.c): defaults < INI [mspublish] < INI [profile X] <
 * environment < flags for every settable key and every pair of layers,
 * backend sections, lists, booleans, INI errors with file:line, the token
 * order, endpoint normalisation, ~ expansion, repo id and path-in-repo checks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials.h"
#include "error.h"
#include "host.h"
#include "log.h"
#include "options.h"
#include "settings.h"
#include "settings-util.h"
#include "tap.h"

/* ---- the layering matrix --------------------------------------------- */

enum layer_bit {
	LB_FILE = 1, /* [mspublish] */
	LB_PROF = 2, /* [profile x], selected with --profile x */
	LB_ENV = 4,
	LB_FLAG = 8
};

static const char *const layer_names[] = { "file", "profile", "env", "flag" };

/*
 * The value a layer sets for option id, as written, and as the settings
 * must report it.  Distinct for every layer and never the default, except
 * visibility (three legal values) and bools (two), where the origin tells.
 */
static void layer_value(enum ms_opt_id id, int layer, const char **raw, const char **want)
{
	static char rbuf[5][8][128];
	static unsigned next;
	const struct ms_option *o = &ms_options[id];
	char *r = rbuf[layer][next++ % 8];
	const char *lname = layer < 4 ? layer_names[layer] : "other";

	switch (o->kind) {
	case MS_OPT_BOOL:
		/* file "On", profile "no", other profile "1"; a flag is "true" */
		*raw = layer == 0 ? "On" : layer == 1 ? "no" : layer == 3 ? NULL : "1";
		*want = layer == 1 ? "false" : "true";
		return;
	case MS_OPT_INT:
		snprintf(r, 128, "%d", 11 + layer);
		break;
	case MS_OPT_LIST:
		snprintf(r, 128, "%s*.bin", lname);
		break;
	case MS_OPT_STRING:
		if (id == MS_O_VISIBILITY)
			snprintf(r, 128, "%s", layer == 0 ? "internal" : layer == 1 ? "public"
					      : layer == 3 ? "private" : "internal");
		else if (id == MS_O_ENDPOINT)
			snprintf(r, 128, "https://%s.example", lname);
		else if (id == MS_O_MODEL_DIR)
			snprintf(r, 128, "/srv/%s-dir", lname);
		else if (id == MS_O_PATH_IN_REPO)
			snprintf(r, 128, "%s/sub", lname);
		else if (id == MS_O_REPO_ID)
			snprintf(r, 128, "%s-owner/model", lname);
		else if (id == MS_O_TOKEN)
			snprintf(r, 128, "ms-%s-token-0123", lname);
		else if (id == MS_O_BACKEND)
			snprintf(r, 128, "%s-backend", lname);
		else
			snprintf(r, 128, "%s value", lname);
		break;
	}
	*raw = r;
	*want = r;
}

static void matrix_case(enum ms_opt_id id, unsigned mask)
{
	const struct ms_option *o = &ms_options[id];
	const char *args[16], *raw[4], *want[4], *other_raw, *other_want;
	const char *exp_value, *exp_origin, *ini = su_path("matrix.ini");
	char text[1024], origin[600], what[64] = "";
	struct ms_settings *s = NULL;
	size_t na = 0;
	int rc, top = -1;

	for (int l = 0; l < 4; l++)
		layer_value(id, l, &raw[l], &want[l]);
	layer_value(id, 4, &other_raw, &other_want);
	su_reset_env();
	/* line 1..6: [mspublish], key?, [profile x], key?, [profile other], key */
	if (o->flags & MS_OPTF_NO_INI) {
		snprintf(text, sizeof(text), "[mspublish]\n");
	} else {
		snprintf(text, sizeof(text),
			 "[mspublish]\n%s%s%s\n[profile x]\n%s%s%s\n[profile other]\n%s = %s\n",
			 mask & LB_FILE ? o->name : "; nothing", mask & LB_FILE ? " = " : "",
			 mask & LB_FILE ? raw[0] : "",
			 mask & LB_PROF ? o->name : "; nothing", mask & LB_PROF ? " = " : "",
			 mask & LB_PROF ? raw[1] : "", o->name, other_raw);
	}
	su_write(ini, 0600, text);
	setenv("MSPUBLISH_CONFIG", ini, 1);
	if (mask & LB_PROF) {
		args[na++] = "--profile";
		args[na++] = "x";
	}
	if (mask & LB_ENV)
		setenv(o->env, raw[2], 1);
	if (mask & LB_FLAG) {
		static char flag[64];

		snprintf(flag, sizeof(flag), "--%s", o->name);
		args[na++] = flag;
		if (o->kind != MS_OPT_BOOL)
			args[na++] = raw[3];
	}
	args[na] = NULL;

	for (int l = 0; l < 4; l++)
		if (mask & (1u << l)) {
			top = l;
			snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%s",
				 what[0] ? "+" : "", layer_names[l]);
		}
	if (top < 0) {
		exp_value = o->def;
		exp_origin = o->def ? "default" : NULL;
		snprintf(what, sizeof(what), "default");
	} else {
		exp_value = want[top];
		if (top == 0 || top == 1) {
			snprintf(origin, sizeof(origin), "%s:%d", ini, top == 0 ? 2 : 4);
			exp_origin = origin;
		} else if (top == 2) {
			exp_origin = o->env;
		} else {
			snprintf(origin, sizeof(origin), "--%s", o->name);
			exp_origin = origin;
		}
	}
	/*
	 * plugin-dir is a search path: every layer that names folders is
	 * searched, the highest first (flag, variable, then the file, where a
	 * profile replaces [mspublish]).
	 */
	if (id == MS_O_PLUGIN_DIR && top >= 0) {
		static char joined[600];

		joined[0] = '\0';
		for (int l = 3; l >= 0; l--) {
			if (!(mask & (1u << l)) || (l == 0 && (mask & LB_PROF)))
				continue;
			snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
				 joined[0] ? ":" : "", want[l]);
		}
		exp_value = joined;
	}
	rc = su_loadv(&s, args);
	ok(rc == MS_OK, "%s [%s]: loads (%s)", o->name, what, ms_error_last());
	if (rc == MS_OK) {
		is_str(ms_settings_get(s, id), exp_value, "%s [%s]: value", o->name, what);
		is_str(ms_settings_origin(s, id), exp_origin, "%s [%s]: origin", o->name, what);
	}
	ms_settings_free(s);
}

static void test_matrix(void)
{
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];

		/* actions and the two options that pick the file are tested apart */
		if ((o->flags & MS_OPTF_ACTION) || i == MS_O_CONFIG || i == MS_O_PROFILE)
			continue;
		for (unsigned mask = 0; mask < 16; mask++) {
			if ((mask & (LB_FILE | LB_PROF)) && (o->flags & MS_OPTF_NO_INI))
				continue;
			if ((mask & LB_ENV) && !o->env)
				continue;
			matrix_case((enum ms_opt_id)i, mask);
		}
	}
}

/* ---- actions, config, profile ---------------------------------------- */

static void test_actions(void)
{
	struct ms_settings *s = NULL;
	int rc;

	su_reset_env();
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];
		char flag[64];

		if (!(o->flags & MS_OPTF_ACTION))
			continue;
		snprintf(flag, sizeof(flag), "--%s", o->name);
		rc = su_load(&s, flag, NULL);
		ok(rc == MS_OK && ms_settings_bool(s, (enum ms_opt_id)i),
		   "action %s is set by its flag", flag);
		is_str(ms_settings_origin(s, (enum ms_opt_id)i), flag, "action %s: origin", flag);
		ms_settings_free(s);
		if (o->short_name) {
			snprintf(flag, sizeof(flag), "-%c", o->short_name);
			rc = su_load(&s, flag, NULL);
			ok(rc == MS_OK && ms_settings_bool(s, (enum ms_opt_id)i),
			   "action --%s is set by %s", o->name, flag);
			ms_settings_free(s);
		}
		rc = su_load(&s, NULL);
		ok(rc == MS_OK && !ms_settings_bool(s, (enum ms_opt_id)i),
		   "action --%s is off unless given", o->name);
		ms_settings_free(s);
	}
	/* short flags of settings */
	rc = su_load(&s, "-b", "git", "-r", "o/n", "-d", "/m", "-t", "tok-short-1",
		     "-m", "msg", "-j", "3", "-q", "-v", NULL);
	ok(rc == MS_OK, "short flags parse");
	is_str(ms_settings_get(s, MS_O_BACKEND), "git", "-b");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "o/n", "-r");
	is_str(ms_settings_get(s, MS_O_MODEL_DIR), "/m", "-d");
	is_str(ms_settings_get(s, MS_O_TOKEN), "tok-short-1", "-t");
	is_str(ms_settings_get(s, MS_O_COMMIT_MESSAGE), "msg", "-m");
	is_str(ms_settings_get(s, MS_O_JOBS), "3", "-j");
	is_str(ms_settings_origin(s, MS_O_JOBS), "--jobs", "-j: origin names the long flag");
	ok(ms_settings_bool(s, MS_O_QUIET) && ms_settings_bool(s, MS_O_VERBOSE), "-q -v");
	is_str(s->command, "upload", "no command word: upload");
	ms_settings_free(s);
	rc = su_load(&s, "--repo-id=o/n", "--jobs=2", NULL);
	ok(rc == MS_OK, "--key=value form parses");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "o/n", "--repo-id=o/n");
	is_str(ms_settings_get(s, MS_O_JOBS), "2", "--jobs=2");
	ms_settings_free(s);
	rc = su_load(&s, "login", "--token", "tok-login-1", NULL);
	ok(rc == MS_OK, "login command parses");
	is_str(s->command, "login", "command: login (not a pointer into argv)");
	is_str(ms_settings_get(s, MS_O_TOKEN), "tok-login-1", "login --token");
	ms_settings_free(s);
	rc = su_load(&s, "logout", NULL);
	ok(rc == MS_OK, "logout command parses");
	is_str(s->command, "logout", "command: logout");
	ms_settings_free(s);
}

static void expect_error(const char *name, const char *want_prefix, const char *want_part,
			 const char *const *args)
{
	struct ms_settings *s = NULL;
	int rc = su_loadv(&s, args);

	ok(rc == MS_EINVAL, "%s: refused with MS_EINVAL (rc %d)", name, rc);
	if (want_prefix)
		ok(!strncmp(ms_error_last(), want_prefix, strlen(want_prefix)),
		   "%s: message starts \"%s\" (got \"%s\")", name, want_prefix, ms_error_last());
	if (want_part)
		ok(strstr(ms_error_last(), want_part) != NULL,
		   "%s: message says \"%s\" (got \"%s\")", name, want_part, ms_error_last());
	ms_settings_free(s);
}

static void test_argv_errors(void)
{
	su_reset_env();
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	expect_error("unknown long flag", NULL, "unknown option \"--bogus\"",
		     (const char *[]){ "--bogus", NULL });
	expect_error("unknown short flag", NULL, "unknown option -x",
		     (const char *[]){ "-x", NULL });
	expect_error("positional argument", NULL, "unexpected argument \"stray\"",
		     (const char *[]){ "--repo-id", "a/b", "stray", NULL });
	expect_error("missing value", NULL, "\"--jobs\" needs a value",
		     (const char *[]){ "--jobs", NULL });
	expect_error("bad int flag", "--jobs 0: ", "1 to 64",
		     (const char *[]){ "--jobs", "0", NULL });
	expect_error("bad int flag (text)", "--retries x: ", "whole number",
		     (const char *[]){ "--retries", "x", NULL });
	expect_error("bad visibility flag", "--visibility secret: ", "private, internal or public",
		     (const char *[]){ "--visibility", "secret", NULL });
	expect_error("bool flag given a value", NULL, "--hash takes no value",
		     (const char *[]){ "--hash=yes", NULL });
	expect_error("unknown --opt=value: the value is not echoed", NULL, "\"--tokn\"",
		     (const char *[]){ "--tokn=ms-secret-value-1", NULL });
	ok(!strstr(ms_error_last(), "ms-secret-value-1"), "unknown --tokn=...: value not in the message");
	expect_error("bad path-in-repo", NULL, "\"..\"",
		     (const char *[]){ "--path-in-repo", "a/../b", NULL });
	expect_error("missing explicit --config", "settings file \"", "(from --config)",
		     (const char *[]){ "--config", su_path("missing.ini"), NULL });
	setenv("MSPUBLISH_CONFIG", su_path("missing-env.ini"), 1);
	expect_error("missing $MSPUBLISH_CONFIG", "settings file \"", "(from MSPUBLISH_CONFIG)",
		     (const char *[]){ NULL });
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	expect_error("missing profile", "profile \"nope\" not found", "/dev/null",
		     (const char *[]){ "--profile", "nope", NULL });
	setenv("MSPUBLISH_PROFILE", "gone", 1);
	expect_error("missing profile from MSPUBLISH_PROFILE", "profile \"gone\" not found", NULL,
		     (const char *[]){ NULL });
	unsetenv("MSPUBLISH_PROFILE");
}

/*
 * After a failed parse in the middle of "-xq", or after "-V", the next load
 * starts clean, with argv freed in between (ms_settings_load resets getopt
 * with optind = 0).
 */
static void test_getopt_core_reset(void)
{
	struct ms_settings *s = NULL;
	char *a0 = strdup("mspublish"), *a1 = strdup("-xq"), *b1 = strdup("--repo-id");
	char *b2 = strdup("a/b"), *c1 = strdup("-V");
	char *av[] = { a0, a1, NULL }, *bv[] = { a0, b1, b2, NULL }, *cv[] = { a0, c1, NULL };
	char *dv[] = { a0, NULL };
	int rc;

	su_reset_env();
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	rc = ms_settings_load(&s, 2, av);
	ok(rc == MS_EINVAL, "core reset: -xq refused");
	ms_settings_free(s);
	free(a1);
	rc = ms_settings_load(&s, 3, bv);
	ok(rc == MS_OK && !ms_settings_bool(s, MS_O_QUIET),
	   "core reset: the stale 'q' of the previous argv is not read");
	ms_settings_free(s);
	rc = ms_settings_load(&s, 2, cv);
	ms_settings_free(s);
	free(c1);
	rc = ms_settings_load(&s, 1, dv);
	ok(rc == MS_OK && !ms_settings_bool(s, MS_O_VERSION), "core reset: after -V, a clean load");
	ms_settings_free(s);
	free(a0);
	free(b1);
	free(b2);
}

/* After a failed parse in the middle of "-xq", the next load starts clean. */
static void test_getopt_reset(void)
{
	struct ms_settings *s = NULL;
	int rc;

	su_reset_env();
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	rc = su_load(&s, "--jobs", "5", "--bogus", NULL);
	ok(rc == MS_EINVAL, "a failed parse");
	ms_settings_free(s);
	rc = su_load(&s, "--repo-id", "a/b", NULL);
	ok(rc == MS_OK, "the next load parses from the start");
	is_str(ms_settings_get(s, MS_O_JOBS), "4", "nothing of the failed parse leaks in");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "a/b", "the new flags are read");
	ms_settings_free(s);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK && !ms_settings_get(s, MS_O_REPO_ID), "an empty argv after that");
	ms_settings_free(s);
}

static void test_config_and_profile(void)
{
	struct ms_settings *s = NULL;
	const char *a = su_path("a.ini"), *b = su_path("b.ini");
	char want[600];
	int rc;

	su_reset_env();
	su_write(a, 0600, "[mspublish]\nrepo-id = from/a\n");
	su_write(b, 0600, "[mspublish]\nrepo-id = from/b\n[profile p]\nrepo-id = from/bp\n");
	setenv("MSPUBLISH_CONFIG", a, 1);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "MSPUBLISH_CONFIG is read");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/a", "MSPUBLISH_CONFIG: value");
	is_str(s->config_path, a, "MSPUBLISH_CONFIG: the file named");
	ms_settings_free(s);
	rc = su_load(&s, "--config", b, NULL);
	ok(rc == MS_OK, "--config beats MSPUBLISH_CONFIG");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/b", "--config: value");
	is_str(s->config_path, b, "--config: the file named");
	is_str(ms_settings_origin(s, MS_O_CONFIG), "--config", "--config: origin");
	ms_settings_free(s);
	rc = su_load(&s, "-c", b, "-p", "p", NULL);
	ok(rc == MS_OK, "-c and -p");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/bp", "-p selects the profile");
	is_str(ms_settings_get(s, MS_O_PROFILE), "p", "profile value");
	ms_settings_free(s);
	setenv("MSPUBLISH_PROFILE", "p", 1);
	rc = su_load(&s, "--config", b, NULL);
	ok(rc == MS_OK, "MSPUBLISH_PROFILE");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/bp", "MSPUBLISH_PROFILE selects the profile");
	is_str(ms_settings_origin(s, MS_O_PROFILE), "MSPUBLISH_PROFILE", "profile origin: env");
	ms_settings_free(s);
	unsetenv("MSPUBLISH_PROFILE");

	/* an empty profile section exists */
	su_write(a, 0600, "[mspublish]\nrepo-id = from/a\n[profile empty]\n");
	rc = su_load(&s, "--config", a, "--profile", "empty", NULL);
	ok(rc == MS_OK, "an empty [profile empty] can be selected (%s)", ms_error_last());
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/a", "an empty profile changes nothing");
	ms_settings_free(s);

	/* XDG_CONFIG_HOME, then ~/.config */
	unsetenv("MSPUBLISH_CONFIG");
	su_write(su_path("xdg/mspublish/mspublish.ini"), 0600, "[mspublish]\nrepo-id = from/xdg\n");
	su_write(su_path("home/.config/mspublish/mspublish.ini"), 0600,
		 "[mspublish]\nrepo-id = from/home\n");
	setenv("XDG_CONFIG_HOME", su_path("xdg"), 1);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "XDG_CONFIG_HOME lookup");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/xdg", "XDG_CONFIG_HOME/mspublish/mspublish.ini");
	snprintf(want, sizeof(want), "%s:2", su_path("xdg/mspublish/mspublish.ini"));
	is_str(ms_settings_origin(s, MS_O_REPO_ID), want, "XDG file origin is file:line");
	ms_settings_free(s);
	unsetenv("XDG_CONFIG_HOME");
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "~/.config lookup");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/home", "no XDG_CONFIG_HOME: ~/.config/mspublish");
	ms_settings_free(s);
	setenv("MSPUBLISH_CONFIG", a, 1);
	rc = su_load(&s, NULL);
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/a", "MSPUBLISH_CONFIG beats the XDG file");
	ms_settings_free(s);
	/* ~ in --config */
	su_write(su_path("home/my.ini"), 0600, "[mspublish]\nrepo-id = from/tilde\n");
	rc = su_load(&s, "--config", "~/my.ini", NULL);
	ok(rc == MS_OK, "--config ~/my.ini");
	is_str(ms_settings_get(s, MS_O_REPO_ID), "from/tilde", "--config expands ~");
	ms_settings_free(s);
	unlink(su_path("home/.config/mspublish/mspublish.ini"));
}

/* ---- backend sections -------------------------------------------------- */

static void test_backend_sections(void)
{
	struct ms_settings *s = NULL;
	const char *ini = su_path("sections.ini");
	int rc;

	su_reset_env();
	su_fake_plugins();
	su_write(ini, 0600,
		 "[mspublish]\n"
		 "jobs = 5\n"
		 "timeout = 30\n"
		 "[http]\n"
		 "jobs = 9\n"
		 "endpoint = hub.local/\n"
		 "token = ms-section-token-1\n"
		 "retries = 2\n"
		 "[git]\n"
		 "force = yes\n");
	setenv("MSPUBLISH_CONFIG", ini, 1);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "backend sections load (%s)", ms_error_last());
	is_str(ms_settings_backend_get(s, "http", "jobs"), "9", "[http] jobs reaches http");
	is_str(ms_settings_backend_get(s, "git", "jobs"), "5", "git sees [mspublish] jobs");
	is_str(ms_settings_backend_get(s, "dryrun", "jobs"), "5", "dryrun sees [mspublish] jobs");
	is_str(ms_settings_get(s, MS_O_JOBS), "5", "the general value ignores [http]");
	is_str(ms_settings_backend_get(s, "http", "timeout"), "30",
	       "a key not in [http] falls back to [mspublish]");
	is_str(ms_settings_backend_get(s, "http", "retries"), "2", "[http] retries");
	is_str(ms_settings_backend_get(s, "git", "retries"), "5", "git: retries default");
	is_str(ms_settings_backend_get(s, "http", "endpoint"), "https://hub.local",
	       "[http] endpoint normalised");
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://modelscope.cn",
	       "general endpoint unaffected by [http]");
	is_str(ms_settings_backend_get(s, "git", "force"), "true", "[git] force normalised");
	is_str(ms_settings_backend_get(s, "http", "force"), "false", "http: force default");
	ok(ms_settings_backend_get(s, "http", "token") == NULL,
	   "a token never travels through backend_get");
	ok(ms_settings_get(s, MS_O_TOKEN) == NULL, "a [http] token is not the general token");
	ok(ms_settings_backend_get(s, "http", "no-such-key") == NULL, "unknown key: NULL");
	is_str(ms_settings_backend_get(s, NULL, "jobs"), "5", "no backend: the general value");
	/* what a plugin sees: host->config_get is the backend's view */
	{
		struct ms_host *h = NULL, *g = NULL;

		ok(ms_host_new(&h, s, "http") == MS_OK && ms_host_new(&g, s, "git") == MS_OK,
		   "hosts for http and git");
		if (h && g) {
			is_str(h->config_get(h, "jobs"), "9", "http's host: [http] jobs");
			is_str(g->config_get(g, "jobs"), "5", "git's host: [mspublish] jobs");
			is_str(g->config_get(g, "force"), "true", "git's host: [git] force");
			is_str(h->config_get(h, "force"), "false", "http's host: not [git]'s force");
			ok(h->config_get(h, "token") == NULL, "a host never hands out the token");
			ok(h->config_get(h, "bogus") == NULL, "a host: unknown key is NULL");
		}
		ms_host_free(h);
		ms_host_free(g);
	}
	ms_settings_free(s);

	setenv("MODELSCOPE_ENDPOINT", "http://127.0.0.1:9/", 1);
	rc = su_load(&s, "--jobs", "3", NULL);
	ok(rc == MS_OK, "sections with env and flags");
	is_str(ms_settings_backend_get(s, "http", "jobs"), "3", "a flag beats [http]");
	is_str(ms_settings_backend_get(s, "http", "endpoint"), "http://127.0.0.1:9",
	       "the environment beats [http]");
	is_str(ms_settings_backend_get(s, "http", "retries"), "2", "untouched keys keep [http]");
	ms_settings_free(s);
	unsetenv("MODELSCOPE_ENDPOINT");

	su_write(ini, 0600, "[http]\nbackend = git\n");
	expect_error("backend in a backend section", NULL, "sections.ini:2: backend: ",
		     (const char *[]){ NULL });
}

/* ---- lists and booleans ----------------------------------------------- */

static void test_lists_and_bools(void)
{
	struct ms_settings *s = NULL;
	const char *ini = su_path("lists.ini");
	char want[600];
	int rc;

	su_reset_env();
	su_write(ini, 0600,
		 "[mspublish]\n"
		 "include = *.json\n"
		 "include = *.safetensors\n"
		 "exclude = a,b\n"
		 "hash = YES\n"
		 "delete = off\n"
		 "no-create = 1\n"
		 "force = False\n");
	setenv("MSPUBLISH_CONFIG", ini, 1);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "lists file loads");
	is_str(ms_settings_get(s, MS_O_INCLUDE), "*.json\n*.safetensors",
	       "include accumulates within the file");
	snprintf(want, sizeof(want), "%s:3", ini);
	is_str(ms_settings_origin(s, MS_O_INCLUDE), want, "origin: the last line");
	is_str(ms_settings_get(s, MS_O_EXCLUDE), "a,b", "a comma list is kept for the walker");
	is_str(ms_settings_get(s, MS_O_HASH), "true", "YES -> true");
	is_str(ms_settings_get(s, MS_O_DELETE), "false", "off -> false");
	is_str(ms_settings_get(s, MS_O_NO_CREATE), "true", "1 -> true");
	is_str(ms_settings_get(s, MS_O_FORCE), "false", "False -> false");
	ok(ms_settings_bool(s, MS_O_HASH) && !ms_settings_bool(s, MS_O_DELETE),
	   "ms_settings_bool reads them");
	ms_settings_free(s);

	rc = su_load(&s, "--include", "x", "--include", "y,z", "--exclude", "w", NULL);
	ok(rc == MS_OK, "list flags");
	is_str(ms_settings_get(s, MS_O_INCLUDE), "x\ny,z", "flags accumulate and replace the file");
	is_str(ms_settings_origin(s, MS_O_INCLUDE), "--include", "list origin: the flag");
	is_str(ms_settings_get(s, MS_O_EXCLUDE), "w", "exclude flag replaces the file's");
	ms_settings_free(s);
	rc = su_load(&s, "--hash", "--strict", NULL);
	is_str(ms_settings_get(s, MS_O_HASH), "true", "--hash -> true");
	is_str(ms_settings_get(s, MS_O_STRICT), "true", "--strict -> true");
	ok(ms_settings_int(s, MS_O_JOBS) == 4 && ms_settings_int(s, MS_O_RETRIES) == 5,
	   "ms_settings_int reads defaults");
	ms_settings_free(s);
}

/* ---- INI errors -------------------------------------------------------- */

static void ini_error(const char *name, const char *text, int line, const char *key_part,
		      const char *problem)
{
	const char *ini = su_path("err.ini");
	char prefix[700];

	su_write(ini, 0600, text);
	snprintf(prefix, sizeof(prefix), "%s:%d: %s", ini, line, key_part);
	expect_error(name, prefix, problem, (const char *[]){ "--config", ini, NULL });
}

static void test_ini_errors(void)
{
	char longline[400];

	su_reset_env();
	ini_error("unknown key", "[mspublish]\nrepoid = a/b\n", 2, "repoid: ", "unknown key");
	ini_error("unknown key after comments", "; c\n# c\n\n[mspublish]\njobs = 2\n\nmodel_dir = x\n",
		  7, "model_dir: ", "unknown key");
	ini_error("unknown key in a profile", "[profile p]\nrepo = a/b\n", 2, "repo: ",
		  "unknown key");
	ini_error("unknown key in a backend section", "[http]\ntokn = x\n", 2, "tokn: ",
		  "unknown key");
	ini_error("unknown section", "[mspublish]\njobs = 2\n[Upload Settings]\njobs = 3\n", 4,
		  "[Upload Settings]: ", "unknown section");
	ini_error("key outside a section", "jobs = 2\n[mspublish]\n", 1, "jobs: ",
		  "outside a section");
	ini_error("bad bool", "[mspublish]\nhash = maybe\n", 2, "hash: ", "true or false");
	ini_error("bad int", "[mspublish]\nretries = many\n", 2, "retries: ", "whole number");
	ini_error("jobs out of range", "[mspublish]\njobs = 0\n", 2, "jobs: ", "1 to 64");
	ini_error("bad visibility", "[mspublish]\nvisibility = open\n", 2, "visibility: ",
		  "private, internal or public");
	ini_error("config in a file", "[mspublish]\nconfig = other.ini\n", 2, "config: ",
		  "cannot be set in a settings file");
	ini_error("profile in a file", "[mspublish]\nprofile = p\n", 2, "profile: ",
		  "cannot be set in a settings file");
	ini_error("action in a file", "[mspublish]\nshow-config = true\n", 2, "show-config: ",
		  "cannot be set in a settings file");
	ini_error("syntax error", "[mspublish]\njobs = 2\nthis line has no equals sign\n", 3,
		  "syntax error", NULL);
	ini_error("unclosed section", "[mspublish]\njobs = 2\n[http\n", 3, "syntax error", NULL);
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "[mspublish]\ncommit-message = ", strlen("[mspublish]\ncommit-message = "));
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	ini_error("line too long", longline, 2, "line too long", NULL);
	/* the bad value of an unselected profile is still an error */
	ini_error("bad value in another profile", "[mspublish]\n[profile q]\njobs = x\n", 3,
		  "jobs: ", "whole number");
}

/* Spellings of a valid file: BOM, CRLF, comments, repeated keys, spaces. */
static void test_ini_forms(void)
{
	struct ms_settings *s = NULL;
	const char *ini = su_path("forms.ini");
	char want[600];
	int rc;

	su_reset_env();
	su_fake_plugins();
	su_write(ini, 0600,
		 "\xef\xbb\xbf; a comment\r\n"
		 "[mspublish]\r\n"
		 "repo-id=a/b\r\n"
		 "jobs = 2\r\n"
		 "jobs = 3 ; the last one wins\r\n"
		 "revision   =   dev   \r\n"
		 "# another comment\r\n"
		 "[http]\r\n"
		 "retries : 1\r\n");
	rc = su_load(&s, "--config", ini, NULL);
	ok(rc == MS_OK, "BOM, CRLF, comments and ':' load (%s)", ms_error_last());
	is_str(ms_settings_get(s, MS_O_REPO_ID), "a/b", "no spaces around '='");
	is_str(ms_settings_get(s, MS_O_JOBS), "3", "a repeated key: the last wins; inline ; comment");
	snprintf(want, sizeof(want), "%s:5", ini);
	is_str(ms_settings_origin(s, MS_O_JOBS), want, "a repeated key: its line");
	is_str(ms_settings_get(s, MS_O_REVISION), "dev", "spaces around key and value");
	is_str(ms_settings_backend_get(s, "http", "retries"), "1", "[http] and key : value");
	ms_settings_free(s);
	su_write(ini, 0600, "[mspublish]\ncommit-message = first line\n  second line\n");
	expect_error("a continued string value is refused", NULL, ":3: commit-message: ",
		     (const char *[]){ "--config", ini, NULL });
	su_write(ini, 0600, "[mspublish]\ninclude = *.json\n  *.txt\n");
	rc = su_load(&s, "--config", ini, NULL);
	ok(rc == MS_OK, "a continued list loads");
	is_str(ms_settings_get(s, MS_O_INCLUDE), "*.json\n*.txt", "a continued list accumulates");
	ms_settings_free(s);
	/* an indented line continues the key above (inih, like configparser) */
	su_write(ini, 0600, "[mspublish]\njobs = 2\n  revision = dev\n");
	expect_error("an indented line continues the previous key", NULL, ":3: jobs: ",
		     (const char *[]){ "--config", ini, NULL });
	su_write(ini, 0600, "[mspublish]\nRepo-ID = a/b\n");
	expect_error("keys are case-sensitive", NULL, "Repo-ID: unknown key",
		     (const char *[]){ "--config", ini, NULL });
	su_write(ini, 0600, "[mspublish]\nrepo_id = a/b\n");
	expect_error("repo_id is not repo-id", NULL, "repo_id: unknown key",
		     (const char *[]){ "--config", ini, NULL });
	su_write(ini, 0600, "");
	rc = su_load(&s, "--config", ini, NULL);
	ok(rc == MS_OK && !ms_settings_get(s, MS_O_REPO_ID), "an empty file is fine");
	ms_settings_free(s);
}

/* xorshift64: a fixed, portable sequence. */
static uint64_t rnd(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x;
}

/*
 * Random files made of plausible and broken lines: every load either works
 * or fails with MS_EINVAL and a message that starts with the file's name
 * (ASan/valgrind runs watch the reads).
 */
static void test_ini_fuzz(void)
{
	static const char *const pieces[] = {
		"[mspublish]", "[profile p]", "[profile  p ]", "[http]", "[dryrun]", "[git]",
		"[nosuch]", "[", "]", "[profile]", "repo-id = a/b", "jobs = 3", "jobs = x",
		"include = *.json", "  continued", "token = ms-fuzz-0001", "token =",
		"hash = yes", "endpoint = hub.example/", "path-in-repo = /sub/dir/", "model-dir = ~/m",
		"= value", "key", "; comment", "# comment", "", "\xef\xbb\xbf", "\xff\xfe",
		"commit-message = \xc3\xa4\xe2\x80\x94", "visibility = public", "revision=dev",
		"backend = dryrun", "profile = p", "config = x",
	};
	const char *ini = su_path("fuzz.ini");
	uint64_t st = 0x243f6a8885a308d3ull;
	size_t fine = 0, refused = 0, wrong = 0;

	su_reset_env();
	su_fake_plugins();
	for (int i = 0; i < 600; i++) {
		char text[4096] = "";
		size_t nlines = rnd(&st) % 12;
		struct ms_settings *s = NULL;
		int rc;

		for (size_t l = 0; l < nlines; l++) {
			uint64_t r = rnd(&st);
			const char *piece = pieces[r % (sizeof(pieces) / sizeof(pieces[0]))];

			if ((r >> 32) % 23 == 0) {
				/* a long line */
				size_t at = strlen(text), n = 150 + (r >> 40) % 300;

				if (at + n + 20 < sizeof(text)) {
					memcpy(text + at, "commit-message = ", 17);
					memset(text + at + 17, 'z', n);
					text[at + 17 + n] = '\0';
				}
			} else if (strlen(text) + strlen(piece) + 4 < sizeof(text)) {
				strcat(text, piece);
			}
			strcat(text, (r >> 48) % 5 ? "\n" : "\r\n");
		}
		su_write(ini, 0600, text);
		rc = su_load(&s, "--config", ini, (rnd(&st) % 2) ? "--profile" : NULL, "p", NULL);
		if (rc == MS_OK)
			fine++;
		else if (rc == MS_EINVAL && (!strncmp(ms_error_last(), ini, strlen(ini)) ||
					     strstr(ms_error_last(), "profile \"p\" not found")))
			refused++;
		else {
			wrong++;
			printf("# unexpected: rc %d \"%s\"\n", rc, ms_error_last());
		}
		ms_settings_free(s);
	}
	ok(wrong == 0, "random settings files: %zu loaded, %zu refused with file:line, %zu other",
	   fine, refused, wrong);
	su_reset_env();
}

static void test_token_file_warning(void)
{
	struct ms_settings *s = NULL;
	const char *ini = su_path("tok.ini");
	unsigned before;
	int rc;

	su_reset_env();
	su_write(ini, 0640, "[mspublish]\ntoken = ms-file-token-abcd\n");
	setenv("MSPUBLISH_CONFIG", ini, 1);
	before = ms_log_warnings();
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "group-readable file with a token loads");
	ok(ms_log_warnings() == before + 1, "... with one warning");
	ms_settings_free(s);
	chmod(ini, 0604);
	before = ms_log_warnings();
	rc = su_load(&s, NULL);
	ok(rc == MS_OK && ms_log_warnings() == before + 1, "world-readable: a warning");
	ms_settings_free(s);
	chmod(ini, 0600);
	before = ms_log_warnings();
	rc = su_load(&s, NULL);
	ok(rc == MS_OK && ms_log_warnings() == before, "mode 0600: no warning");
	ms_settings_free(s);
	su_write(ini, 0644, "[mspublish]\nrepo-id = a/b\ntoken =\n");
	before = ms_log_warnings();
	rc = su_load(&s, NULL);
	ok(rc == MS_OK && ms_log_warnings() == before, "readable file without a token: no warning");
	ok(ms_settings_get(s, MS_O_TOKEN) == NULL, "an empty token line counts as unset");
	ms_settings_free(s);
}

/* ---- tokens ------------------------------------------------------------ */

/* Copy a fixture to @p dst (parents created, mode 0600). */
static void copy_fixture(const char *name, const char *dst)
{
	FILE *in = fopen(su_fixture(name), "rb");
	char buf[8192], text[8193];
	size_t n;

	if (!in) {
		perror(su_fixture(name));
		exit(99);
	}
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	/* su_write takes text; pickles hold NUL bytes, so write raw */
	memcpy(text, buf, n);
	su_write(dst, 0600, "");
	in = fopen(dst, "wb");
	if (!in || fwrite(text, 1, n, in) != n || fclose(in)) {
		perror(dst);
		exit(99);
	}
}

static void test_pickle(void)
{
	unsigned char *buf;
	char *tok;
	size_t len;

	buf = su_read(su_fixture("sdk-cookies-one.pickle"), &len);
	ok(len > 100, "fixture sdk-cookies-one.pickle read (%zu bytes)", len);
	tok = ms_credentials_from_pickle(buf, len);
	is_str(tok, "SESSION-one-0123456789", "m_session_id from a one-cookie jar");
	free(tok);
	/* truncated at every length: never a crash, never a wrong value */
	for (size_t cut = 0; cut < len; cut++) {
		tok = ms_credentials_from_pickle(buf, cut);
		if (tok && strcmp(tok, "SESSION-one-0123456789"))
			ok(0, "truncated at %zu: no garbage token (got \"%s\")", cut, tok);
		free(tok);
	}
	ok(1, "truncated jars give the token or nothing");
	free(buf);

	/* later cookies' keys are memo references (BINGET), not strings */
	buf = su_read(su_fixture("sdk-cookies-multi.pickle"), &len);
	tok = ms_credentials_from_pickle(buf, len);
	is_str(tok, "SESSION-multi-abcdef",
	       "m_session_id between two other cookies (and not another cookie's value)");
	free(tok);
	for (size_t cut = 0; cut < len; cut++) {
		tok = ms_credentials_from_pickle(buf, cut);
		if (tok && strcmp(tok, "SESSION-multi-abcdef"))
			ok(0, "multi, truncated at %zu: no other cookie's value (got \"%s\")", cut, tok);
		free(tok);
	}
	free(buf);
	/* the SDK uses the cookie only if it has not expired (protocol doc 2.2) */
	buf = su_read(su_fixture("sdk-cookies-expired.pickle"), &len);
	tok = ms_credentials_from_pickle(buf, len);
	ok(tok == NULL, "an expired m_session_id is not used (got \"%s\")", tok ? tok : "(null)");
	free(tok);
	free(buf);

	buf = su_read(su_fixture("sdk-cookies-none.pickle"), &len);
	tok = ms_credentials_from_pickle(buf, len);
	ok(tok == NULL, "a jar without m_session_id gives no token (got \"%s\")",
	   tok ? tok : "(null)");
	free(tok);
	free(buf);

	tok = ms_credentials_from_pickle((const unsigned char *)"", 0);
	ok(tok == NULL, "an empty file gives no token");
	free(tok);
	tok = ms_credentials_from_pickle((const unsigned char *)"m_session_id value", 18);
	ok(tok == NULL, "plain text is not a pickle");
	free(tok);
}

/* Set up all six token sources; each test removes the top ones. */
static void token_sources(const char *ini)
{
	su_write(ini, 0600, "[mspublish]\nrepo-id = a/b\ntoken = ms-from-file-1111\n");
	setenv("MSPUBLISH_CONFIG", ini, 1);
	setenv("MODELSCOPE_API_TOKEN", "ms-from-api-env-2222", 1);
	setenv("MODELSCOPE_TOKEN", "ms-from-env2-3333", 1);
	setenv("XDG_CONFIG_HOME", su_path("xdg-tok"), 1);
	su_write(su_path("xdg-tok/mspublish/login"), 0600, "  ms-from-login-4444 \n");
	setenv("MODELSCOPE_HOME", su_path("mshome"), 1);
	copy_fixture("sdk-cookies-one.pickle", su_path("mshome/credentials/cookies"));
}

static void expect_token(const char *name, const char *value, const char *origin,
			 const char *const *args)
{
	struct ms_settings *s = NULL;
	int rc = su_loadv(&s, args);

	ok(rc == MS_OK, "%s: loads (%s)", name, ms_error_last());
	is_str(ms_settings_get(s, MS_O_TOKEN), value, "%s: token", name);
	is_str(ms_settings_origin(s, MS_O_TOKEN), origin, "%s: origin", name);
	ms_settings_free(s);
}

static void test_token_order(void)
{
	char ini[512], file_origin[600], login[600], sdk[600];

	/* a copy: su_path() hands out rotating buffers */
	snprintf(ini, sizeof(ini), "%s", su_path("tokens.ini"));
	su_reset_env();
	token_sources(ini);
	snprintf(file_origin, sizeof(file_origin), "%s:3", ini);
	snprintf(login, sizeof(login), "%s", su_path("xdg-tok/mspublish/login"));
	snprintf(sdk, sizeof(sdk), "%s", su_path("mshome/credentials/cookies"));

	expect_token("--token beats everything", "ms-from-flag-0000", "--token",
		     (const char *[]){ "--token", "ms-from-flag-0000", NULL });
	expect_token("--token is stripped", "ms-from-flag-0000", "--token",
		     (const char *[]){ "--token", "  ms-from-flag-0000\t", NULL });
	expect_token("MODELSCOPE_API_TOKEN next", "ms-from-api-env-2222", "MODELSCOPE_API_TOKEN",
		     (const char *[]){ NULL });
	expect_token("a blank --token counts as unset", "ms-from-api-env-2222",
		     "MODELSCOPE_API_TOKEN", (const char *[]){ "--token", "  ", NULL });
	setenv("MODELSCOPE_API_TOKEN", "   ", 1);
	expect_token("blank MODELSCOPE_API_TOKEN counts as unset", "ms-from-env2-3333",
		     "MODELSCOPE_TOKEN", (const char *[]){ NULL });
	setenv("MODELSCOPE_API_TOKEN", "", 1);
	expect_token("empty MODELSCOPE_API_TOKEN counts as unset", "ms-from-env2-3333",
		     "MODELSCOPE_TOKEN", (const char *[]){ NULL });
	unsetenv("MODELSCOPE_API_TOKEN");
	setenv("MODELSCOPE_TOKEN", "\n ms-from-env2-3333 \n", 1);
	expect_token("MODELSCOPE_TOKEN is stripped", "ms-from-env2-3333", "MODELSCOPE_TOKEN",
		     (const char *[]){ NULL });
	setenv("MODELSCOPE_TOKEN", "", 1);
	expect_token("then the settings file", "ms-from-file-1111", file_origin,
		     (const char *[]){ NULL });
	unsetenv("MODELSCOPE_TOKEN");
	su_write(ini, 0600, "[mspublish]\ntoken =   \n");
	expect_token("then the stored login (stripped)", "ms-from-login-4444", login,
		     (const char *[]){ NULL });
	su_write(su_path("xdg-tok/mspublish/login"), 0600, "\n  \n");
	expect_token("then the SDK cookie jar", "SESSION-one-0123456789", sdk,
		     (const char *[]){ NULL });
	copy_fixture("sdk-cookies-multi.pickle", su_path("mshome/credentials/cookies"));
	expect_token("the SDK jar with several cookies", "SESSION-multi-abcdef", sdk,
		     (const char *[]){ NULL });
	copy_fixture("sdk-cookies-expired.pickle", su_path("mshome/credentials/cookies"));
	expect_token("an expired SDK login: no token", NULL, NULL, (const char *[]){ NULL });
	copy_fixture("sdk-cookies-none.pickle", su_path("mshome/credentials/cookies"));
	expect_token("a jar without m_session_id: no token", NULL, NULL, (const char *[]){ NULL });
	unlink(su_path("mshome/credentials/cookies"));
	expect_token("nothing anywhere: no token", NULL, NULL, (const char *[]){ NULL });

	/* the SDK's default place: ~/.modelscope/credentials/cookies */
	unsetenv("MODELSCOPE_HOME");
	copy_fixture("sdk-cookies-one.pickle", su_path("home/.modelscope/credentials/cookies"));
	snprintf(sdk, sizeof(sdk), "%s", su_path("home/.modelscope/credentials/cookies"));
	expect_token("~/.modelscope/credentials/cookies", "SESSION-one-0123456789", sdk,
		     (const char *[]){ NULL });
	unlink(sdk);
	/* the login store without XDG_CONFIG_HOME: ~/.config/mspublish/login */
	unsetenv("XDG_CONFIG_HOME");
	su_write(su_path("home/.config/mspublish/login"), 0600, "ms-home-login-5555\n");
	snprintf(login, sizeof(login), "%s", su_path("home/.config/mspublish/login"));
	expect_token("~/.config/mspublish/login", "ms-home-login-5555", login,
		     (const char *[]){ NULL });
	unlink(login);
	/* a token in a profile */
	su_write(ini, 0600, "[mspublish]\ntoken = ms-general-6666\n[profile p]\ntoken = ms-prof-7777\n");
	snprintf(file_origin, sizeof(file_origin), "%s:4", ini);
	expect_token("[profile p] token beats [mspublish]", "ms-prof-7777", file_origin,
		     (const char *[]){ "--profile", "p", NULL });
	su_reset_env();
}

/* ---- endpoint, ~, repo id, path in repo -------------------------------- */

static void test_endpoint(void)
{
	static const char *const cases[][2] = {
		{ "hub.example", "https://hub.example" },
		{ "hub.example/", "https://hub.example" },
		{ "www.modelscope.cn", "https://www.modelscope.cn" },
		{ "https://modelscope.cn", "https://modelscope.cn" },
		{ "https://modelscope.cn/", "https://modelscope.cn" },
		{ "https://modelscope.cn///", "https://modelscope.cn" },
		{ "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "http://127.0.0.1:8080/", "http://127.0.0.1:8080" },
		{ "127.0.0.1:8080", "https://127.0.0.1:8080" },
		{ "https://hub.example/prefix/", "https://hub.example/prefix" },
		{ "  https://hub.example  ", "https://hub.example" },
	};
	struct ms_settings *s = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = ms_settings_normalize_endpoint(cases[i][0]);

		is_str(got, cases[i][1], "endpoint \"%s\"", cases[i][0]);
		free(got);
	}
	su_reset_env();
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	setenv("MODELSCOPE_DOMAIN", "www.modelscope.cn", 1);
	rc = su_load(&s, NULL);
	ok(rc == MS_OK, "MODELSCOPE_DOMAIN alone");
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://www.modelscope.cn",
	       "MODELSCOPE_DOMAIN: a bare host gets https://");
	is_str(ms_settings_origin(s, MS_O_ENDPOINT), "MODELSCOPE_DOMAIN", "origin MODELSCOPE_DOMAIN");
	ms_settings_free(s);
	setenv("MODELSCOPE_ENDPOINT", "http://127.0.0.1:1234/", 1);
	rc = su_load(&s, NULL);
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "http://127.0.0.1:1234",
	       "MODELSCOPE_ENDPOINT beats MODELSCOPE_DOMAIN; http:// kept, / dropped");
	is_str(ms_settings_origin(s, MS_O_ENDPOINT), "MODELSCOPE_ENDPOINT",
	       "origin MODELSCOPE_ENDPOINT");
	ms_settings_free(s);
	setenv("MODELSCOPE_ENDPOINT", " ", 1);
	rc = su_load(&s, NULL);
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://www.modelscope.cn",
	       "a blank MODELSCOPE_ENDPOINT is ignored");
	ms_settings_free(s);
	rc = su_load(&s, "--endpoint", "", "--revision", " ", NULL);
	ok(rc == MS_OK, "empty --endpoint/--revision load");
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://www.modelscope.cn",
	       "an empty --endpoint counts as unset");
	is_str(ms_settings_get(s, MS_O_REVISION), "master", "a blank --revision counts as unset");
	ms_settings_free(s);
	su_write(su_path("empty-values.ini"), 0600, "[mspublish]\nendpoint =\nrevision =\n");
	unsetenv("MODELSCOPE_DOMAIN");
	rc = su_load(&s, "--config", su_path("empty-values.ini"), NULL);
	ok(rc == MS_OK, "empty values in a file load");
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://modelscope.cn",
	       "an empty endpoint in a file counts as unset");
	is_str(ms_settings_get(s, MS_O_REVISION), "master", "an empty revision in a file too");
	ms_settings_free(s);
	rc = su_load(&s, "--endpoint", "hub.flag/", NULL);
	is_str(ms_settings_get(s, MS_O_ENDPOINT), "https://hub.flag", "--endpoint normalised");
	ms_settings_free(s);
	su_reset_env();
}

static void test_home(void)
{
	static const char *const same[] = { "/abs/path", "rel/path", "~user/x", "a/~/b", "x~" };
	struct ms_settings *s = NULL;
	const char *home = su_path("home");
	char want[600], *got;
	int rc;

	su_reset_env();
	got = ms_settings_expand_home("~");
	is_str(got, home, "~ alone is HOME");
	free(got);
	got = ms_settings_expand_home("~/models/m1");
	snprintf(want, sizeof(want), "%s/models/m1", home);
	is_str(got, want, "~/models/m1");
	free(got);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		got = ms_settings_expand_home(same[i]);
		is_str(got, same[i], "\"%s\" is left alone", same[i]);
		free(got);
	}
	setenv("MSPUBLISH_CONFIG", "/dev/null", 1);
	setenv("MODEL_DIR", "~/from-env", 1);
	rc = su_load(&s, NULL);
	snprintf(want, sizeof(want), "%s/from-env", home);
	ok(rc == MS_OK, "MODEL_DIR with ~");
	is_str(ms_settings_get(s, MS_O_MODEL_DIR), want, "MODEL_DIR ~ expanded");
	is_str(ms_settings_origin(s, MS_O_MODEL_DIR), "MODEL_DIR", "MODEL_DIR origin");
	ms_settings_free(s);
	rc = su_load(&s, "--model-dir", "~/from-flag", NULL);
	snprintf(want, sizeof(want), "%s/from-flag", home);
	is_str(ms_settings_get(s, MS_O_MODEL_DIR), want, "--model-dir ~ expanded");
	ms_settings_free(s);
	su_write(su_path("home.ini"), 0600, "[mspublish]\nmodel-dir = ~/from-file\n");
	unsetenv("MODEL_DIR");
	rc = su_load(&s, "--config", su_path("home.ini"), NULL);
	snprintf(want, sizeof(want), "%s/from-file", home);
	is_str(ms_settings_get(s, MS_O_MODEL_DIR), want, "INI model-dir ~ expanded");
	ms_settings_free(s);
	su_reset_env();
}

static void test_repo_id(void)
{
	static const char *const good[] = {
		"a/b", "YukinoStuki/Qwen3-4B-Plus-LLM-AWQ", "owner_1/model.v2", "O-1/n_2.x",
		"a/b.", "a1/b-",
	};
	static const char *const bad[] = {
		"ab", "/b", "a/", "/", "a/b/c", "a//b", "a b/c", "a/b c", "a/b\n", "../b", "a/..",
		".a/b", "a/.b", "a/b..c", "a\\b", "a/b?x", "a/b#x", "a/b%2F", "\xc3\xa4/b",
		"a/b@main", "a:b/c",
	};

	ok(ms_settings_check_repo_id(NULL) == MS_EINVAL, "NULL repo id refused");
	ok(ms_settings_check_repo_id("") == MS_EINVAL, "empty repo id refused");
	ok(strstr(ms_error_last(), "empty") && strstr(ms_error_last(), "REPO_ID"),
	   "empty: the message says so and names REPO_ID (%s)", ms_error_last());
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(ms_settings_check_repo_id(good[i]) == MS_OK, "repo id \"%s\" accepted (%s)",
		   good[i], ms_error_last());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms_error_clear();
		ok(ms_settings_check_repo_id(bad[i]) == MS_EINVAL && ms_error_last()[0],
		   "repo id #%zu refused with a message", i);
	}
	ms_settings_check_repo_id("ab");
	ok(strstr(ms_error_last(), "OWNER/NAME") != NULL, "\"ab\": the message says OWNER/NAME");
}

static void test_path_in_repo(void)
{
	static const char *const cases[][2] = {
		{ "", "" }, { "/", "" }, { "//", "" }, { "a", "a" }, { "/a", "a" }, { "a/", "a" },
		{ "/a/b/", "a/b" }, { "//a/b//", "a/b" }, { "a/b c/d", "a/b c/d" },
		{ "lora/v1.0", "lora/v1.0" }, { "..a/b..", "..a/b.." }, { ".hidden", ".hidden" },
	};
	static const char *const bad[] = {
		"a//b", ".", "./a", "a/.", "a/./b", "..", "../a", "a/..", "a/../b", "/../", "a\\b",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		int rc = ms_settings_clean_path_in_repo(&out, cases[i][0]);

		ok(rc == MS_OK, "path in repo \"%s\" accepted", cases[i][0]);
		is_str(out, cases[i][1], "path in repo \"%s\" -> \"%s\"", cases[i][0], cases[i][1]);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		int rc = ms_settings_clean_path_in_repo(&out, bad[i]);

		ok(rc == MS_EINVAL && out == NULL, "path in repo \"%s\" refused: %s", bad[i],
		   ms_error_last());
		free(out);
	}
}

/* ---- --show-config ----------------------------------------------------- */

static void test_show(void)
{
	struct ms_settings *s = NULL;
	const char *ini = su_path("show.ini");
	char *text = NULL, line[800];
	size_t len = 0;
	FILE *f;
	int rc;

	su_reset_env();
	su_fake_plugins();
	su_write(ini, 0600, "[mspublish]\nrepo-id = file/repo\ninclude = a\ninclude = b\n"
		 "[http]\njobs = 9\n");
	setenv("MSPUBLISH_CONFIG", ini, 1);
	setenv("MODELSCOPE_API_TOKEN", "ms-SENTINEL-show-424242", 1);
	setenv("MODEL_DIR", "/srv/model", 1);
	rc = su_load(&s, "--revision", "dev", NULL);
	ok(rc == MS_OK, "show: loads");
	f = open_memstream(&text, &len);
	ms_settings_show(s, f);
	fclose(f);
	ok(!strstr(text, "ms-SENTINEL-show-424242"), "show: the token value never appears");
	ok(strstr(text, "token            set (from MODELSCOPE_API_TOKEN)\n") != NULL,
	   "show: token set (from MODELSCOPE_API_TOKEN)");
	snprintf(line, sizeof(line), "repo-id          file/repo (from %s:2)\n", ini);
	ok(strstr(text, line) != NULL, "show: file value with file:line");
	ok(strstr(text, "model-dir        /srv/model (from MODEL_DIR)\n") != NULL,
	   "show: env value with the variable name");
	ok(strstr(text, "revision         dev (from --revision)\n") != NULL,
	   "show: flag value with the flag");
	ok(strstr(text, "jobs             4 (from default)\n") != NULL, "show: default");
	snprintf(line, sizeof(line), "include          a,b (from %s:4)\n", ini);
	ok(strstr(text, line) != NULL, "show: a list on one line");
	snprintf(line, sizeof(line), "[http] jobs        9 (from %s:6)", ini);
	ok(strstr(text, line) != NULL, "show: backend section values");
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		char want[64];

		if (ms_options[i].flags & MS_OPTF_ACTION)
			continue;
		snprintf(want, sizeof(want), "\n%s ", ms_options[i].name);
		ok(strstr(text, want) != NULL, "show: lists %s", ms_options[i].name);
	}
	free(text);
	ms_settings_free(s);
	su_reset_env();
}

int main(void)
{
	su_setup();
	test_matrix();
	test_actions();
	test_argv_errors();
	test_getopt_reset();
	test_getopt_core_reset();
	test_config_and_profile();
	test_backend_sections();
	test_lists_and_bools();
	test_ini_errors();
	test_ini_forms();
	test_ini_fuzz();
	test_token_file_warning();
	test_pickle();
	test_token_order();
	test_endpoint();
	test_home();
	test_repo_id();
	test_path_in_repo();
	test_show();
	su_teardown();
	return tap_done();
}
