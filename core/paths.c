/* SPDX-License-Identifier: MIT */
/* Where mspublish keeps its own files: never inside the model folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "paths.h"

/* $var/mspublish/name, else $HOME/home_sub/mspublish/name. */
static char *xdg(const char *var, const char *home_sub, const char *name)
{
	const char *base = getenv(var), *home = getenv("HOME");
	char *out = NULL;
	int n = -1;

	if (base && *base)
		n = asprintf(&out, "%s/mspublish%s%s", base, *name ? "/" : "", name);
	else if (home && *home)
		n = asprintf(&out, "%s/%s/mspublish%s%s", home, home_sub, *name ? "/" : "", name);
	return n < 0 ? NULL : out;
}

char *ms_paths_config(const char *name)
{
	return xdg("XDG_CONFIG_HOME", ".config", name);
}

char *ms_paths_cache(const char *name)
{
	return xdg("XDG_CACHE_HOME", ".cache", name);
}

int ms_paths_mkdirs(const char *dir)
{
	char *d = strdup(dir), *p;
	int rc = 0;

	if (!d)
		return -1;
	for (p = d + 1; *p && !rc; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0700) && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (!rc && mkdir(d, 0700)) {
		struct stat st;

		/* an existing file of that name is no folder */
		if (errno != EEXIST)
			rc = -1;
		else if (stat(d, &st) || !S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	free(d);
	return rc;
}

int ms_paths_mkdirs_parent(const char *file)
{
	char *d = strdup(file), *slash;
	int rc = 0;

	if (!d)
		return -1;
	slash = strrchr(d, '/');
	if (slash && slash != d) {
		*slash = '\0';
		rc = ms_paths_mkdirs(d);
	}
	free(d);
	return rc;
}
