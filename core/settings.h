/* SPDX-License-Identifier: MIT */
/*
 * Layered settings: built-in defaults < INI file < environment < flags.
 * Every value remembers where it came from, for --show-config.
 */
#ifndef MS_SETTINGS_H
#define MS_SETTINGS_H

#include <stdbool.h>
#include <stdio.h>

#include "options.h"

enum ms_layer {
	MS_LAYER_NONE = 0,
	MS_LAYER_DEFAULT,
	MS_LAYER_FILE,
	MS_LAYER_ENV,
	MS_LAYER_FLAG,
	MS_LAYER_LOGIN /* token only: the stored login, below the file */
};

struct ms_value {
	char *value;    /* NULL = unset */
	char *origin;   /* "default", "file.ini:12", "env REPO_ID", "--repo-id" */
	enum ms_layer layer;
};

/* A backend's own INI section ([http], [git], ...). */
struct ms_section {
	char name[40];
	char *where;    /* "file.ini:3": the section's first key */
	struct ms_value v[MS_O_COUNT];
};

struct ms_settings {
	struct ms_value v[MS_O_COUNT]; /* effective general values */
	struct ms_section *sections;
	size_t n_sections;
	char *config_path;             /* the settings file read, or NULL */
	const char *command;           /* "upload", "login" or "logout" */
};

/*
 * Parse argv, find and read the settings file, apply the environment and
 * resolve the token.  Returns MS_OK or MS_EINVAL with ms_error_set() called
 * (usage and file:line errors).  *out is set even on failure (for cleanup).
 */
int ms_settings_load(struct ms_settings **out, int argc, char *argv[]);
void ms_settings_free(struct ms_settings *s);

/* Effective value or NULL; borrowed from s. */
const char *ms_settings_get(const struct ms_settings *s, enum ms_opt_id id);
const char *ms_settings_origin(const struct ms_settings *s, enum ms_opt_id id);
bool ms_settings_bool(const struct ms_settings *s, enum ms_opt_id id);
long ms_settings_int(const struct ms_settings *s, enum ms_opt_id id);
/* A backend's view: its own section first, then the general value. */
const char *ms_settings_backend_get(const struct ms_settings *s,
				    const char *backend, const char *key);

/* --show-config: every setting with its origin; the token never shown. */
void ms_settings_show(const struct ms_settings *s, FILE *f);

/* Helpers shared with tests. */
char *ms_settings_expand_home(const char *path);       /* "~/x" -> "$HOME/x" */
char *ms_settings_normalize_endpoint(const char *url); /* scheme, no '/' end */
int ms_settings_check_repo_id(const char *repo_id);    /* MS_OK / MS_EINVAL */
/* Strip '/' at both ends; refuse "..", "." and empty segments. */
int ms_settings_clean_path_in_repo(char **out, const char *path);
/* Where `mspublish login` keeps the token: $XDG_CONFIG_HOME/mspublish/... */
char *ms_settings_login_path(void);

#endif
