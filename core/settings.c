/* SPDX-License-Identifier: MIT */
/*
 * Layered settings.  argv is parsed first (it names the settings file and
 * the profile) but applied last: defaults < INI < environment < flags.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials.h"
#include "error.h"
#include "inifile.h"
#include "loader.h"
#include "log.h"
#include "ms_config.h"
#include "paths.h"
#include "settings.h"

static void value_clear(struct ms_value *v)
{
	free(v->value);
	free(v->origin);
	v->value = NULL;
	v->origin = NULL;
	v->layer = MS_LAYER_NONE;
}

/*
 * Set a value.  A list option set again within the same layer grows (flags
 * and keys may repeat); a higher layer replaces it.
 */
static int value_set(struct ms_value *v, enum ms_opt_id id, const char *val,
		     const char *origin, enum ms_layer layer)
{
	char *nv;

	if (ms_options[id].kind == MS_OPT_LIST && v->value && v->layer == layer) {
		if (asprintf(&nv, "%s\n%s", v->value, val) < 0)
			return MS_ENOMEM;
	} else {
		nv = strdup(val);
		if (!nv)
			return MS_ENOMEM;
	}
	if (ms_options[id].kind == MS_OPT_BOOL) {
		const char *b = ms_options_bool(val);

		free(nv);
		nv = strdup(b ? b : val);
		if (!nv)
			return MS_ENOMEM;
	}
	if (v->value && (ms_options[id].flags & MS_OPTF_SECRET))
		explicit_bzero(v->value, strlen(v->value));
	free(v->value);
	free(v->origin);
	v->value = nv;
	v->origin = strdup(origin);
	v->layer = layer;
	return v->origin ? MS_OK : MS_ENOMEM;
}

/* Whitespace stripped in place; the seed did this for tokens. */
static char *strip(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

char *ms_settings_expand_home(const char *path)
{
	const char *home = getenv("HOME");
	char *out;

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home && *home) {
		if (asprintf(&out, "%s%s", home, path + 1) < 0)
			return NULL;
		return out;
	}
	return strdup(path);
}

char *ms_settings_normalize_endpoint(const char *url)
{
	char *tmp = strdup(url), *s, *out;
	size_t n;

	if (!tmp)
		return NULL;
	s = strip(tmp);
	if (strstr(s, "://")) {
		out = strdup(s);
	} else if (asprintf(&out, "https://%s", s) < 0) {
		out = NULL;
	}
	free(tmp);
	if (!out)
		return NULL;
	n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

int ms_settings_check_repo_id(const char *id)
{
	const char *slash;

	if (!id || !*id)
		return ms_error_set(MS_EINVAL,
				    "repo id is empty: pass --repo-id OWNER/NAME or set REPO_ID");
	slash = strchr(id, '/');
	if (!slash || slash == id || !slash[1] || strchr(slash + 1, '/'))
		return ms_error_set(MS_EINVAL,
				    "repo id \"%s\" is not of the form OWNER/NAME", id);
	for (const char *p = id; *p; p++) {
		if (*p != '/' && !name_char(*p))
			return ms_error_set(MS_EINVAL,
					    "repo id \"%s\" has a character the hub does not allow: "
					    "use letters, digits, '-', '_' and '.'", id);
	}
	if (id[0] == '.' || slash[1] == '.' || strstr(id, ".."))
		return ms_error_set(MS_EINVAL,
				    "repo id \"%s\": owner and name may not start with '.' or contain \"..\"",
				    id);
	return MS_OK;
}

int ms_settings_clean_path_in_repo(char **out, const char *path)
{
	const char *b = path, *e = path + strlen(path), *seg;

	*out = NULL;
	while (*b == '/')
		b++;
	while (e > b && e[-1] == '/')
		e--;
	for (seg = b; seg < e;) {
		const char *end = memchr(seg, '/', (size_t)(e - seg));
		size_t len;

		if (!end)
			end = e;
		len = (size_t)(end - seg);
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return ms_error_set(MS_EINVAL,
					    "path in repo \"%s\" has an empty, \".\" or \"..\" part",
					    path);
		seg = end + 1;
	}
	if (memchr(b, '\\', (size_t)(e - b)))
		return ms_error_set(MS_EINVAL,
				    "path in repo \"%s\": use '/' as the separator", path);
	*out = strndup(b, (size_t)(e - b));
	return *out ? MS_OK : MS_ENOMEM;
}

char *ms_settings_login_path(void)
{
	return ms_paths_config("login");
}

/* ---- the flag layer -------------------------------------------------- */

struct flag_layer {
	struct ms_value v[MS_O_COUNT];
};

static int parse_argv(struct flag_layer *fl, struct ms_settings *s, int argc,
		      char *argv[])
{
	struct option longopts[MS_O_COUNT + 1];
	char shortopts[3 * MS_O_COUNT + 2];
	size_t ns = 0;
	int c, rc = MS_OK;

	shortopts[ns++] = ':'; /* report a missing argument as ':' */
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];

		longopts[i].name = o->name;
		longopts[i].has_arg = o->kind == MS_OPT_BOOL ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
		if (o->short_name) {
			shortopts[ns++] = o->short_name;
			if (o->kind != MS_OPT_BOOL)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[MS_O_COUNT], 0, sizeof(longopts[0]));
	shortopts[ns] = '\0';

	s->command = "upload";
	if (argc > 1 && (!strcmp(argv[1], "login") || !strcmp(argv[1], "logout"))) {
		s->command = !strcmp(argv[1], "login") ? "login" : "logout";
		argv++;
		argc--;
	}
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then also forgets a half-read "-xy" */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t id = MS_O_COUNT;
		char origin[64], *val;
		const char *why = NULL;

		if (c == '?') {
			const char *arg = argv[optind - 1];

			if (optopt >= 256 && optopt < 256 + MS_O_COUNT)
				return ms_error_set(MS_EINVAL, "option --%s takes no value",
						    ms_options[optopt - 256].name);
			if (optopt > 0 && optopt < 256)
				return ms_error_set(MS_EINVAL, "unknown option -%c (see mspublish --help)",
						    optopt);
			/* never echo "=value": a mistyped --token=... must not leak */
			return ms_error_set(MS_EINVAL, "unknown option \"%.*s\" (see mspublish --help)",
					    (int)strcspn(arg, "="), arg);
		}
		if (c == ':')
			return ms_error_set(MS_EINVAL, "option \"%s\" needs a value",
					    argv[optind - 1]);
		if (c >= 256) {
			id = (size_t)c - 256;
		} else {
			for (size_t i = 0; i < MS_O_COUNT; i++)
				if (ms_options[i].short_name == c)
					id = i;
		}
		if (id >= MS_O_COUNT)
			return ms_error_set(MS_EINVAL, "unknown option (see mspublish --help)");
		snprintf(origin, sizeof(origin), "--%s", ms_options[id].name);
		if (ms_options[id].kind == MS_OPT_BOOL) {
			rc = value_set(&fl->v[id], (enum ms_opt_id)id, "true", origin, MS_LAYER_FLAG);
			if (rc)
				return ms_error_set(rc, "out of memory");
			continue;
		}
		/* an empty value counts as unset, as in the environment */
		val = strip(optarg);
		if (!*val)
			continue;
		if (!ms_options_valid(&ms_options[id], val, &why))
			return ms_error_set(MS_EINVAL, "--%s %s: %s", ms_options[id].name,
					    id == MS_O_TOKEN ? "***" : val, why);
		rc = value_set(&fl->v[id], (enum ms_opt_id)id, val, origin, MS_LAYER_FLAG);
		if (rc)
			return ms_error_set(rc, "out of memory");
	}
	if (optind < argc)
		return ms_error_set(MS_EINVAL,
				    "unexpected argument \"%s\" (settings are given as --options; see mspublish --help)",
				    argv[optind]);
	return MS_OK;
}

/* ---- the file layer -------------------------------------------------- */

struct file_ctx {
	struct ms_settings *s;
	const char *path;
	const char *profile;     /* --profile, or NULL */
	bool profile_seen;
	struct ms_value general[MS_O_COUNT];
	struct ms_value profile_v[MS_O_COUNT];
	bool has_token;
};

static bool backend_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 32)
		return false;
	for (; *n; n++)
		if (!(islower((unsigned char)*n) || isdigit((unsigned char)*n) || *n == '-'))
			return false;
	return true;
}

static struct ms_section *section_get(struct ms_settings *s, const char *name)
{
	struct ms_section *grown;

	for (size_t i = 0; i < s->n_sections; i++)
		if (!strcmp(s->sections[i].name, name))
			return &s->sections[i];
	grown = realloc(s->sections, (s->n_sections + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	s->sections = grown;
	memset(&grown[s->n_sections], 0, sizeof(*grown));
	snprintf(grown[s->n_sections].name, sizeof(grown->name), "%s", name);
	return &grown[s->n_sections++];
}

static int file_key(const char *section, const char *key, const char *value,
		    int line, bool continued, void *payload)
{
	struct file_ctx *fc = payload;
	const struct ms_option *o = ms_options_find(key);
	struct ms_value *target;
	char origin[4200];
	const char *why = NULL;
	char *val, *copy;
	enum ms_opt_id id;
	int rc;

	if (!*section)
		return ms_error_set(MS_EINVAL,
				    "%s:%d: %s: key outside a section (start the file with [mspublish])",
				    fc->path, line, key);
	if (!o)
		return ms_error_set(MS_EINVAL, "%s:%d: %s: unknown key in [%s] (see mspublish --help)",
				    fc->path, line, key, section);
	if (o->flags & MS_OPTF_NO_INI)
		return ms_error_set(MS_EINVAL, "%s:%d: %s: cannot be set in a settings file",
				    fc->path, line, key);
	id = (enum ms_opt_id)(o - ms_options);
	copy = strdup(value);
	if (!copy)
		return MS_ENOMEM;
	val = strip(copy);
	if (!ms_options_valid(o, val, &why)) {
		rc = ms_error_set(MS_EINVAL, "%s:%d: %s: %s (got \"%s\")", fc->path, line,
				  key, why, id == MS_O_TOKEN ? "***" : val);
		free(copy);
		return rc;
	}
	if (!strcmp(section, "mspublish")) {
		target = &fc->general[id];
	} else if (!strncmp(section, "profile ", 8)) {
		const char *pname = section + 8;

		while (*pname == ' ')
			pname++;
		if (!fc->profile || strcmp(pname, fc->profile)) {
			free(copy);
			return MS_OK; /* another profile's key */
		}
		fc->profile_seen = true;
		target = &fc->profile_v[id];
	} else if (backend_name_ok(section)) {
		struct ms_section *sec;

		if (id == MS_O_BACKEND) {
			free(copy);
			return ms_error_set(MS_EINVAL, "%s:%d: backend: cannot be set in a backend section",
					    fc->path, line);
		}
		sec = section_get(fc->s, section);
		if (!sec || (!sec->where && asprintf(&sec->where, "%s:%d", fc->path, line) < 0)) {
			free(copy);
			return MS_ENOMEM;
		}
		target = &sec->v[id];
	} else {
		free(copy);
		return ms_error_set(MS_EINVAL,
				    "%s:%d: [%s]: unknown section (use [mspublish], [profile NAME] or a backend name)",
				    fc->path, line, section);
	}
	if (id == MS_O_TOKEN && *val)
		fc->has_token = true;
	snprintf(origin, sizeof(origin), "%s:%d", fc->path, line);
	if (continued && ms_options[id].kind != MS_OPT_LIST) {
		rc = ms_error_set(MS_EINVAL,
				  "%s:%d: %s: continuation lines are only for lists (include, exclude)",
				  fc->path, line, key);
	} else if (!*val) {
		/* an empty value counts as unset, like an empty variable */
		rc = MS_OK;
	} else {
		rc = value_set(target, id, val, origin, MS_LAYER_FILE);
	}
	explicit_bzero(copy, strlen(copy));
	free(copy);
	return rc;
}

/* The settings file: --config, $MSPUBLISH_CONFIG, XDG, sysconfdir. */
static int find_config(char **out, const struct flag_layer *fl)
{
	const char *explicit_path = fl->v[MS_O_CONFIG].value;
	const char *env = getenv("MSPUBLISH_CONFIG");
	char *cand = NULL;

	*out = NULL;
	if (!explicit_path && env && *env)
		explicit_path = env;
	if (explicit_path) {
		cand = ms_settings_expand_home(explicit_path);
		if (!cand)
			return MS_ENOMEM;
		if (access(cand, R_OK)) {
			int rc = ms_error_set(MS_EINVAL, "settings file \"%s\" (from %s): %s",
					      cand, fl->v[MS_O_CONFIG].value ? "--config" : "MSPUBLISH_CONFIG",
					      strerror(errno));
			free(cand);
			return rc;
		}
		*out = cand;
		return MS_OK;
	}
	cand = ms_paths_config("mspublish.ini");
	if (cand && !access(cand, F_OK)) {
		*out = cand;
		return MS_OK;
	}
	free(cand);
	if (asprintf(&cand, "%s/mspublish/mspublish.ini", MS_SYSCONFDIR) < 0)
		return MS_ENOMEM;
	if (!access(cand, F_OK)) {
		*out = cand;
		return MS_OK;
	}
	free(cand);
	return MS_OK;
}

/*
 * inih reports no section without keys, so an empty [profile NAME] is
 * found by reading the headers ourselves.
 */
static bool has_profile_header(const char *path, const char *profile)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *p, *e;
	size_t cap = 0;
	bool found = false;

	while (f && !found && getline(&line, &cap, f) >= 0) {
		p = strip(line);
		e = strchr(p, ']');
		if (*p != '[' || !e)
			continue;
		*e = '\0';
		p = strip(p + 1);
		if (strncmp(p, "profile ", 8))
			continue;
		found = !strcmp(strip(p + 8), profile);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

/*
 * A backend section must name a backend that exists: a misspelt
 * [mspublsh] or [htttp] must stop the run, not be skipped silently.
 */
static int check_sections(const struct ms_settings *s)
{
	char names[512];

	for (size_t i = 0; i < s->n_sections; i++) {
		if (ms_loader_exists(s->sections[i].name, s->v[MS_O_PLUGIN_DIR].value))
			continue;
		ms_loader_names(names, sizeof(names), s->v[MS_O_PLUGIN_DIR].value);
		return ms_error_set(MS_EINVAL,
				    "%s: [%s]: unknown section (use [mspublish], [profile NAME] "
				    "or a backend name: %s)",
				    s->sections[i].where, s->sections[i].name, names);
	}
	return MS_OK;
}

/* ---- putting the layers together ------------------------------------ */

static int apply(struct ms_settings *s, enum ms_opt_id id, const struct ms_value *v)
{
	if (!v->value)
		return MS_OK;
	/* a list given again in a higher layer replaces the lower one */
	if (s->v[id].layer != v->layer && ms_options[id].kind == MS_OPT_LIST)
		value_clear(&s->v[id]);
	return value_set(&s->v[id], id, v->value, v->origin, v->layer);
}

static int apply_env(struct ms_settings *s, enum ms_opt_id id)
{
	const struct ms_option *o = &ms_options[id];
	const char *names[2] = { o->env, o->env2 };
	const char *why = NULL;

	/* the settings file variable is read where the file is looked up */
	if (id == MS_O_CONFIG)
		return MS_OK;
	for (size_t i = 0; i < 2; i++) {
		const char *raw = names[i] ? getenv(names[i]) : NULL;
		char *copy, *val, origin[64];
		int rc;

		if (!raw)
			continue;
		copy = strdup(raw);
		if (!copy)
			return MS_ENOMEM;
		val = strip(copy);
		if (!*val) { /* empty counts as unset */
			free(copy);
			continue;
		}
		if (!ms_options_valid(o, val, &why)) {
			rc = ms_error_set(MS_EINVAL, "%s: %s", names[i], why);
			free(copy);
			return rc;
		}
		snprintf(origin, sizeof(origin), "%s", names[i]);
		rc = value_set(&s->v[id], id, val, origin, MS_LAYER_ENV);
		explicit_bzero(copy, strlen(copy));
		free(copy);
		return rc;
	}
	return MS_OK;
}

static int apply_defaults(struct ms_settings *s)
{
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		int rc;

		if (!ms_options[i].def)
			continue;
		rc = value_set(&s->v[i], (enum ms_opt_id)i, ms_options[i].def, "default",
			       MS_LAYER_DEFAULT);
		if (rc)
			return rc;
	}
	return MS_OK;
}

/* Replace v's value by fn(value); a NULL result means out of memory. */
static int rewrite(struct ms_value *v, char *(*fn)(const char *))
{
	char *n;

	if (!v->value)
		return MS_OK;
	n = fn(v->value);
	if (!n)
		return MS_ENOMEM;
	free(v->value);
	v->value = n;
	return MS_OK;
}

static int clean_path_in_repo(struct ms_value *v)
{
	char *n;
	int rc;

	if (!v->value)
		return MS_OK;
	rc = ms_settings_clean_path_in_repo(&n, v->value);
	if (rc == MS_EINVAL) {
		/* say where the value came from: file:line or the flag */
		char *msg = strdup(ms_error_last());

		ms_error_set(rc, "%s: path-in-repo: %s", v->origin, msg ? msg : "invalid");
		free(msg);
	} else if (!rc) {
		free(v->value);
		v->value = n;
	}
	return rc;
}

/* Tidy values whose spelling matters: endpoint, folder, path in repo, in
 * the backend sections too (ms_settings_backend_get hands them out). */
static int normalize(struct ms_settings *s)
{
	int rc = rewrite(&s->v[MS_O_ENDPOINT], ms_settings_normalize_endpoint);

	if (!rc)
		rc = rewrite(&s->v[MS_O_MODEL_DIR], ms_settings_expand_home);
	if (!rc)
		rc = clean_path_in_repo(&s->v[MS_O_PATH_IN_REPO]);
	for (size_t i = 0; i < s->n_sections && !rc; i++) {
		rc = rewrite(&s->sections[i].v[MS_O_ENDPOINT], ms_settings_normalize_endpoint);
		if (!rc)
			rc = clean_path_in_repo(&s->sections[i].v[MS_O_PATH_IN_REPO]);
	}
	return rc;
}

static void warn_token_file(const char *path)
{
	struct stat st;

	if (!stat(path, &st) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		ms_warn("%s holds a token and can be read by other users: run chmod 600 \"%s\"",
			path, path);
}

int ms_settings_load(struct ms_settings **out, int argc, char *argv[])
{
	struct ms_settings *s = calloc(1, sizeof(*s));
	struct flag_layer fl;
	struct file_ctx fc;
	int rc;

	memset(&fl, 0, sizeof(fl));
	memset(&fc, 0, sizeof(fc));
	*out = s;
	if (!s)
		return ms_error_set(MS_ENOMEM, "out of memory");
	rc = parse_argv(&fl, s, argc, argv);
	if (rc)
		goto out;
	rc = apply_defaults(s);
	if (rc)
		goto out;

	rc = find_config(&s->config_path, &fl);
	if (rc)
		goto out;
	fc.s = s;
	fc.path = s->config_path;
	fc.profile = fl.v[MS_O_PROFILE].value;
	if (!fc.profile && getenv("MSPUBLISH_PROFILE") && *getenv("MSPUBLISH_PROFILE"))
		fc.profile = getenv("MSPUBLISH_PROFILE");
	if (s->config_path) {
		rc = ms_ini_parse(s->config_path, file_key, &fc);
		if (rc)
			goto out;
		if (fc.has_token)
			warn_token_file(s->config_path);
	}
	if (fc.profile && !fc.profile_seen && s->config_path)
		fc.profile_seen = has_profile_header(s->config_path, fc.profile);
	if (fc.profile && !fc.profile_seen) {
		rc = ms_error_set(MS_EINVAL, "profile \"%s\" not found%s%s", fc.profile,
				  s->config_path ? " in " : " (no settings file)",
				  s->config_path ? s->config_path : "");
		goto out;
	}
	for (size_t i = 0; i < MS_O_COUNT && !rc; i++)
		rc = apply(s, (enum ms_opt_id)i, &fc.general[i]);
	for (size_t i = 0; i < MS_O_COUNT && !rc; i++) {
		/* a profile's list replaces the [mspublish] one, like any key */
		if (fc.profile_v[i].value && ms_options[i].kind == MS_OPT_LIST)
			value_clear(&s->v[i]);
		rc = apply(s, (enum ms_opt_id)i, &fc.profile_v[i]);
	}
	for (size_t i = 0; i < MS_O_COUNT && !rc; i++)
		rc = apply_env(s, (enum ms_opt_id)i);
	for (size_t i = 0; i < MS_O_COUNT && !rc; i++)
		rc = apply(s, (enum ms_opt_id)i, &fl.v[i]);
	if (rc)
		goto out;
	/*
	 * Plugin folders are a search path, not one value: all layers that set
	 * one are searched, the highest first (flag, variable, file).
	 */
	{
		const struct ms_value *file_pd = fc.profile_v[MS_O_PLUGIN_DIR].value
							 ? &fc.profile_v[MS_O_PLUGIN_DIR]
							 : &fc.general[MS_O_PLUGIN_DIR];
		const char *env_pd = getenv("MSPUBLISH_PLUGIN_DIR");
		const char *parts[3] = { fl.v[MS_O_PLUGIN_DIR].value,
					 env_pd && *env_pd ? env_pd : NULL, file_pd->value };
		char *joined = NULL;

		for (size_t i = 0; i < 3 && !rc; i++) {
			char *next;

			if (!parts[i])
				continue;
			if (asprintf(&next, "%s%s%s", joined ? joined : "", joined ? ":" : "",
				     parts[i]) < 0)
				rc = MS_ENOMEM;
			else {
				free(joined);
				joined = next;
			}
		}
		if (joined && !rc) {
			free(s->v[MS_O_PLUGIN_DIR].value);
			s->v[MS_O_PLUGIN_DIR].value = joined;
			joined = NULL;
		}
		free(joined);
	}
	if (rc)
		goto out;
	if (!s->v[MS_O_TOKEN].value) {
		char *tok = NULL, *origin = NULL;

		if (ms_credentials_read(&tok, &origin) == MS_OK && tok) {
			s->v[MS_O_TOKEN].value = tok;
			s->v[MS_O_TOKEN].origin = origin;
			s->v[MS_O_TOKEN].layer = MS_LAYER_LOGIN;
		}
	}
	rc = normalize(s);
	if (!rc)
		rc = check_sections(s);
out:
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		value_clear(&fl.v[i]);
		value_clear(&fc.general[i]);
		value_clear(&fc.profile_v[i]);
	}
	if (rc == MS_ENOMEM)
		ms_error_set(rc, "out of memory");
	return rc;
}

void ms_settings_free(struct ms_settings *s)
{
	if (!s)
		return;
	if (s->v[MS_O_TOKEN].value)
		explicit_bzero(s->v[MS_O_TOKEN].value, strlen(s->v[MS_O_TOKEN].value));
	for (size_t i = 0; i < MS_O_COUNT; i++)
		value_clear(&s->v[i]);
	for (size_t j = 0; j < s->n_sections; j++)
		for (size_t i = 0; i < MS_O_COUNT; i++) {
			if (i == MS_O_TOKEN && s->sections[j].v[i].value)
				explicit_bzero(s->sections[j].v[i].value,
					       strlen(s->sections[j].v[i].value));
			value_clear(&s->sections[j].v[i]);
		}
	for (size_t j = 0; j < s->n_sections; j++)
		free(s->sections[j].where);
	free(s->sections);
	free(s->config_path);
	free(s);
}

const char *ms_settings_get(const struct ms_settings *s, enum ms_opt_id id)
{
	return s->v[id].value;
}

const char *ms_settings_origin(const struct ms_settings *s, enum ms_opt_id id)
{
	return s->v[id].origin;
}

bool ms_settings_bool(const struct ms_settings *s, enum ms_opt_id id)
{
	return s->v[id].value && !strcmp(s->v[id].value, "true");
}

long ms_settings_int(const struct ms_settings *s, enum ms_opt_id id)
{
	return s->v[id].value ? strtol(s->v[id].value, NULL, 10) : 0;
}

const char *ms_settings_backend_get(const struct ms_settings *s,
				    const char *backend, const char *key)
{
	const struct ms_option *o = ms_options_find(key);
	size_t id;

	if (!o)
		return NULL;
	id = (size_t)(o - ms_options);
	/* secrets travel in the request structs, never through lookups */
	if (o->flags & MS_OPTF_SECRET)
		return NULL;
	for (size_t i = 0; backend && i < s->n_sections; i++)
		/* the section is part of the file layer: env and flags win */
		if (!strcmp(s->sections[i].name, backend) && s->sections[i].v[id].value &&
		    s->v[id].layer <= MS_LAYER_FILE)
			return s->sections[i].v[id].value;
	return s->v[id].value;
}

void ms_settings_show(const struct ms_settings *s, FILE *f)
{
	ms_out(f, "settings file: %s\n", s->config_path ? s->config_path : "(none)");
	for (size_t i = 0; i < MS_O_COUNT; i++) {
		const struct ms_option *o = &ms_options[i];
		const struct ms_value *v = &s->v[i];

		if (o->flags & MS_OPTF_ACTION)
			continue;
		if (o->flags & MS_OPTF_SECRET) {
			if (v->value)
				ms_out(f, "%-16s set (from %s)\n", o->name, v->origin);
			else
				ms_out(f, "%-16s not set\n", o->name);
			continue;
		}
		if (v->value) {
			char *flat = strdup(v->value);

			for (char *p = flat; p && *p; p++)
				if (*p == '\n')
					*p = ',';
			ms_out(f, "%-16s %s (from %s)\n", o->name, flat ? flat : "", v->origin);
			free(flat);
		} else {
			ms_out(f, "%-16s (unset)\n", o->name);
		}
	}
	for (size_t j = 0; j < s->n_sections; j++)
		for (size_t i = 0; i < MS_O_COUNT; i++) {
			const struct ms_value *v = &s->sections[j].v[i];

			if (!v->value)
				continue;
			if (ms_options[i].flags & MS_OPTF_SECRET)
				ms_out(f, "[%s] %-11s set (from %s)\n", s->sections[j].name,
					ms_options[i].name, v->origin);
			else
				ms_out(f, "[%s] %-11s %s (from %s)\n", s->sections[j].name,
					ms_options[i].name, v->value, v->origin);
		}
}
