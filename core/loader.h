/* SPDX-License-Identifier: MIT */
/* Finding, opening and checking backend plugins. */
#ifndef MS_LOADER_H
#define MS_LOADER_H

#include <stdbool.h>
#include <stdio.h>

#include "mspublish/plugin.h"

struct ms_plugin {
	const struct ms_backend *backend; /* borrowed from the .so */
	void *handle;                     /* dlopen handle */
	char *path;                       /* the file loaded */
};

/*
 * Load backend @p name.  @p dirs is a colon list searched first (from
 * --plugin-dir / MSPUBLISH_PLUGIN_DIR; may be NULL), then the build tree
 * when the binary runs from it, then the installed plugin directory.
 * Each failure sets one line naming the backend and the path.
 */
int ms_loader_open(struct ms_plugin **out, const char *name, const char *dirs);
void ms_loader_close(struct ms_plugin *p);

/* --list-backends: every loadable backend with description and caps. */
int ms_loader_list(FILE *f, const char *dirs);

/* True if backend @p name can be found on the search path (not loaded). */
bool ms_loader_exists(const char *name, const char *dirs);
/* "dryrun, git, http": the backends on the search path. */
void ms_loader_names(char *buf, size_t len, const char *dirs);

/* Backend names are [a-z0-9-]{1,32}; no '/', no "..". */
int ms_loader_check_name(const char *name);

/* "network,lfs,resume" for a caps mask (static buffer not used). */
void ms_loader_caps_str(char *buf, size_t len, uint32_t caps);

#endif
