/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the option table (core/options.c): names and short flags
 * unique, every environment variable documented in --help, defaults valid
 * for their kind, the bool spellings and the value checks.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "tap.h"

/* ms_options_help()'s output, captured from stdout (malloc'd). */
static char *capture_help(bool full)
{
	FILE *tmp = tmpfile();
	char *buf = NULL;
	long len;
	int saved;

	if (!tmp)
		abort();
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		abort();
	ms_options_help(full);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		abort();
	close(saved);
	len = ftell(tmp);
	if (len < 0)
		len = 0;
	buf = calloc(1, (size_t)len + 1);
	if (!buf)
		abort();
	rewind(tmp);
	if (fread(buf, 1, (size_t)len, tmp) != (size_t)len)
		abort();
	fclose(tmp);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* "--name" followed by a space, a comma or the end of a line. */
static bool mentions_flag(const char *text, const char *name)
{
	char want[80];
	const char *p = text;

	snprintf(want, sizeof(want), "--%s", name);
	while ((p = strstr(p, want)) != NULL) {
		char c = p[strlen(want)];

		if (c == ' ' || c == '\n' || c == ',' || c == '\0')
			return true;
		p++;
	}
	return false;
}

/* A whole word: not part of a longer variable name. */
static bool mentions_word(const char *text, const char *word)
{
	const char *p = text;
	size_t n = strlen(word);

	while ((p = strstr(p, word)) != NULL) {
		bool left = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		bool right = !(isalnum((unsigned char)p[n]) || p[n] == '_');

		if (left && right)
			return true;
		p++;
	}
	return false;
}

static void test_names(void)
{
	static const struct { enum ms_opt_id id; const char *name; } ids[] = {
		{ MS_O_BACKEND, "backend" }, { MS_O_REPO_ID, "repo-id" },
		{ MS_O_MODEL_DIR, "model-dir" }, { MS_O_TOKEN, "token" },
		{ MS_O_COMMIT_MESSAGE, "commit-message" }, { MS_O_ENDPOINT, "endpoint" },
		{ MS_O_REVISION, "revision" }, { MS_O_PATH_IN_REPO, "path-in-repo" },
		{ MS_O_INCLUDE, "include" }, { MS_O_EXCLUDE, "exclude" },
		{ MS_O_JOBS, "jobs" }, { MS_O_HASH, "hash" }, { MS_O_DELETE, "delete" },
		{ MS_O_NO_CREATE, "no-create" }, { MS_O_VISIBILITY, "visibility" },
		{ MS_O_LICENSE, "license" }, { MS_O_RETRIES, "retries" },
		{ MS_O_TIMEOUT, "timeout" }, { MS_O_GIT_URL, "git-url" },
		{ MS_O_FORCE, "force" }, { MS_O_PLUGIN_DIR, "plugin-dir" },
		{ MS_O_CONFIG, "config" }, { MS_O_PROFILE, "profile" },
		{ MS_O_JSON, "json" }, { MS_O_QUIET, "quiet" }, { MS_O_VERBOSE, "verbose" },
		{ MS_O_STRICT, "strict" }, { MS_O_SHOW_CONFIG, "show-config" },
		{ MS_O_LIST_BACKENDS, "list-backends" }, { MS_O_VERSION, "version" },
		{ MS_O_HELP, "help" },
	};

	ok(sizeof(ids) / sizeof(ids[0]) == MS_O_COUNT,
	   "every enum ms_opt_id is checked here (%zu of %d)",
	   sizeof(ids) / sizeof(ids[0]), (int)MS_O_COUNT);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		is_str(ms_options[ids[i].id].name, ids[i].name, "ms_options[%d] is --%s",
		       (int)ids[i].id, ids[i].name);
		ok(ms_options_find(ids[i].name) == &ms_options[ids[i].id],
		   "ms_options_find(\"%s\") finds its entry", ids[i].name);
	}
	ok(ms_options_find("repo_id") == NULL, "ms_options_find(\"repo_id\") is NULL");
	ok(ms_options_find("") == NULL, "ms_options_find(\"\") is NULL");
	ok(ms_options_find("Backend") == NULL, "names are case-sensitive");

	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];
		bool shape = o->name && *o->name && o->help && *o->help;

		for (const char *p = o->name ? o->name : ""; *p; p++)
			if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
				shape = false;
		ok(shape, "--%s: lower-case name and a help text", o->name);
		for (size_t j = i + 1; j < MS_O_COUNT; j++) {
			if (!strcmp(o->name, ms_options[j].name))
				ok(0, "name --%s used twice (%zu, %zu)", o->name, i, j);
			if (o->short_name && o->short_name == ms_options[j].short_name)
				ok(0, "short flag -%c used by --%s and --%s", o->short_name,
				   o->name, ms_options[j].name);
			if (o->env && ms_options[j].env && !strcmp(o->env, ms_options[j].env))
				ok(0, "variable %s used by --%s and --%s", o->env, o->name,
				   ms_options[j].name);
		}
		if (o->short_name)
			ok(isalpha((unsigned char)o->short_name) && o->short_name != 'W',
			   "--%s: short flag -%c is a letter (not -W, reserved by getopt)",
			   o->name, o->short_name);
	}
	ok(tap_failed == 0, "no duplicate names, short flags or variables");
}

static void test_kinds_and_defaults(void)
{
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];
		const char *why = NULL;

		if (o->kind == MS_OPT_BOOL)
			ok(o->arg == NULL, "--%s: a bool flag takes no argument", o->name);
		else
			ok(o->arg && *o->arg, "--%s: has a metavariable for --help", o->name);
		if (o->flags & MS_OPTF_ACTION)
			ok(o->kind == MS_OPT_BOOL && (o->flags & MS_OPTF_NO_INI) && !o->def,
			   "--%s: an action is a flag, command line only, no default", o->name);
		if (o->flags & MS_OPTF_SECRET)
			ok(!o->def, "--%s: a secret has no built-in default", o->name);
		if (o->env2)
			ok(o->env != NULL, "--%s: a fallback variable needs a first one", o->name);
		if (!o->def)
			continue;
		ok(ms_options_valid(o, o->def, &why), "--%s: default \"%s\" is valid%s%s",
		   o->name, o->def, why ? ": " : "", why ? why : "");
		if (o->kind == MS_OPT_BOOL)
			is_str(ms_options_bool(o->def), o->def,
			       "--%s: bool default is spelled true/false", o->name);
	}
	/* defaults the seed and the protocol doc fix */
	is_str(ms_options[MS_O_REVISION].def, "master", "--revision defaults to master");
	is_str(ms_options[MS_O_COMMIT_MESSAGE].def, "upload model folder",
	       "--commit-message defaults to the seed's message");
	is_str(ms_options[MS_O_ENDPOINT].def, "https://modelscope.cn",
	       "--endpoint defaults to https://modelscope.cn (protocol doc 1)");
	is_str(ms_options[MS_O_TOKEN].env, "MODELSCOPE_API_TOKEN", "token: MODELSCOPE_API_TOKEN");
	is_str(ms_options[MS_O_TOKEN].env2, "MODELSCOPE_TOKEN", "token: then MODELSCOPE_TOKEN");
	is_str(ms_options[MS_O_ENDPOINT].env, "MODELSCOPE_ENDPOINT", "endpoint: MODELSCOPE_ENDPOINT");
	is_str(ms_options[MS_O_ENDPOINT].env2, "MODELSCOPE_DOMAIN", "endpoint: then MODELSCOPE_DOMAIN");
	is_str(ms_options[MS_O_REPO_ID].env, "REPO_ID", "repo-id: REPO_ID (seed)");
	is_str(ms_options[MS_O_MODEL_DIR].env, "MODEL_DIR", "model-dir: MODEL_DIR (seed)");
	is_str(ms_options[MS_O_BACKEND].env, "MSPUBLISH_BACKEND", "backend: MSPUBLISH_BACKEND");
	is_str(ms_options[MS_O_CONFIG].env, "MSPUBLISH_CONFIG", "config: MSPUBLISH_CONFIG");
	is_str(ms_options[MS_O_PLUGIN_DIR].env, "MSPUBLISH_PLUGIN_DIR",
	       "plugin-dir: MSPUBLISH_PLUGIN_DIR");
}

static void test_bool_spellings(void)
{
	static const char *const yes[] = { "1", "true", "TRUE", "yes", "Yes", "on", "ON" };
	static const char *const no[] = { "0", "false", "False", "no", "NO", "off", "Off" };
	static const char *const neither[] = { "", "2", "y", "n", "tru", "yess", " true", "-1" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		is_str(ms_options_bool(yes[i]), "true", "bool \"%s\" -> true", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		is_str(ms_options_bool(no[i]), "false", "bool \"%s\" -> false", no[i]);
	for (size_t i = 0; i < sizeof(neither) / sizeof(neither[0]); i++)
		ok(ms_options_bool(neither[i]) == NULL, "bool \"%s\" is refused", neither[i]);
	ok(ms_options_bool(NULL) == NULL, "bool NULL is NULL");
}

static void test_valid(void)
{
	static const struct { enum ms_opt_id id; const char *value; bool good; } cases[] = {
		{ MS_O_RETRIES, "0", true },
		{ MS_O_RETRIES, "5", true },
		{ MS_O_RETRIES, "-1", false },
		{ MS_O_RETRIES, "", false },
		{ MS_O_RETRIES, "3x", false },
		{ MS_O_RETRIES, "x", false },
		{ MS_O_RETRIES, "99999999999999999999", false },
		{ MS_O_TIMEOUT, "60", true },
		{ MS_O_TIMEOUT, "1.5", false },
		{ MS_O_JOBS, "1", true },
		{ MS_O_JOBS, "64", true },
		{ MS_O_JOBS, "0", false },
		{ MS_O_JOBS, "65", false },
		{ MS_O_HASH, "yes", true },
		{ MS_O_HASH, "maybe", false },
		{ MS_O_HASH, "", false },
		{ MS_O_VISIBILITY, "private", true },
		{ MS_O_VISIBILITY, "internal", true },
		{ MS_O_VISIBILITY, "public", true },
		{ MS_O_VISIBILITY, "secret", false },
		{ MS_O_VISIBILITY, "Public", false },
		{ MS_O_REPO_ID, "anything/at all", true },
		{ MS_O_INCLUDE, "*.json", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		bool got = ms_options_valid(&ms_options[cases[i].id], cases[i].value, &why);

		ok(got == cases[i].good, "--%s \"%s\" is %s", ms_options[cases[i].id].name,
		   cases[i].value, cases[i].good ? "accepted" : "refused");
		if (!cases[i].good)
			ok(why && *why, "--%s \"%s\": the refusal says why (%s)",
			   ms_options[cases[i].id].name, cases[i].value, why ? why : "(null)");
	}
}

static void test_help(void)
{
	char *full = capture_help(true), *brief = capture_help(false);

	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];

		ok(mentions_flag(full, o->name), "--help lists --%s", o->name);
		if (o->flags & MS_OPTF_BRIEF)
			ok(mentions_flag(brief, o->name), "-h lists --%s", o->name);
		if (o->env)
			ok(mentions_word(full, o->env), "--help documents %s", o->env);
		if (o->env2)
			ok(mentions_word(full, o->env2), "--help documents %s", o->env2);
	}
	/* read by the core outside the table (core/settings.c, core/credentials.c) */
	ok(mentions_word(full, "XDG_CONFIG_HOME"), "--help documents XDG_CONFIG_HOME");
	ok(mentions_word(full, "XDG_CACHE_HOME"), "--help documents XDG_CACHE_HOME");
	ok(mentions_flag(brief, "help"), "-h points at --help");
	ok(count_lines(brief) <= 40, "-h fits one screen: %zu lines", count_lines(brief));
	ok(count_lines(full) > count_lines(brief), "--help says more than -h");
	for (const char *p = full, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		if (nl - p > 100)
			ok(0, "--help line under 100 columns: %.*s", (int)(nl - p), p);
	}
	free(full);
	free(brief);
}

int main(void)
{
	test_names();
	test_kinds_and_defaults();
	test_bool_spellings();
	test_valid();
	test_help();
	return tap_done();
}
