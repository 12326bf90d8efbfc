/* SPDX-License-Identifier: MIT */
/* Where mspublish keeps its own files (XDG dirs) and making their folders. */
#ifndef MS_PATHS_H
#define MS_PATHS_H

/*
 * "$XDG_CONFIG_HOME/mspublish/<name>" (else "$HOME/.config/mspublish/...")
 * and the same under XDG_CACHE_HOME / ~/.cache.  NULL when neither variable
 * is set, or on allocation failure.  Malloc'd.
 */
char *ms_paths_config(const char *name);
char *ms_paths_cache(const char *name);

/* mkdir -p @p dir with mode 0700; 0 or -1 with errno set. */
int ms_paths_mkdirs(const char *dir);
/* mkdir -p the folder that holds @p file. */
int ms_paths_mkdirs_parent(const char *file);

#endif
