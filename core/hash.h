/* SPDX-License-Identifier: MIT */
/* Parallel, streamed SHA-256 of files, with a cache outside the folder. */
#ifndef MS_HASH_H
#define MS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mspublish/plugin.h"

/* Entries the cache file keeps at most (this run's files first). */
#define MS_HASHCACHE_MAX 100000u
/*
 * A file whose mtime is less than this before the start of hashing is not
 * stored in the cache: written in the same clock tick as it was read, it
 * could change again without its mtime moving ("racily clean" in git).
 */
#define MS_HASHCACHE_RACY_NS 2000000000ll

/*
 * The cache (opts->cache_path, outside the model folder) maps absolute path
 * + size + mtime_ns + dev + inode to a SHA-256.  It is read before hashing
 * (a match sets hashed and hash_cached without reading the file) and
 * rewritten atomically afterwards (temp file + rename, mode 0600, parent
 * directories created 0700), also after a failed run, keeping the files
 * hashed so far.  A missing or damaged cache is ignored; entries of other
 * folders are kept while their file exists unchanged, up to
 * MS_HASHCACHE_MAX.  Failing to save is only logged (verbose).
 */
struct ms_hash_opts {
	unsigned jobs;            /* threads; 0 = online CPUs */
	const char *cache_path;   /* hash cache file, NULL = no cache */
	/* progress callback, called from worker threads (serialised) */
	void (*progress)(const struct ms_progress *p, void *payload);
	bool (*cancelled)(void *payload);
	void *payload;
};

/* Counters of the last ms_hash_files() call, for tests and benchmarks. */
struct ms_hash_stats {
	uint64_t files_hashed;    /* read from disk */
	uint64_t files_cached;    /* taken from the cache */
	uint64_t bytes_hashed;
};

/*
 * Hash every file not yet hashed, largest first, on opts->jobs threads, each
 * with one fixed buffer (1 MiB; less when many threads), O_NOATIME where
 * allowed.  A file whose size or mtime differs from what the walk recorded
 * (checked with fstat on the open file, and by the byte count read) is
 * MS_ECHANGED naming it.  opts->cancelled is polled between buffers
 * (MS_ECANCELED).  opts and stats may be NULL.  Files already hashed are
 * left alone and not counted.
 * Returns MS_OK or a negative ms_err with ms_error_set() called.
 */
int ms_hash_files(struct ms_file *files, size_t n,
		  const struct ms_hash_opts *opts, struct ms_hash_stats *stats);

/* SHA-256 of one file, streamed; hex gets 64 lower-case digits + NUL. */
int ms_hash_one(char hex[65], const char *path, uint64_t *size_out);

/* Re-stat: MS_OK when size and mtime still match the walk. */
int ms_hash_check_unchanged(const struct ms_file *f);

#endif
