/* SPDX-License-Identifier: MIT */
/* Parallel, streamed SHA-256 of files, with a cache outside the folder. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "error.h"
#include "folder.h"
#include "hash.h"
#include "paths.h"
#include "log.h"

/*
 * Read size per thread.  1 MiB is where throughput stops improving on the
 * benchmark machine (bench/hash.sh); the total is capped so many threads
 * still keep memory flat.
 */
#define HASH_BUF_SIZE (1u << 20)
#define HASH_BUF_MIN (128u << 10)
#define HASH_BUF_TOTAL_MAX (16u << 20)

#define CACHE_MAGIC "mspublish-hashcache 1"

static void hex_encode(char hex[65], const unsigned char *md)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

static const char *file_name(const struct ms_file *f)
{
	return f->rel_path ? f->rel_path : f->path;
}

/* Open for reading without touching atime where we may. */
static int open_read(const char *path)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* ---- the hash cache ----------------------------------------------------
 * A text file, one entry a line after the magic line:
 *   <sha256> <size> <mtime_ns> <dev> <ino> <absolute path>
 * with '\\' and newline in the path escaped as "\\\\" and "\\n".  Loaded
 * whole into a sorted array (bounded by HASHCACHE_MAX entries), consulted
 * before hashing, and rewritten atomically at the end.
 */

struct cache_entry {
	char *path;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t dev, ino;
	char sha256[65];
};

struct cache {
	struct cache_entry *v;
	size_t n, cap;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct cache_entry *ea = a, *eb = b;

	return strcmp(ea->path, eb->path);
}

static void cache_free(struct cache *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

static bool is_hex64(const char *s)
{
	int i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Undo the path escaping in place; false on a malformed escape. */
static bool unescape_path(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		s++;
		if (*s == '\\')
			*w++ = '\\';
		else if (*s == 'n')
			*w++ = '\n';
		else
			return false;
	}
	*w = '\0';
	return true;
}

/* Parse one line into e (path malloc'd); false when it is malformed. */
static bool parse_line(struct cache_entry *e, char *line)
{
	unsigned long long size, dev, ino;
	long long mtime;
	char *p, *end;

	if (strlen(line) < 66 || !is_hex64(line) || line[64] != ' ')
		return false;
	memcpy(e->sha256, line, 64);
	e->sha256[64] = '\0';
	p = line + 65;
	errno = 0;
	size = strtoull(p, &end, 10);
	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	mtime = strtoll(p, &end, 10);
	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	dev = strtoull(p, &end, 10);
	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	ino = strtoull(p, &end, 10);
	if (end == p || *end != ' ' || errno)
		return false;
	p = end + 1;
	if (*p != '/' || !unescape_path(p))
		return false;
	e->size = size;
	e->mtime_ns = mtime;
	e->dev = dev;
	e->ino = ino;
	e->path = strdup(p);
	return e->path != NULL;
}

static int cache_push(struct cache *c, const struct cache_entry *e)
{
	struct cache_entry *nv;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 256;
		nv = realloc(c->v, c->cap * sizeof(*nv));
		if (!nv)
			return ms_error_set(MS_ENOMEM, "out of memory");
		c->v = nv;
	}
	c->v[c->n++] = *e;
	return MS_OK;
}

/*
 * Load the cache file.  A missing, unreadable or foreign file gives an
 * empty cache; malformed lines are skipped.
 */
static int cache_load(struct cache *c, const char *path)
{
	struct cache_entry e;
	char *line = NULL;
	size_t linecap = 0, i, k;
	ssize_t len;
	FILE *f;
	int rc = MS_OK;

	f = fopen(path, "re");
	if (!f)
		return MS_OK;
	len = getline(&line, &linecap, f);
	if (len <= 0 || strncmp(line, CACHE_MAGIC "\n", (size_t)len) != 0 ||
	    (size_t)len != strlen(CACHE_MAGIC "\n"))
		goto out;
	while (c->n < MS_HASHCACHE_MAX) {
		len = getline(&line, &linecap, f);
		if (len < 0)
			break;
		if (len == 0 || line[len - 1] != '\n')
			continue; /* a torn last line */
		line[len - 1] = '\0';
		memset(&e, 0, sizeof(e));
		if (!parse_line(&e, line)) {
			free(e.path);
			continue;
		}
		rc = cache_push(c, &e);
		if (rc) {
			free(e.path);
			goto out;
		}
	}
	/* sort for bsearch; of equal paths (a damaged file) keep one */
	if (c->n) /* qsort(NULL, 0) is undefined */
		qsort(c->v, c->n, sizeof(*c->v), cmp_entry);
	for (i = k = 0; i < c->n; i++) {
		if (k && !strcmp(c->v[k - 1].path, c->v[i].path)) {
			free(c->v[i].path);
			continue;
		}
		c->v[k++] = c->v[i];
	}
	c->n = k;
out:
	if (rc)
		cache_free(c);
	free(line);
	fclose(f);
	return rc;
}

static const struct cache_entry *cache_find(const struct cache *c,
					    const char *path)
{
	struct cache_entry key;

	if (!c->n)
		return NULL;
	key.path = (char *)path;
	return bsearch(&key, c->v, c->n, sizeof(*c->v), cmp_entry);
}

static bool entry_matches(const struct cache_entry *e, const struct ms_file *f)
{
	return e->size == f->size && e->mtime_ns == f->mtime_ns &&
	       e->dev == f->dev && e->ino == f->ino;
}

static void write_entry(FILE *out, const char *sha256, uint64_t size,
			int64_t mtime_ns, uint64_t dev, uint64_t ino,
			const char *path)
{
	fprintf(out, "%s %" PRIu64 " %" PRId64 " %" PRIu64 " %" PRIu64 " ",
		sha256, size, mtime_ns, dev, ino);
	for (; *path; path++) {
		if (*path == '\\')
			fputs("\\\\", out);
		else if (*path == '\n')
			fputs("\\n", out);
		else
			fputc(*path, out);
	}
	fputc('\n', out);
}

/*
 * Write the cache: this run's hashed files first, then old entries for
 * other paths whose file still exists unchanged, at most MS_HASHCACHE_MAX in
 * all.  Entries younger than racy_ns are left out: a file written in the
 * same clock tick as it was hashed could change without its mtime moving.
 * Atomic (temp file + rename), mode 0600.  Failure is only logged: the
 * cache is an optimisation.
 */
static void cache_save(const struct cache *c, const char *path,
		       const struct ms_file *files, size_t n, int64_t racy_ns)
{
	struct cache seen = { 0 };
	struct cache_entry e;
	struct stat st;
	char *tmp = NULL;
	size_t i, written = 0;
	FILE *out = NULL;
	int fd = -1;
	bool fail = false;

	/* this run's paths, sorted, to skip their old entries */
	for (i = 0; i < n; i++) {
		if (!files[i].hashed)
			continue;
		memset(&e, 0, sizeof(e));
		e.path = (char *)files[i].path;
		if (cache_push(&seen, &e))
			goto out;
	}
	if (seen.n)
		qsort(seen.v, seen.n, sizeof(*seen.v), cmp_entry);

	ms_paths_mkdirs_parent(path);
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		tmp = NULL;
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		ms_verbose("hash cache \"%s\" not saved: %s", path,
			   strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	fchmod(fd, 0600);
	out = fdopen(fd, "w");
	if (!out)
		goto out;
	fd = -1;
	fprintf(out, "%s\n", CACHE_MAGIC);
	for (i = 0; i < n && written < MS_HASHCACHE_MAX; i++) {
		if (!files[i].hashed || files[i].mtime_ns >= racy_ns)
			continue;
		write_entry(out, files[i].sha256, files[i].size,
			    files[i].mtime_ns, files[i].dev, files[i].ino,
			    files[i].path);
		written++;
	}
	for (i = 0; i < c->n && written < MS_HASHCACHE_MAX; i++) {
		if (cache_find(&seen, c->v[i].path))
			continue;
		if (stat(c->v[i].path, &st) != 0 ||
		    (uint64_t)st.st_size != c->v[i].size ||
		    ms_stat_mtime_ns(&st) != c->v[i].mtime_ns ||
		    (uint64_t)st.st_dev != c->v[i].dev ||
		    (uint64_t)st.st_ino != c->v[i].ino)
			continue; /* gone or changed: drop */
		write_entry(out, c->v[i].sha256, c->v[i].size,
			    c->v[i].mtime_ns, c->v[i].dev, c->v[i].ino,
			    c->v[i].path);
		written++;
	}
	if (fflush(out) != 0 || ferror(out))
		fail = true;
	if (fclose(out) != 0)
		fail = true;
	out = NULL;
	if (fail || rename(tmp, path) != 0) {
		ms_verbose("hash cache \"%s\" not saved: %s", path,
			   strerror(errno));
		unlink(tmp);
	}
out:
	if (out)
		fclose(out);
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(seen.v);
}

/* ---- hashing ---------------------------------------------------------- */

struct pool {
	struct ms_file *files;
	size_t *order;          /* indexes of files to hash, largest first */
	size_t n_order, next;
	const struct ms_hash_opts *opts;
	EVP_MD *md;
	size_t bufsize;
	pthread_mutex_t lock;   /* guards everything below and progress */
	struct ms_progress prog;
	struct ms_hash_stats *stats;
	int rc;                 /* first failure */
};

static bool pool_stopped(struct pool *p)
{
	bool stop;

	pthread_mutex_lock(&p->lock);
	stop = p->rc != MS_OK;
	pthread_mutex_unlock(&p->lock);
	if (!stop && p->opts->cancelled && p->opts->cancelled(p->opts->payload))
		stop = true;
	return stop;
}

static void pool_progress(struct pool *p, const struct ms_file *f,
			  uint64_t bytes, bool file_done)
{
	pthread_mutex_lock(&p->lock);
	p->prog.bytes_done += bytes;
	if (file_done)
		p->prog.files_done++;
	p->prog.path = f->repo_path ? f->repo_path : f->path;
	if (p->opts->progress)
		p->opts->progress(&p->prog, p->opts->payload);
	pthread_mutex_unlock(&p->lock);
}

static int changed_error(const struct ms_file *f, const char *what)
{
	return ms_error_set(MS_ECHANGED,
			    "file \"%s\" changed while publishing (%s); "
			    "run again once it is stable", file_name(f), what);
}

/* Hash one file into f with buffer buf; p may be NULL (no pool). */
static int hash_file(struct ms_file *f, struct pool *p, EVP_MD_CTX *ctx,
		     const EVP_MD *md, unsigned char *buf, size_t bufsize,
		     bool check_stat)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	struct stat st;
	uint64_t total = 0;
	ssize_t r;
	int fd, rc = MS_OK;

	fd = open_read(f->path);
	if (fd < 0) {
		if (errno == ENOENT)
			return changed_error(f, "it was removed");
		return ms_error_set(MS_EIO, "cannot open \"%s\": %s",
				    file_name(f), strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = ms_error_set(MS_EIO, "cannot stat \"%s\": %s",
				  file_name(f), strerror(errno));
		goto out;
	}
	if (check_stat && ((uint64_t)st.st_size != f->size ||
			   ms_stat_mtime_ns(&st) != f->mtime_ns)) {
		rc = changed_error(f, (uint64_t)st.st_size != f->size ?
					      "its size changed" :
					      "its modification time changed");
		goto out;
	}
	if (!check_stat)
		f->size = (uint64_t)st.st_size;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (!EVP_DigestInit_ex(ctx, md, NULL)) {
		rc = ms_error_set(MS_ERROR, "SHA-256 is not available");
		goto out;
	}
	for (;;) {
		if (p && pool_stopped(p)) {
			rc = MS_ECANCELED; /* the cause is already recorded */
			goto out;
		}
		r = read(fd, buf, bufsize);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ms_error_set(MS_EIO, "cannot read \"%s\": %s",
					  file_name(f), strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > f->size) {
			rc = changed_error(f, "it grew while being read");
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		if (p)
			pool_progress(p, f, (uint64_t)r, false);
	}
	if (total != f->size) {
		rc = changed_error(f, "it shrank while being read");
		goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, digest, &dlen) || dlen != 32) {
		rc = ms_error_set(MS_ERROR, "SHA-256 failed for \"%s\"",
				  file_name(f));
		goto out;
	}
	hex_encode(f->sha256, digest);
	f->hashed = true;
	f->hash_cached = false;
out:
	close(fd);
	return rc;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct ms_file *f;
	unsigned char *buf;
	EVP_MD_CTX *ctx;
	size_t idx;
	int rc = MS_OK;

	buf = malloc(p->bufsize);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		rc = ms_error_set(MS_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (p->rc != MS_OK || p->next >= p->n_order) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		idx = p->order[p->next++];
		pthread_mutex_unlock(&p->lock);
		f = &p->files[idx];
		rc = hash_file(f, p, ctx, p->md, buf, p->bufsize, true);
		if (rc == MS_ECANCELED && p->opts->cancelled &&
		    p->opts->cancelled(p->opts->payload))
			rc = ms_error_set(MS_ECANCELED, "hashing canceled");
		if (rc)
			goto out;
		pthread_mutex_lock(&p->lock);
		p->stats->files_hashed++;
		p->stats->bytes_hashed += f->size;
		pthread_mutex_unlock(&p->lock);
		pool_progress(p, f, 0, true);
	}
out:
	if (rc) {
		pthread_mutex_lock(&p->lock);
		if (p->rc == MS_OK)
			p->rc = rc;
		pthread_mutex_unlock(&p->lock);
	}
	EVP_MD_CTX_free(ctx);
	free(buf);
	return NULL;
}

static int cmp_size_desc(const void *a, const void *b, void *files)
{
	const struct ms_file *fa = (struct ms_file *)files + *(const size_t *)a;
	const struct ms_file *fb = (struct ms_file *)files + *(const size_t *)b;

	if (fa->size != fb->size)
		return fa->size < fb->size ? 1 : -1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

int ms_hash_files(struct ms_file *files, size_t n,
		  const struct ms_hash_opts *opts, struct ms_hash_stats *stats)
{
	static const struct ms_hash_opts no_opts;
	struct ms_hash_stats local_stats;
	struct cache cache = { 0 };
	const struct cache_entry *e;
	struct timespec now;
	struct pool p;
	pthread_t *threads = NULL;
	unsigned jobs, started = 0, t;
	int64_t racy_ns;
	size_t i;
	int rc = MS_OK;

	if (!opts)
		opts = &no_opts;
	if (!stats)
		stats = &local_stats;
	memset(stats, 0, sizeof(*stats));
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	clock_gettime(CLOCK_REALTIME, &now);
	racy_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec -
		  MS_HASHCACHE_RACY_NS;

	if (opts->cache_path) {
		rc = cache_load(&cache, opts->cache_path);
		if (rc)
			goto out;
	}
	p.order = malloc((n ? n : 1) * sizeof(*p.order));
	if (!p.order) {
		rc = ms_error_set(MS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (files[i].hashed)
			continue;
		e = cache_find(&cache, files[i].path);
		if (e && entry_matches(e, &files[i])) {
			memcpy(files[i].sha256, e->sha256, 65);
			files[i].hashed = true;
			files[i].hash_cached = true;
			stats->files_cached++;
			continue;
		}
		p.order[p.n_order++] = i;
		p.prog.bytes_total += files[i].size;
	}
	if (!p.n_order)
		goto out; /* all known: the cache has nothing new to remember */

	qsort_r(p.order, p.n_order, sizeof(*p.order), cmp_size_desc, files);
	p.files = files;
	p.opts = opts;
	p.stats = stats;
	p.prog.struct_size = sizeof(p.prog);
	p.prog.phase = "hashing";
	p.prog.files_total = (uint32_t)p.n_order;
	p.md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!p.md) {
		rc = ms_error_set(MS_ERROR, "SHA-256 is not available");
		goto out;
	}
	jobs = opts->jobs ? opts->jobs : online_cpus();
	if (jobs > p.n_order)
		jobs = (unsigned)p.n_order;
	p.bufsize = HASH_BUF_SIZE;
	if ((size_t)jobs * p.bufsize > HASH_BUF_TOTAL_MAX)
		p.bufsize = HASH_BUF_TOTAL_MAX / jobs;
	if (p.bufsize < HASH_BUF_MIN)
		p.bufsize = HASH_BUF_MIN;

	if (jobs <= 1) {
		worker(&p);
	} else {
		threads = calloc(jobs, sizeof(*threads));
		if (!threads) {
			rc = ms_error_set(MS_ENOMEM, "out of memory");
			goto out;
		}
		for (t = 0; t < jobs; t++) {
			if (pthread_create(&threads[t], NULL, worker, &p))
				break;
			started++;
		}
		if (!started)
			worker(&p); /* no threads at all: do it here */
		for (t = 0; t < started; t++)
			pthread_join(threads[t], NULL);
	}
	rc = p.rc;
	if (opts->cache_path)
		cache_save(&cache, opts->cache_path, files, n, racy_ns);
out:
	EVP_MD_free(p.md);
	free(threads);
	free(p.order);
	cache_free(&cache);
	pthread_mutex_destroy(&p.lock);
	return rc;
}

int ms_hash_one(char hex[65], const char *path, uint64_t *size_out)
{
	struct ms_file f;
	unsigned char *buf;
	EVP_MD_CTX *ctx;
	EVP_MD *md;
	int rc;

	memset(&f, 0, sizeof(f));
	f.path = path;
	buf = malloc(HASH_BUF_SIZE);
	ctx = EVP_MD_CTX_new();
	md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!buf || !ctx || !md) {
		rc = ms_error_set(MS_ENOMEM, "out of memory");
		goto out;
	}
	/* no walk to compare with: take the size from fstat */
	rc = hash_file(&f, NULL, ctx, md, buf, HASH_BUF_SIZE, false);
	if (rc)
		goto out;
	memcpy(hex, f.sha256, 65);
	if (size_out)
		*size_out = f.size;
out:
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

int ms_hash_check_unchanged(const struct ms_file *f)
{
	struct stat st;

	if (stat(f->path, &st) != 0) {
		if (errno == ENOENT)
			return changed_error(f, "it was removed");
		return ms_error_set(MS_EIO, "cannot stat \"%s\": %s",
				    file_name(f), strerror(errno));
	}
	if ((uint64_t)st.st_size != f->size)
		return changed_error(f, "its size changed");
	if (ms_stat_mtime_ns(&st) != f->mtime_ns)
		return changed_error(f, "its modification time changed");
	return MS_OK;
}
