/* SPDX-License-Identifier: MIT */
/* Internal API of the git backend (not installed).  Everything is prefixed
 * msgit_ so that nothing can be mistaken for (or clash with) libgit2. */
#ifndef MSGIT_GIT_H
#define MSGIT_GIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "ms_config.h"
#include "mspublish/plugin.h"

/* The hub's git remote, how to talk to it, and per-attempt state. */
struct msgit_target {
	const struct ms_host *host;
	char *url;              /* remote URL, never with userinfo */
	const char *tokens[2];  /* tried in order; a NULL ends the list */
	const char *revision;   /* branch name */
	char refname[512];      /* refs/heads/<revision>, built once */
	unsigned retries;       /* extra attempts on network errors */
	long timeout_s;         /* libcurl connect timeout and stall limit */
	bool force;             /* --force: allow a non-fast-forward push */
	int token_used;         /* index into tokens[] that worked, or -1 */
	/* per libgit2 operation */
	int auth_tries;
	bool auth_failed;
	bool cancelled_flag;
	bool push_rejected;     /* the branch moved: another push was first */
	char push_status[256];  /* "ref: reason" of a refused update, or "" */
	size_t push_bytes;
	git_oid expected_tip;   /* remote tip we built on (zero: none) */
};

/* One LFS file of the new commit. */
struct msgit_lfs_obj {
	const struct ms_file *file; /* borrowed */
	bool uploaded;              /* PUT (and verify) done */
	bool skipped;               /* the server already had it */
};

struct msgit_lfs_stats {
	uint64_t uploaded;
	uint64_t skipped;
	uint64_t bytes;
};

/*
 * Send every object the server lacks through the git-lfs batch API at
 * <url>/info/lfs/objects/batch, @p jobs PUTs in parallel.  MS_OK only when
 * every object is confirmed (uploaded and verified, or already there).
 */
int msgit_lfs_upload(struct msgit_target *t, struct msgit_lfs_obj *objs,
		     size_t n, unsigned jobs, struct msgit_lfs_stats *stats);

/* libgit2 failure -> ms_err code, with the run's message set. */
int msgit_fail(struct msgit_target *t, int gerr, const char *what);

/* Connect, find refs/heads/<rev> and download it unless we have it.
 * MS_ENOTFOUND (message set) when the repository does not exist. */
int msgit_fetch_tip(struct msgit_target *t, git_repository *repo,
		    git_oid *tip_out, bool *exists_out);

/* Push refs/heads/<rev>.  *rejected_out: the remote moved since the
 * fetch (MS_ECONFLICT); the caller may fetch and rebuild once. */
int msgit_push_branch(struct msgit_target *t, git_repository *repo,
		      bool *rejected_out);

/* statcache.c: blob ids of unchanged normal files between runs. */
struct msgit_statcache;
struct msgit_statcache *msgit_statcache_load(const char *gitdir);
void msgit_statcache_free(struct msgit_statcache *c);
bool msgit_statcache_get(struct msgit_statcache *c, git_odb *odb,
			 const struct ms_file *f, git_oid *out);
int msgit_statcache_put(struct msgit_statcache *c, const struct ms_file *f,
			const git_oid *id);
void msgit_statcache_restart(struct msgit_statcache *c);
uint64_t msgit_statcache_hits(const struct msgit_statcache *c);
void msgit_statcache_save(struct msgit_statcache *c,
			  const struct ms_host *h);

/* Building the new tree from the remote's. */
struct msgit_build {
	const struct ms_upload *req;
	git_repository *repo;
	git_tree *base;           /* the remote tree, or NULL */
	bool *changed;            /* out, n_files: entry added or changed */
	struct msgit_statcache *stat; /* or NULL */
	git_oid tree_id;          /* out */
	uint64_t files_sent;      /* out: entries added or changed */
	uint64_t files_unchanged;
	uint64_t files_deleted;
	uint64_t bytes_normal;    /* out: bytes of changed normal files */
	bool attrs_changed;
	git_oid empty_ptr;        /* the LFS pointer of an empty file */
};

int msgit_tree_build(struct msgit_target *t, struct msgit_build *b);

/* Does .gitattributes text already give @p path filter=lfs? */
bool msgit_attrs_covers(const char *text, size_t len, const char *path);
/* The .gitattributes pattern of one exact path, escaped like git-lfs
 * (root names anchored with '/'); malloc'd, NULL when out of memory. */
char *msgit_attrs_escape(const char *path);

/* The token the git remote accepted (else the first one), and the HTTP
 * Basic header that carries it ("Authorization: Basic <oauth2:token>",
 * malloc'd; wipe it before freeing). */
const char *msgit_token(const struct msgit_target *t);
char *msgit_basic_header(const char *token);

#endif
