/* SPDX-License-Identifier: MIT */
/**
 * @file mspublish/plugin.h
 * @brief The plugin SDK of mspublish: the only header a backend includes.
 *
 * A backend is a shared object `<name>.so` that exports exactly one symbol,
 * ms_plugin_entry().  The core calls it once, checks the ABI version and
 * struct size of the returned vtable, and from then on talks to the backend
 * only through struct ms_backend.  The backend talks to the core only through
 * struct ms_host: logging, errors, progress, settings, secret registration,
 * cancellation, and the shared file hasher.  Backends never parse INI files
 * or the environment themselves, and never print directly: all output goes
 * through the host, which scrubs secrets from it.
 *
 * Memory rules: whoever allocates frees.  Request structs and every string
 * the host returns are borrowed (valid for the call, or until destroy for
 * host strings).  Results go into caller-provided structs with fixed arrays;
 * no heap memory crosses the boundary.
 *
 * Needs only the C11 standard headers included below.
 */
#ifndef MSPUBLISH_PLUGIN_H
#define MSPUBLISH_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped on any incompatible change of the structs below. */
#define MS_PLUGIN_ABI_VERSION 1u
/** The one symbol a backend exports. */
#define MS_PLUGIN_ENTRY_SYMBOL "ms_plugin_entry"

#if defined(__GNUC__)
#define MS_PLUGIN_EXPORT __attribute__((visibility("default")))
#define MS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define MS_PLUGIN_EXPORT
#define MS_PRINTF(fmt, args)
#endif

/** Result codes: 0 on success, a negative value on failure. */
enum ms_err {
	MS_OK = 0,
	MS_ERROR = -1,      /**< anything without a name of its own */
	MS_ENOMEM = -2,
	MS_EINVAL = -3,     /**< bad input: settings, repo id, folder */
	MS_ENOTFOUND = -4,  /**< repo, revision or file does not exist */
	MS_EAUTH = -5,      /**< token missing, wrong or without rights */
	MS_ENET = -6,       /**< network: connect, timeout, reset, 5xx */
	MS_EPROTO = -7,     /**< the server said something we can't use */
	MS_EIO = -8,        /**< local file system */
	MS_EABI = -9,       /**< plugin ABI mismatch */
	MS_ECANCELED = -10, /**< Ctrl-C */
	MS_ECONFLICT = -11, /**< remote moved, cannot fast-forward */
	MS_ECHANGED = -12   /**< a local file changed while publishing */
};

enum ms_log_level {
	MS_LOG_ERROR = 0,
	MS_LOG_WARN = 1,
	MS_LOG_INFO = 2,    /**< normal progress lines; hidden by --quiet */
	MS_LOG_VERBOSE = 3  /**< request traces; shown with --verbose */
};

/** Capability bits for struct ms_backend.caps. */
#define MS_CAP_NETWORK (1u << 0) /**< talks to a hub */
#define MS_CAP_LFS (1u << 1)     /**< uploads large files as LFS blobs */
#define MS_CAP_RESUME (1u << 2)  /**< skips what the hub already has */
#define MS_CAP_DELETE (1u << 3)  /**< honours the "delete" setting */
#define MS_CAP_PLAN (1u << 4)    /**< only plans; sends nothing */

/**
 * One file of the folder to publish.  The core walks, filters, sorts and
 * classifies; the array arrives sorted by repo_path (byte order).  The
 * strings are owned by the core.
 */
struct ms_file {
	const char *path;      /**< local path to open (absolute) */
	const char *rel_path;  /**< relative to the folder, '/'-separated */
	const char *repo_path; /**< path_in_repo prefix + rel_path */
	uint64_t size;         /**< bytes, from stat() during the walk */
	int64_t mtime_ns;      /**< st_mtim in ns, from the walk */
	uint64_t dev, ino;     /**< identity, for the hash cache */
	bool lfs;              /**< protocol doc 4.4: an LFS file */
	bool hashed;           /**< sha256 is valid */
	bool hash_cached;      /**< the hash came from the cache */
	char sha256[65];       /**< lower-case hex SHA-256 when hashed */
};

/** Progress report, rate-limited and rendered by the host. */
struct ms_progress {
	uint32_t struct_size;
	const char *phase;      /**< "hashing", "uploading", "committing" */
	const char *path;       /**< current file or NULL */
	uint64_t bytes_done;
	uint64_t bytes_total;
	uint32_t files_done;
	uint32_t files_total;
};

/**
 * Services of the core, handed to create().  Owned by the core; valid until
 * destroy().  Every function is thread-safe unless said otherwise.
 */
struct ms_host {
	uint32_t abi_version; /**< MS_PLUGIN_ABI_VERSION of the core */
	uint32_t struct_size; /**< sizeof(struct ms_host) of the core */
	void *host_data;      /**< the core's; plugins don't touch it */

	/** Log a line (no trailing newline needed).  Secrets are scrubbed. */
	void (*log)(const struct ms_host *h, enum ms_log_level lvl,
		    const char *fmt, ...) MS_PRINTF(3, 4);
	/**
	 * Record the run's error message (scrubbed), replacing an earlier one,
	 * and return @p code, so a plugin writes
	 * `return h->error(h, MS_EAUTH, "...")`.
	 */
	int (*error)(const struct ms_host *h, int code, const char *fmt, ...)
		MS_PRINTF(3, 4);
	/**
	 * The effective value of a setting for this backend: the backend's
	 * own INI section, else the layered general value (defaults < INI <
	 * env < flags).  Keys are the long flag names ("jobs", "retries",
	 * "timeout", "visibility", "delete", ...).  Booleans read "true" or
	 * "false".  NULL when unset.  Borrowed until destroy().
	 */
	const char *(*config_get)(const struct ms_host *h, const char *key);
	/** Report progress; the host throttles and renders it. */
	void (*progress)(const struct ms_host *h, const struct ms_progress *p);
	/** Scrub @p secret from all output from now on (copied). */
	void (*add_secret)(const struct ms_host *h, const char *secret);
	/** True once the user pressed Ctrl-C: stop, commit nothing. */
	bool (*cancelled)(const struct ms_host *h);
	/**
	 * Hash @p n files in parallel on @p jobs threads (0 = all cores),
	 * streamed through fixed buffers, using and updating the hash cache
	 * outside the folder.  Sets sha256/hashed/hash_cached.  Reports
	 * "hashing" progress.  Not to be called from two threads at once.
	 * @return MS_OK, MS_EIO, MS_ECHANGED or MS_ECANCELED (message set)
	 */
	int (*hash_files)(const struct ms_host *h, struct ms_file *files,
			  size_t n, unsigned jobs);
	/**
	 * Re-stat @p f: MS_OK if size and mtime are what the walk saw, else
	 * MS_ECHANGED with the message set.  Call it before committing.
	 */
	int (*check_unchanged)(const struct ms_host *h, const struct ms_file *f);
	/**
	 * Print product output (a plan, a listing) to stdout, scrubbed.  Not
	 * shown with --json or --quiet: use report_json for --json.
	 */
	void (*print)(const struct ms_host *h, const char *fmt, ...)
		MS_PRINTF(2, 3);
	/**
	 * Attach a JSON value (text) under @p key to the --json output
	 * object.  Invalid JSON is dropped with a warning.
	 */
	void (*report_json)(const struct ms_host *h, const char *key,
			    const char *json_text);
	/** Directory for the backend's caches (created on demand). */
	const char *(*cache_dir)(const struct ms_host *h);
	/* New members are appended here; check struct_size before use. */
};

/** Arguments of login(). */
struct ms_login {
	uint32_t struct_size;
	const char *endpoint;     /**< base URL, no trailing slash */
	const char *token;        /**< NULL when none was found */
	const char *token_origin; /**< "--token", "MODELSCOPE_API_TOKEN", ... */
};

/** What login() learned. */
struct ms_identity {
	uint32_t struct_size;
	bool authenticated; /**< the hub accepted the token */
	char username[128]; /**< empty when unknown */
};

/** Arguments of upload_folder(). */
struct ms_upload {
	uint32_t struct_size;
	const char *endpoint;       /**< base URL, no trailing slash */
	const char *token;          /**< NULL when none was found */
	const char *repo_id;        /**< "owner/name", validated */
	const char *folder;         /**< absolute path of the folder */
	const char *path_in_repo;   /**< "" or "dir/sub" (no slashes at ends) */
	const char *revision;       /**< branch, default "master" */
	const char *commit_message;
	struct ms_file *files;      /**< walked, filtered, sorted, classified */
	size_t n_files;
	unsigned jobs;              /**< parallel transfers, >= 1 */
	bool delete_remote;         /**< --delete: remove remote orphans */
};

#define MS_RESULT_MAX_COMMITS 64

/** What upload_folder() did; filled by the backend, zeroed by the core. */
struct ms_upload_result {
	uint32_t struct_size;
	uint64_t files_total;     /**< files considered */
	uint64_t files_sent;      /**< files in commits (created/updated) */
	uint64_t files_unchanged; /**< identical on the hub already */
	uint64_t files_deleted;   /**< removed with --delete */
	uint64_t blobs_uploaded;  /**< LFS objects PUT */
	uint64_t blobs_skipped;   /**< LFS objects the hub already had */
	uint64_t bytes_uploaded;  /**< blob bytes plus inline bytes sent */
	uint32_t n_commits;
	char commit_ids[MS_RESULT_MAX_COMMITS][65];
	bool up_to_date;          /**< nothing to do: no commit, no push */
	bool repo_created;
	char repo_url[512];       /**< web or clone URL of the repo */
};

/**
 * The vtable a backend exports, a static const object.  All members up to
 * upload_folder are required; the loader refuses a NULL one and names it.
 */
struct ms_backend {
	uint32_t abi_version;   /**< MS_PLUGIN_ABI_VERSION at build time */
	uint32_t struct_size;   /**< sizeof(struct ms_backend) at build time */
	const char *name;       /**< equals the file name without ".so" */
	const char *description;
	uint32_t caps;          /**< MS_CAP_* bits */

	/**
	 * Make an instance.  On failure *self_out stays NULL, nothing is left
	 * allocated, and the message is set through host->error.
	 */
	int (*create)(void **self_out, const struct ms_host *host);
	/** Free an instance; NULL-safe. */
	void (*destroy)(void *self);
	/**
	 * Check the credentials against the hub (no-op for dryrun).
	 * @return MS_OK, MS_EAUTH, MS_ENET, MS_EPROTO, MS_ECANCELED
	 */
	int (*login)(void *self, const struct ms_login *req,
		     struct ms_identity *who_out);
	/**
	 * Publish req->files.  Blobs first, commits last: on failure nothing
	 * on the hub points at data that was not sent.
	 * @return MS_OK or any MS_E* code, with the message set
	 */
	int (*upload_folder)(void *self, const struct ms_upload *req,
			     struct ms_upload_result *out);
	/* Optional members are appended below, guarded by struct_size. */
};

/** The signature of the exported entry. */
typedef int (*ms_plugin_entry_fn)(const struct ms_backend **out,
				  uint32_t host_abi_version);

/**
 * Commit batch size of the hub protocol (protocol doc 4.9, adaptive): one
 * commit up to 100 files, then n/80 clamped to 64..256, then 512.
 */
static inline size_t ms_commit_batch_size(size_t n)
{
	size_t b;

	if (n <= 100)
		return n;
	if (n > 10000)
		return 512;
	b = n / 80;
	if (b < 64)
		b = 64;
	if (b > 256)
		b = 256;
	return b;
}

#ifdef __cplusplus
}
#endif
#endif /* MSPUBLISH_PLUGIN_H */
