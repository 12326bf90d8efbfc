/* SPDX-License-Identifier: MIT */
/* The one option table: flag, INI key, environment names, default, help. */
#ifndef MS_OPTIONS_H
#define MS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

enum ms_opt_kind {
	MS_OPT_STRING,
	MS_OPT_INT,  /* a non-negative integer */
	MS_OPT_BOOL, /* a flag; "true"/"false" in values */
	MS_OPT_LIST  /* repeatable; values joined with '\n', commas split */
};

/* Where an option may be set besides the command line. */
#define MS_OPTF_NO_INI (1u << 0)  /* command line (and env) only */
#define MS_OPTF_SECRET (1u << 1)  /* never printed */
#define MS_OPTF_ACTION (1u << 2)  /* does something instead of a setting */
#define MS_OPTF_BRIEF (1u << 3)   /* listed in the short help */

struct ms_option {
	const char *name;   /* long flag, INI key and config_get() key */
	char short_name;    /* 0 when none */
	enum ms_opt_kind kind;
	const char *env;    /* environment variable, or NULL */
	const char *env2;   /* fallback variable, or NULL */
	const char *def;    /* built-in default, or NULL */
	const char *arg;    /* metavariable in --help */
	const char *help;
	unsigned flags;
};

/* Indexes into the table, in table order. */
enum ms_opt_id {
	MS_O_BACKEND,
	MS_O_REPO_ID,
	MS_O_MODEL_DIR,
	MS_O_TOKEN,
	MS_O_COMMIT_MESSAGE,
	MS_O_ENDPOINT,
	MS_O_REVISION,
	MS_O_PATH_IN_REPO,
	MS_O_INCLUDE,
	MS_O_EXCLUDE,
	MS_O_JOBS,
	MS_O_HASH,
	MS_O_DELETE,
	MS_O_NO_CREATE,
	MS_O_VISIBILITY,
	MS_O_LICENSE,
	MS_O_RETRIES,
	MS_O_TIMEOUT,
	MS_O_GIT_URL,
	MS_O_FORCE,
	MS_O_PLUGIN_DIR,
	MS_O_CONFIG,
	MS_O_PROFILE,
	MS_O_JSON,
	MS_O_QUIET,
	MS_O_VERBOSE,
	MS_O_STRICT,
	MS_O_SHOW_CONFIG,
	MS_O_LIST_BACKENDS,
	MS_O_VERSION,
	MS_O_HELP,
	MS_O_COUNT
};

extern const struct ms_option ms_options[MS_O_COUNT];

/* The option named @p name, or NULL. */
const struct ms_option *ms_options_find(const char *name);
/* Check a value for the option's kind; on failure a message in @p why. */
bool ms_options_valid(const struct ms_option *o, const char *value,
		      const char **why);
/* Normalise a boolean spelling to "true"/"false"; NULL if not one. */
const char *ms_options_bool(const char *value);
/* Print the short (one screen) or the full help. */
void ms_options_help(bool full);

#endif
