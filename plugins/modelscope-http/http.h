/* SPDX-License-Identifier: MIT */
/* Internals of the http backend, shared by its source files. */
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mspublish/plugin.h"
#include "net.h"

/* One backend instance (create .. destroy). */
struct http_ctx {
	const struct ms_host *host;
	struct msnet *net;
	char *net_endpoint; /* what net was made for */
	char *net_token;
};

/* One file of the remote tree (protocol doc 7.1). */
struct http_remote_file {
	char *path;
	uint64_t size;
	char sha256[65]; /* lower-case hex, "" when the hub gave none */
};

struct http_remote {
	struct http_remote_file *files; /* sorted by path (strcmp) */
	size_t n;
};

/* One commit action. */
struct http_action {
	const struct ms_file *file; /* NULL for a delete */
	const char *path;           /* repo path */
};

/* Make (or reuse) the network state for this endpoint and token. */
int http_net(struct http_ctx *c, const char *endpoint, const char *token);

/* Repository exists / create (protocol doc 3.1, 3.2). */
int http_repo_ensure(struct http_ctx *c, const char *owner, const char *name,
		     bool *created_out);

/*
 * List the remote tree of @p revision.  A 404 (no such repository or
 * revision) is an empty list with *found_out false.
 */
int http_remote_list(struct http_ctx *c, const char *owner, const char *name,
		     const char *revision, struct http_remote *out,
		     bool *found_out);
void http_remote_free(struct http_remote *r);
const struct http_remote_file *http_remote_find(const struct http_remote *r,
						const char *path);

/*
 * LFS batch check (protocol doc 4.6) for @p n objects (<= 64): on return
 * hrefs[i] is a malloc'd upload URL, or NULL when the hub has the object.
 */
int http_lfs_batch(struct http_ctx *c, const char *owner, const char *name,
		   const struct ms_file *const *objs, size_t n, char **hrefs);

/*
 * One commit (protocol doc 4.8) with the body streamed: normal files are
 * base64-encoded from disk, their SHA-256 checked while reading.  On
 * success @p commit_id gets the hub's id ("" if none).
 */
int http_commit(struct http_ctx *c, const char *owner, const char *name,
		const char *revision, const char *message,
		const struct http_action *acts, size_t n,
		char commit_id[65]);

/* The upload_folder implementation (upload.c). */
int http_upload_folder(struct http_ctx *c, const struct ms_upload *req,
		       struct ms_upload_result *out);

#endif
