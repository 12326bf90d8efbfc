/* SPDX-License-Identifier: MIT */
/*
 * The one option table.  It drives argv parsing, INI keys, environment
 * variables, defaults and --help, so a setting exists in one place only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

#define S MS_OPT_STRING
#define I MS_OPT_INT
#define B MS_OPT_BOOL
#define L MS_OPT_LIST

const struct ms_option ms_options[MS_O_COUNT] = {
	[MS_O_BACKEND] = { "backend", 'b', S, "MSPUBLISH_BACKEND", NULL, "http",
		"NAME", "http, git or dryrun (--list-backends)", MS_OPTF_BRIEF },
	[MS_O_REPO_ID] = { "repo-id", 'r', S, "REPO_ID", NULL, NULL,
		"OWNER/NAME", "target repository on the hub", MS_OPTF_BRIEF },
	[MS_O_MODEL_DIR] = { "model-dir", 'd', S, "MODEL_DIR", NULL, NULL,
		"DIR", "folder to publish (only read, never written)", MS_OPTF_BRIEF },
	[MS_O_TOKEN] = { "token", 't', S, "MODELSCOPE_API_TOKEN", "MODELSCOPE_TOKEN", NULL,
		"TOKEN", "access token (better: env or `mspublish login`)",
		MS_OPTF_SECRET | MS_OPTF_BRIEF },
	[MS_O_COMMIT_MESSAGE] = { "commit-message", 'm', S, NULL, NULL, "upload model folder",
		"TEXT", "commit message", MS_OPTF_BRIEF },
	[MS_O_ENDPOINT] = { "endpoint", 0, S, "MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN",
		"https://modelscope.cn", "URL", "hub base URL (a bare host gets https://)", MS_OPTF_BRIEF },
	[MS_O_REVISION] = { "revision", 0, S, NULL, NULL, "master",
		"BRANCH", "branch to commit to", 0 },
	[MS_O_PATH_IN_REPO] = { "path-in-repo", 0, S, NULL, NULL, "",
		"DIR", "folder in the repo to publish into", 0 },
	[MS_O_INCLUDE] = { "include", 0, L, NULL, NULL, NULL,
		"PATTERN", "only matching files (fnmatch; repeatable)", 0 },
	[MS_O_EXCLUDE] = { "exclude", 0, L, NULL, NULL, NULL,
		"PATTERN", "skip matching files (fnmatch; repeatable)", 0 },
	[MS_O_JOBS] = { "jobs", 'j', I, NULL, NULL, "4",
		"N", "parallel transfers", 0 },
	[MS_O_HASH] = { "hash", 0, B, NULL, NULL, "false",
		NULL, "dryrun: also compute each file's SHA-256", 0 },
	[MS_O_DELETE] = { "delete", 0, B, NULL, NULL, "false",
		NULL, "delete remote files that are not in the folder", 0 },
	[MS_O_NO_CREATE] = { "no-create", 0, B, NULL, NULL, "false",
		NULL, "fail instead of creating a missing repo", 0 },
	[MS_O_VISIBILITY] = { "visibility", 0, S, NULL, NULL, "private",
		"VIS", "private, internal or public, for a new repo", 0 },
	[MS_O_LICENSE] = { "license", 0, S, NULL, NULL, "Apache-2.0",
		"SPDX", "license of a new repo", 0 },
	[MS_O_RETRIES] = { "retries", 0, I, NULL, NULL, "5",
		"N", "tries per request (network, 5xx, 429)", 0 },
	[MS_O_TIMEOUT] = { "timeout", 0, I, NULL, NULL, "60",
		"SECONDS", "give up on a stalled request after S seconds", 0 },
	[MS_O_GIT_URL] = { "git-url", 0, S, NULL, NULL, NULL,
		"URL", "git: remote (default ENDPOINT/OWNER/NAME.git)", 0 },
	[MS_O_FORCE] = { "force", 0, B, NULL, NULL, "false",
		NULL, "git: allow a non-fast-forward push", 0 },
	[MS_O_PLUGIN_DIR] = { "plugin-dir", 0, S, "MSPUBLISH_PLUGIN_DIR", NULL, NULL,
		"DIR", "look for backends here first (a:b:c)", 0 },
	[MS_O_CONFIG] = { "config", 'c', S, "MSPUBLISH_CONFIG", NULL, NULL,
		"FILE", "settings file (INI)", MS_OPTF_NO_INI },
	[MS_O_PROFILE] = { "profile", 'p', S, "MSPUBLISH_PROFILE", NULL, NULL,
		"NAME", "use [profile NAME] of the settings file", MS_OPTF_NO_INI },
	[MS_O_JSON] = { "json", 0, B, NULL, NULL, "false",
		NULL, "one JSON object on stdout instead of prose", 0 },
	[MS_O_QUIET] = { "quiet", 'q', B, NULL, NULL, "false",
		NULL, "print only warnings and errors", 0 },
	[MS_O_VERBOSE] = { "verbose", 'v', B, NULL, NULL, "false",
		NULL, "trace every request (secrets redacted)", 0 },
	[MS_O_STRICT] = { "strict", 0, B, NULL, NULL, "false",
		NULL, "treat every warning as an error", 0 },
	[MS_O_SHOW_CONFIG] = { "show-config", 0, B, NULL, NULL, NULL,
		NULL, "each effective setting and its origin", MS_OPTF_NO_INI | MS_OPTF_ACTION },
	[MS_O_LIST_BACKENDS] = { "list-backends", 0, B, NULL, NULL, NULL,
		NULL, "list the backends that can be loaded", MS_OPTF_NO_INI | MS_OPTF_ACTION },
	[MS_O_VERSION] = { "version", 'V', B, NULL, NULL, NULL,
		NULL, "print the version", MS_OPTF_NO_INI | MS_OPTF_ACTION },
	[MS_O_HELP] = { "help", 'h', B, NULL, NULL, NULL,
		NULL, "this help (--help lists everything)", MS_OPTF_NO_INI | MS_OPTF_ACTION | MS_OPTF_BRIEF },
};

const struct ms_option *ms_options_find(const char *name)
{
	for (size_t i = 0; i < MS_O_COUNT; i++)
		if (!strcmp(ms_options[i].name, name))
			return &ms_options[i];
	return NULL;
}

const char *ms_options_bool(const char *value)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	if (!value)
		return NULL;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(value, yes[i]))
			return "true";
		if (!strcasecmp(value, no[i]))
			return "false";
	}
	return NULL;
}

bool ms_options_valid(const struct ms_option *o, const char *value,
		      const char **why)
{
	char *end;
	long v;

	switch (o->kind) {
	case MS_OPT_BOOL:
		if (!ms_options_bool(value)) {
			*why = "expected true or false";
			return false;
		}
		return true;
	case MS_OPT_INT:
		v = strtol(value, &end, 10);
		if (!*value || *end || v < 0 || v > 1000000) {
			*why = "expected a whole number";
			return false;
		}
		if (o - ms_options == MS_O_JOBS && (v < 1 || v > 64)) {
			*why = "expected a number from 1 to 64";
			return false;
		}
		return true;
	case MS_OPT_STRING:
		if (o - ms_options == MS_O_VISIBILITY && strcmp(value, "private") &&
		    strcmp(value, "internal") && strcmp(value, "public")) {
			*why = "expected private, internal or public";
			return false;
		}
		return true;
	case MS_OPT_LIST:
		return true;
	}
	return true;
}

static void print_option(const struct ms_option *o)
{
	char left[64];

	if (o->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
	printf("  %-28s %s\n", left, o->help);
}

void ms_options_help(bool full)
{
	printf("Usage: mspublish [OPTIONS]          publish a model folder to a ModelScope repo\n"
	       "       mspublish login [--token T]  check a token and store it (0600)\n"
	       "       mspublish logout             forget the stored token\n\n");
	for (size_t i = 0; i < MS_O_COUNT; i++)
		if (full || (ms_options[i].flags & MS_OPTF_BRIEF))
			print_option(&ms_options[i]);
	if (!full) {
		printf("\nMore options, the environment and the settings file: mspublish --help\n");
		return;
	}
	printf("\nEnvironment (overrides the settings file, overridden by flags):\n");
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];

		if (o->env)
			printf("  %-22s --%s\n", o->env, o->name);
		if (o->env2)
			printf("  %-22s --%s, when %s is unset\n", o->env2, o->name, o->env);
	}
	printf("  %-22s where the hash cache and git state live\n", "XDG_CACHE_HOME");
	printf("  %-22s where mspublish.ini and the stored login live\n", "XDG_CONFIG_HOME");
	printf("  %-22s the official SDK's folder (~/.modelscope); its login\n"
	       "  %-22s (credentials/cookies) is read, never run, as a last resort\n",
	       "MODELSCOPE_HOME", "");
	printf("  %-22s set to 1 to keep plugins loaded at exit (for valgrind)\n",
	       "MSPUBLISH_NO_DLCLOSE");
	printf("\nSettings file: --config FILE, else $MSPUBLISH_CONFIG, else\n"
	       "$XDG_CONFIG_HOME/mspublish/mspublish.ini, else the system one.  Keys are the\n"
	       "long option names in [mspublish], [<backend>] or [profile NAME] sections.\n"
	       "Token order: --token, MODELSCOPE_API_TOKEN, MODELSCOPE_TOKEN, the file's\n"
	       "token, the login stored by `mspublish login`, then the official SDK's login.\n");
}
