/* SPDX-License-Identifier: MIT */
/* The read-only walk of a model folder: list, filter, sort, classify. */
#ifndef MS_FOLDER_H
#define MS_FOLDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mspublish/plugin.h"

/* st_mtim in ns, as ms_file.mtime_ns holds it. */
static inline int64_t ms_stat_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* SDK limits (protocol doc 4.2). */
#define MS_FOLDER_MAX_FILES 100000u
#define MS_FOLDER_MAX_FILES_IN_DIR 50000u
#define MS_FOLDER_MAX_FILE_SIZE (100ull << 30)
#define MS_FOLDER_NORMAL_TOTAL_WARN (500ull << 20)
#define MS_LFS_SIZE_THRESHOLD 1048576ull

/*
 * Limits of one walk.  A zero member means the protocol default above; tests
 * pass small values so that they need not create 100,000 files.
 */
struct ms_walk_limits {
	uint64_t max_files;          /* > this many files: error */
	uint64_t max_files_in_dir;   /* > this many in one directory: error */
	uint64_t max_file_size;      /* a file > this: error */
	uint64_t normal_total_warn;  /* normal files > this in total: warning */
};

/*
 * What to walk.  include/exclude are NULL-terminated lists (NULL = none);
 * each entry may itself hold several patterns separated by commas or
 * newlines, which ms_folder_walk() splits (empty pieces and leading blanks
 * are dropped), so the caller may pass a setting's value verbatim.  Matching is ms_folder_match() on the
 * path relative to the folder (without the path_in_repo prefix).  Default
 * ignores (protocol doc 4.3) are added to exclude; an ignore pattern that
 * appears verbatim in include is dropped from the ignore list.
 */
struct ms_walk_opts {
	const char *folder;         /* as given; resolved with realpath */
	const char *path_in_repo;   /* "" or "a/b"; slashes stripped */
	const char *const *include; /* fnmatch patterns; NULL-terminated */
	const char *const *exclude; /* fnmatch patterns; NULL-terminated */
	const struct ms_walk_limits *limits; /* NULL = protocol limits */
};

/* The walk's result.  Owns every string the ms_file entries point at. */
struct ms_filelist {
	struct ms_file *files;  /* sorted by repo_path, byte order */
	size_t n;
	uint64_t total_bytes;
	uint64_t lfs_bytes;
	size_t n_lfs;
	char *root;             /* realpath of the folder */
	void *priv;             /* storage owned by folder.c */
};

/*
 * Walk opts->folder (read only: nothing is created or written in it).
 * Regular files only, recursively, dotfiles included.  Symlinks: a link to a
 * file inside the folder is followed and listed under the link's own path; a
 * link to a directory inside the folder is descended unless that makes a
 * loop.  A link resolving outside the folder, a dangling link and a loop are
 * MS_EINVAL naming the path; a link whose own path is excluded by the
 * patterns is skipped silently instead.  The limits (file count, files in
 * one directory, file size) are checked on the unfiltered set, as the SDK
 * does.  A kept file whose name is not valid UTF-8 is MS_EINVAL (the hub
 * carries names as text).  Warnings through ms_warn: normal files over
 * 500 MiB in total, and each kept file whose name looks like a secret (.env,
 * *.pem, id_rsa*, .netrc, credentials*.json, *.key).  An empty result is
 * MS_EINVAL "no files to upload in <folder>".
 * Returns MS_OK or a negative ms_err with ms_error_set() called.
 */
int ms_folder_walk(struct ms_filelist **out, const struct ms_walk_opts *opts);
void ms_filelist_free(struct ms_filelist *list);

/*
 * Python fnmatch.fnmatchcase semantics on UTF-8 text: '*' crosses '/', '?'
 * is one code point, [set], [!set], ranges, an unclosed '[' is literal,
 * '\\' is literal (no escapes), case-sensitive.
 */
bool ms_folder_match(const char *pattern, const char *path);

/*
 * Protocol doc 4.4 for model repos: size > 1 MiB (strictly) or the
 * lower-cased suffix of the last path component (pathlib's rule: after the
 * last '.', which must be neither the first nor the last character) is in
 * the model LFS list.
 */
bool ms_folder_is_lfs(const char *repo_path, uint64_t size);

#endif
