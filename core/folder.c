/* SPDX-License-Identifier: MIT */
/* The read-only walk of a model folder: list, filter, sort, classify. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "folder.h"
#include "log.h"

/* Protocol doc 4.3: the SDK's default ignores plus its state files. */
static const char *const default_ignores[] = {
	".git", ".git/*", "*/.git", "**/.git/**",
	".cache", ".cache/*", "*/.cache", "**/.cache/**",
	".ms_upload_cache", "*/.ms_upload_cache",
	".ms_upload_progress", "*/.ms_upload_progress",
	NULL
};

/* Protocol doc 4.4: LFS suffixes of model repos (lower case, with dot). */
static const char *const model_lfs_suffixes[] = {
	".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5",
	".joblib", ".mlmodel", ".model", ".msgpack", ".npy", ".npz", ".onnx",
	".ot", ".parquet", ".pb", ".pickle", ".pkl", ".pt", ".pth", ".rar",
	".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip",
	".zst",
	NULL
};

/* Names that look like credentials: warned about when they are uploaded. */
static const char *const secret_names[] = {
	".env", "*.pem", "id_rsa*", ".netrc", "credentials*.json", "*.key",
	NULL
};

/*
 * Next code point of UTF-8 text, advancing *s.  A byte that does not start
 * a valid sequence stands for itself as U+DC80..U+DCFF, the way Python's
 * surrogateescape decodes file names, so that '?' still eats one unit.
 */
static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = p[0], min;
	int len, i;

	if (c < 0x80) {
		*s = p + 1;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		goto invalid;
	}
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto invalid;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto invalid;
	*s = p + len;
	return c;
invalid:
	*s = p + 1;
	return 0xdc00u + p[0];
}

/*
 * Match code point c against the set that starts after '[' at *pp.  On a
 * closed set, advance *pp past its ']' and return 1 (match) or 0; return -1
 * when the set is not closed (the '[' is then a literal).  Follows
 * fnmatch.translate: '!' negates, a ']' right after '[' or '[!' is literal,
 * "a-z" is a range (an empty one matches nothing), other characters, '\\'
 * included, are literal.
 */
static int match_set(const unsigned char **pp, uint32_t c)
{
	const unsigned char *p = *pp, *end, *q;
	bool negate = false, hit = false;
	uint32_t lo, hi;

	end = p;
	if (*end == '!')
		end++;
	if (*end == ']')
		end++;
	while (*end && *end != ']')
		end++;
	if (!*end)
		return -1;
	if (*p == '!') {
		negate = true;
		p++;
	}
	while (p < end) {
		lo = next_cp(&p);
		hi = lo;
		if (p < end && *p == '-' && p + 1 < end) {
			q = p + 1;
			hi = next_cp(&q);
			p = q;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	*pp = end + 1;
	return hit != negate;
}

/* One pattern token at *pp against code point c; advances *pp. */
static bool match_one(const unsigned char **pp, uint32_t c)
{
	const unsigned char *p = *pp;
	int r;

	if (*p == '?') {
		*pp = p + 1;
		return true;
	}
	if (*p == '[') {
		p++;
		r = match_set(&p, c);
		if (r >= 0) {
			*pp = p;
			return r == 1;
		}
		*pp = *pp + 1;
		return c == '[';
	}
	return next_cp(pp) == c;
}

bool ms_folder_match(const char *pattern, const char *path)
{
	const unsigned char *p = (const unsigned char *)pattern;
	const unsigned char *s = (const unsigned char *)path;
	const unsigned char *star_p = NULL, *star_s = NULL, *s_next, *p_next;
	uint32_t c;

	while (*s) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		s_next = s;
		c = next_cp(&s_next);
		p_next = p;
		if (*p && match_one(&p_next, c)) {
			p = p_next;
			s = s_next;
			continue;
		}
		if (!star_p)
			return false;
		/* let the last '*' eat one more code point and retry */
		next_cp(&star_s);
		s = star_s;
		p = star_p;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* pathlib's PurePosixPath(path).suffix, lower-cased into buf. */
static void path_suffix(char *buf, size_t bufsize, const char *path)
{
	const char *name, *dot;
	size_t len, i;

	buf[0] = '\0';
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	dot = strrchr(name, '.');
	if (!dot || dot == name || dot[1] == '\0')
		return;
	len = strlen(dot);
	if (len >= bufsize)
		return;
	for (i = 0; i <= len; i++)
		buf[i] = (dot[i] >= 'A' && dot[i] <= 'Z') ? dot[i] - 'A' + 'a'
							  : dot[i];
}

bool ms_folder_is_lfs(const char *repo_path, uint64_t size)
{
	char suffix[32];
	size_t i;

	if (size > MS_LFS_SIZE_THRESHOLD)
		return true;
	path_suffix(suffix, sizeof(suffix), repo_path);
	if (!suffix[0])
		return false;
	for (i = 0; model_lfs_suffixes[i]; i++)
		if (!strcmp(suffix, model_lfs_suffixes[i]))
			return true;
	return false;
}

/* A growable list of owned strings. */
struct strlist {
	char **v;
	size_t n, cap;
};

static int strlist_add(struct strlist *l, const char *s, size_t len)
{
	char **nv;
	char *copy;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		nv = realloc(l->v, l->cap * sizeof(*nv));
		if (!nv)
			return ms_error_set(MS_ENOMEM, "out of memory");
		l->v = nv;
	}
	copy = strndup(s, len);
	if (!copy)
		return ms_error_set(MS_ENOMEM, "out of memory");
	l->v[l->n++] = copy;
	return MS_OK;
}

/*
 * Add each non-empty piece of every entry of src, split at commas and
 * newlines (a setting given several times arrives newline-joined), leading
 * blanks dropped: "a, b\nc" gives a, b and c.
 */
static int strlist_add_split(struct strlist *l, const char *const *src)
{
	const char *s;
	size_t len;
	int rc;

	for (; src && *src; src++) {
		for (s = *src;; s += len + 1) {
			while (*s == ' ')
				s++;
			len = strcspn(s, ",\n");
			if (len > 0) {
				rc = strlist_add(l, s, len);
				if (rc)
					return rc;
			}
			if (!s[len])
				break;
		}
	}
	return MS_OK;
}

static bool strlist_has(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

static bool strlist_match(const struct strlist *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (ms_folder_match(l->v[i], path))
			return true;
	return false;
}

static void strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

struct dir_id {
	dev_t dev;
	ino_t ino;
};

/* State of one walk. */
struct walk {
	const char *root;           /* realpath of the folder */
	size_t root_len;
	const char *prefix;         /* path_in_repo without slashes, or "" */
	struct strlist include, exclude;
	struct ms_walk_limits lim;
	struct ms_file *files;
	size_t n, cap;
	uint64_t n_seen;            /* regular files, unfiltered */
	uint64_t normal_bytes;      /* normal files, unfiltered */
	struct dir_id *stack;       /* directories being walked */
	size_t depth, stack_cap;
};

static bool walk_kept(const struct walk *w, const char *rel)
{
	if (w->include.n && !strlist_match(&w->include, rel))
		return false;
	return !strlist_match(&w->exclude, rel);
}

static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s;

	s = malloc(la + lb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

/* Count a regular file of the unfiltered set against the limits. */
static int walk_count(struct walk *w, const char *rel, const struct stat *st)
{
	w->n_seen++;
	if (w->n_seen > w->lim.max_files)
		return ms_error_set(MS_EINVAL,
				    "folder \"%s\" has more than %" PRIu64
				    " files (the hub's limit, counted before "
				    "--include/--exclude)",
				    w->root, w->lim.max_files);
	if ((uint64_t)st->st_size > w->lim.max_file_size)
		return ms_error_set(MS_EINVAL,
				    "file \"%s\" is %" PRIu64 " bytes, more "
				    "than the hub's limit of %" PRIu64 " bytes",
				    rel, (uint64_t)st->st_size,
				    w->lim.max_file_size);
	if (!ms_folder_is_lfs(rel, (uint64_t)st->st_size))
		w->normal_bytes += (uint64_t)st->st_size;
	return MS_OK;
}

/*
 * A kept file's name must be UTF-8: the hub's JSON and the git tree carry
 * it as text.  The error shows the name with each bad byte as '?'.
 */
static int check_utf8(const char *rel)
{
	const unsigned char *p = (const unsigned char *)rel, *prev;
	char shown[512];
	size_t n = 0;
	bool bad = false;
	uint32_t c;

	while (*p) {
		prev = p;
		c = next_cp(&p);
		if (c >= 0xdc80 && c <= 0xdcff) {
			bad = true;
			if (n < sizeof(shown) - 1)
				shown[n++] = '?';
			continue;
		}
		while (prev < p && n < sizeof(shown) - 1)
			shown[n++] = (char)*prev++;
	}
	shown[n] = '\0';
	if (!bad)
		return MS_OK;
	return ms_error_set(MS_EINVAL,
			    "file name \"%s\" is not valid UTF-8 ('?' marks "
			    "the bad bytes); rename it or --exclude it",
			    shown);
}

static int walk_add(struct walk *w, const char *abs, const char *rel,
		    const struct stat *st)
{
	size_t la = strlen(abs), lr = strlen(rel), lp = strlen(w->prefix);
	size_t lrepo = lp ? lp + 1 + lr : lr;
	struct ms_file *nf, *f;
	char *block;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		nf = realloc(w->files, w->cap * sizeof(*nf));
		if (!nf)
			return ms_error_set(MS_ENOMEM, "out of memory");
		w->files = nf;
	}
	/* one block per file: path, rel_path, repo_path */
	block = malloc(la + 1 + lr + 1 + lrepo + 1);
	if (!block)
		return ms_error_set(MS_ENOMEM, "out of memory");
	f = &w->files[w->n++];
	memset(f, 0, sizeof(*f));
	memcpy(block, abs, la + 1);
	f->path = block;
	block += la + 1;
	memcpy(block, rel, lr + 1);
	f->rel_path = block;
	block += lr + 1;
	if (lp) {
		memcpy(block, w->prefix, lp);
		block[lp] = '/';
		memcpy(block + lp + 1, rel, lr + 1);
	} else {
		memcpy(block, rel, lr + 1);
	}
	f->repo_path = block;
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = ms_stat_mtime_ns(st);
	f->dev = (uint64_t)st->st_dev;
	f->ino = (uint64_t)st->st_ino;
	f->lfs = ms_folder_is_lfs(f->repo_path, f->size);
	return MS_OK;
}

static bool walk_on_stack(const struct walk *w, const struct stat *st)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (w->stack[i].dev == st->st_dev &&
		    w->stack[i].ino == st->st_ino)
			return true;
	return false;
}

static int walk_dir(struct walk *w, const char *abs, const char *rel,
		    const struct stat *dst);

/*
 * A symlink at abs/rel.  Followed when it resolves inside the folder to a
 * file, or to a directory that is not one of the directories being walked.
 * Broken, outside or looping links are errors unless their path is
 * excluded, in which case they are skipped.  *st_out gets the target's
 * stat; returns 1 when the caller should treat it as a file, 2 as a
 * directory, 0 to skip, or a negative error.
 */
static int walk_link(struct walk *w, const char *abs, const char *rel,
		     struct stat *st_out)
{
	char *target;
	bool kept, inside;
	int rc = 0, err;

	kept = walk_kept(w, rel);
	target = realpath(abs, NULL);
	if (!target) {
		err = errno;
		if (!kept)
			return 0;
		if (err == ENOENT)
			return ms_error_set(MS_EINVAL,
					    "symlink \"%s\" is dangling (its "
					    "target does not exist)", rel);
		if (err == ELOOP)
			return ms_error_set(MS_EINVAL,
					    "symlink \"%s\" is a symlink loop",
					    rel);
		return ms_error_set(MS_EIO, "cannot resolve symlink \"%s\": %s",
				    rel, strerror(err));
	}
	inside = !strcmp(w->root, "/") ||
		 (!strncmp(target, w->root, w->root_len) &&
		  (target[w->root_len] == '/' || target[w->root_len] == '\0'));
	if (stat(abs, st_out) != 0) {
		err = errno;
		if (kept)
			rc = ms_error_set(MS_EIO, "cannot stat \"%s\": %s", rel,
					  strerror(err));
		goto out;
	}
	if (!inside) {
		if (kept)
			rc = ms_error_set(MS_EINVAL,
					  "symlink \"%s\" points outside the "
					  "folder (to \"%s\")", rel, target);
		else if (S_ISREG(st_out->st_mode))
			rc = walk_count(w, rel, st_out); /* MS_OK: skip */
		goto out;
	}
	if (S_ISREG(st_out->st_mode)) {
		rc = 1;
	} else if (S_ISDIR(st_out->st_mode)) {
		if (walk_on_stack(w, st_out)) {
			if (kept)
				rc = ms_error_set(MS_EINVAL,
						  "symlink \"%s\" makes a loop "
						  "(it points to \"%s\", which "
						  "contains it)", rel, target);
			goto out;
		}
		rc = 2;
	}
out:
	free(target);
	return rc;
}

static int walk_entry(struct walk *w, const char *abs, const char *rel,
		      const char *dir_rel, uint64_t *n_in_dir)
{
	struct stat st;
	int kind, rc;

	if (lstat(abs, &st) != 0)
		return ms_error_set(MS_EIO, "cannot stat \"%s\": %s", rel,
				    strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		kind = walk_link(w, abs, rel, &st);
		if (kind <= 0)
			return kind;
	} else if (S_ISREG(st.st_mode)) {
		kind = 1;
	} else if (S_ISDIR(st.st_mode)) {
		kind = 2;
	} else {
		return MS_OK; /* sockets, fifos, devices: not files */
	}
	if (kind == 2)
		return walk_dir(w, abs, rel, &st);
	(*n_in_dir)++;
	if (*n_in_dir > w->lim.max_files_in_dir)
		return ms_error_set(MS_EINVAL,
				    "directory \"%s\" holds more than %" PRIu64
				    " files (the hub's limit per directory)",
				    *dir_rel ? dir_rel : ".",
				    w->lim.max_files_in_dir);
	rc = walk_count(w, rel, &st);
	if (rc)
		return rc;
	if (!walk_kept(w, rel))
		return MS_OK;
	rc = check_utf8(rel);
	if (rc)
		return rc;
	return walk_add(w, abs, rel, &st);
}

static int walk_dir(struct walk *w, const char *abs, const char *rel,
		    const struct stat *dst)
{
	struct dir_id *ns;
	struct dirent *de;
	DIR *d = NULL;
	char *cabs = NULL, *crel = NULL;
	uint64_t n_in_dir = 0;
	int rc = MS_OK;

	if (w->depth == w->stack_cap) {
		w->stack_cap = w->stack_cap ? 2 * w->stack_cap : 32;
		ns = realloc(w->stack, w->stack_cap * sizeof(*ns));
		if (!ns)
			return ms_error_set(MS_ENOMEM, "out of memory");
		w->stack = ns;
	}
	w->stack[w->depth].dev = dst->st_dev;
	w->stack[w->depth].ino = dst->st_ino;
	w->depth++;
	d = opendir(abs);
	if (!d) {
		rc = ms_error_set(MS_EIO, "cannot read directory \"%s\": %s",
				  *rel ? rel : abs, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = ms_error_set(MS_EIO,
						  "cannot read directory "
						  "\"%s\": %s",
						  *rel ? rel : abs,
						  strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cabs = path_join(abs, de->d_name);
		crel = *rel ? path_join(rel, de->d_name) : strdup(de->d_name);
		if (!cabs || !crel) {
			rc = ms_error_set(MS_ENOMEM, "out of memory");
			goto out;
		}
		rc = walk_entry(w, cabs, crel, rel, &n_in_dir);
		free(cabs);
		free(crel);
		cabs = crel = NULL;
		if (rc)
			goto out;
	}
out:
	free(cabs);
	free(crel);
	if (d)
		closedir(d);
	w->depth--;
	return rc;
}

static int cmp_repo_path(const void *a, const void *b)
{
	const struct ms_file *fa = a, *fb = b;

	return strcmp(fa->repo_path, fb->repo_path);
}

static void warn_secrets(const struct ms_filelist *list)
{
	const char *name;
	size_t i, k;

	for (i = 0; i < list->n; i++) {
		name = strrchr(list->files[i].rel_path, '/');
		name = name ? name + 1 : list->files[i].rel_path;
		for (k = 0; secret_names[k]; k++) {
			if (ms_folder_match(secret_names[k], name)) {
				ms_warn("\"%s\" looks like a secret (%s) and "
					"would be published; exclude it with "
					"--exclude if it is one",
					list->files[i].rel_path,
					secret_names[k]);
				break;
			}
		}
	}
}

static void free_files(struct ms_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)files[i].path);
	free(files);
}

int ms_folder_walk(struct ms_filelist **out, const struct ms_walk_opts *opts)
{
	struct ms_filelist *list = NULL;
	struct walk w;
	struct stat st;
	char *root = NULL, *prefix = NULL;
	const char *pir;
	size_t i, len;
	int rc;

	memset(&w, 0, sizeof(w));
	*out = NULL;
	if (!opts || !opts->folder || !*opts->folder)
		return ms_error_set(MS_EINVAL, "no model folder given");
	root = realpath(opts->folder, NULL);
	if (!root) {
		rc = ms_error_set(errno == ENOENT ? MS_EINVAL : MS_EIO,
				  "model folder \"%s\": %s", opts->folder,
				  strerror(errno));
		goto out;
	}
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = ms_error_set(MS_EINVAL,
				  "model folder \"%s\" is not a directory",
				  opts->folder);
		goto out;
	}
	pir = opts->path_in_repo ? opts->path_in_repo : "";
	while (*pir == '/')
		pir++;
	len = strlen(pir);
	while (len && pir[len - 1] == '/')
		len--;
	prefix = strndup(pir, len);
	if (!prefix) {
		rc = ms_error_set(MS_ENOMEM, "out of memory");
		goto out;
	}

	w.root = root;
	w.root_len = strlen(root);
	w.prefix = prefix;
	w.lim.max_files = MS_FOLDER_MAX_FILES;
	w.lim.max_files_in_dir = MS_FOLDER_MAX_FILES_IN_DIR;
	w.lim.max_file_size = MS_FOLDER_MAX_FILE_SIZE;
	w.lim.normal_total_warn = MS_FOLDER_NORMAL_TOTAL_WARN;
	if (opts->limits) {
		if (opts->limits->max_files)
			w.lim.max_files = opts->limits->max_files;
		if (opts->limits->max_files_in_dir)
			w.lim.max_files_in_dir =
				opts->limits->max_files_in_dir;
		if (opts->limits->max_file_size)
			w.lim.max_file_size = opts->limits->max_file_size;
		if (opts->limits->normal_total_warn)
			w.lim.normal_total_warn =
				opts->limits->normal_total_warn;
	}

	rc = strlist_add_split(&w.include, opts->include);
	if (rc)
		goto out;
	rc = strlist_add_split(&w.exclude, opts->exclude);
	if (rc)
		goto out;
	rc = strlist_add_split(&w.exclude, default_ignores);
	if (rc)
		goto out;
	/* an ignore pattern the user explicitly allows is dropped */
	for (i = 0; i < w.exclude.n;) {
		if (strlist_has(&w.include, w.exclude.v[i])) {
			free(w.exclude.v[i]);
			w.exclude.v[i] = w.exclude.v[--w.exclude.n];
		} else {
			i++;
		}
	}

	rc = walk_dir(&w, root, "", &st);
	if (rc)
		goto out;
	if (w.normal_bytes > w.lim.normal_total_warn)
		ms_warn("normal (non-LFS) files in \"%s\" total %" PRIu64
			" bytes, more than %" PRIu64 " bytes: the hub may "
			"refuse commits that large",
			opts->folder, w.normal_bytes, w.lim.normal_total_warn);
	if (!w.n) {
		rc = ms_error_set(MS_EINVAL, "no files to upload in %s",
				  opts->folder);
		goto out;
	}

	list = calloc(1, sizeof(*list));
	if (!list) {
		rc = ms_error_set(MS_ENOMEM, "out of memory");
		goto out;
	}
	qsort(w.files, w.n, sizeof(*w.files), cmp_repo_path);
	list->files = w.files;
	list->n = w.n;
	w.files = NULL;
	w.n = 0;
	for (i = 0; i < list->n; i++) {
		list->total_bytes += list->files[i].size;
		if (list->files[i].lfs) {
			list->n_lfs++;
			list->lfs_bytes += list->files[i].size;
		}
	}
	list->root = root;
	root = NULL;
	warn_secrets(list);
	*out = list;
	rc = MS_OK;
out:
	free_files(w.files, w.n);
	free(w.stack);
	strlist_free(&w.include);
	strlist_free(&w.exclude);
	free(prefix);
	free(root);
	return rc;
}

void ms_filelist_free(struct ms_filelist *list)
{
	if (!list)
		return;
	free_files(list->files, list->n);
	free(list->root);
	free(list);
}
