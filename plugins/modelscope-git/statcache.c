/* SPDX-License-Identifier: MIT */
/* Blob ids of unchanged normal files, keyed by (path, size, mtime, inode),
 * kept next to the cache repo so that a re-run reads only what changed
 * (the job git's index does for a work tree). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "git.h"

#define MSGIT_STAT_MAGIC "mspublish-git-statcache 1\n"
/* a file modified this recently may change again within the same mtime
 * tick: never trust it (git's "racy" entries) */
#define MSGIT_RACY_NS (2ll * 1000000000ll)

struct msgit_stat_entry {
	char *path;
	uint64_t size, dev, ino;
	int64_t mtime_ns;
	git_oid id;
};

struct msgit_statcache {
	char *file;
	struct msgit_stat_entry *v;  /* loaded, sorted by path */
	size_t n;
	struct msgit_stat_entry *nv; /* of this run, in files order */
	size_t nn, ncap;
	int64_t now_ns;
	uint64_t hits;
};

static int msgit_cmp_entry(const void *a, const void *b)
{
	const struct msgit_stat_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

void msgit_statcache_free(struct msgit_statcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	for (i = 0; i < c->nn; i++)
		free(c->nv[i].path);
	free(c->v);
	free(c->nv);
	free(c->file);
	free(c);
}

/* Load <gitdir>/mspublish-stat-cache; a missing or damaged file is an
 * empty cache.  NULL only when out of memory. */
struct msgit_statcache *msgit_statcache_load(const char *gitdir)
{
	struct msgit_statcache *c = calloc(1, sizeof(*c));
	struct msgit_stat_entry e, *nv;
	struct timespec ts;
	char *line = NULL, hex[GIT_OID_HEXSZ + 1];
	size_t cap = 0, vcap = 0;
	ssize_t len;
	FILE *fp = NULL;
	int off;

	if (c == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->now_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
	if (asprintf(&c->file, "%s/mspublish-stat-cache", gitdir) < 0) {
		c->file = NULL;
		goto fail;
	}
	fp = fopen(c->file, "re");
	if (fp == NULL)
		return c;
	len = getline(&line, &cap, fp);
	if (len < 0 || strcmp(line, MSGIT_STAT_MAGIC) != 0)
		goto done;
	for (;;) {
		unsigned long long sz, dev, ino;
		long long mt;

		len = getline(&line, &cap, fp);
		if (len <= 0 || line[len - 1] != '\n')
			break;
		line[len - 1] = '\0';
		off = 0;
		if (sscanf(line, "%40s %llu %lld %llu %llu %n", hex, &sz, &mt,
			   &dev, &ino, &off) != 5 || off == 0 ||
		    git_oid_fromstr(&e.id, hex) < 0)
			break;
		e.size = sz;
		e.mtime_ns = mt;
		e.dev = dev;
		e.ino = ino;
		e.path = strdup(line + off);
		if (e.path == NULL)
			goto fail;
		if (c->n == vcap) {
			vcap = vcap ? vcap * 2 : 256;
			nv = realloc(c->v, vcap * sizeof(*nv));
			if (nv == NULL) {
				free(e.path);
				goto fail;
			}
			c->v = nv;
		}
		c->v[c->n++] = e;
	}
done:
	if (c->n > 0) /* qsort(NULL, 0) is undefined */
		qsort(c->v, c->n, sizeof(*c->v), msgit_cmp_entry);
	free(line);
	fclose(fp);
	return c;
fail:
	free(line);
	if (fp != NULL)
		fclose(fp);
	msgit_statcache_free(c);
	return NULL;
}

/* The blob id of @p f when the cache vouches for it (and the object is
 * still in @p odb). */
bool msgit_statcache_get(struct msgit_statcache *c, git_odb *odb,
			 const struct ms_file *f, git_oid *out)
{
	struct msgit_stat_entry key, *e;

	if (c == NULL || c->n == 0)
		return false;
	key.path = (char *)f->repo_path;
	e = bsearch(&key, c->v, c->n, sizeof(*c->v), msgit_cmp_entry);
	if (e == NULL || e->size != f->size || e->mtime_ns != f->mtime_ns ||
	    e->dev != f->dev || e->ino != f->ino ||
	    c->now_ns - f->mtime_ns < MSGIT_RACY_NS ||
	    !git_odb_exists(odb, &e->id))
		return false;
	git_oid_cpy(out, &e->id);
	c->hits++;
	return true;
}

uint64_t msgit_statcache_hits(const struct msgit_statcache *c)
{
	return c != NULL ? c->hits : 0;
}

/* Forget what _put recorded (before a rebuild). */
void msgit_statcache_restart(struct msgit_statcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nn; i++)
		free(c->nv[i].path);
	c->nn = 0;
	c->hits = 0;
}

/* Remember @p f's blob id for the next run (written by _save). */
int msgit_statcache_put(struct msgit_statcache *c, const struct ms_file *f,
			const git_oid *id)
{
	struct msgit_stat_entry *nv;

	if (c == NULL || strchr(f->repo_path, '\n') != NULL ||
	    c->now_ns - f->mtime_ns < MSGIT_RACY_NS)
		return MS_OK;
	if (c->nn == c->ncap) {
		c->ncap = c->ncap ? c->ncap * 2 : 256;
		nv = realloc(c->nv, c->ncap * sizeof(*nv));
		if (nv == NULL)
			return MS_ENOMEM;
		c->nv = nv;
	}
	nv = &c->nv[c->nn];
	nv->path = strdup(f->repo_path);
	if (nv->path == NULL)
		return MS_ENOMEM;
	nv->size = f->size;
	nv->mtime_ns = f->mtime_ns;
	nv->dev = f->dev;
	nv->ino = f->ino;
	git_oid_cpy(&nv->id, id);
	c->nn++;
	return MS_OK;
}

/* Replace the file with this run's entries (write, fsync-free rename). */
void msgit_statcache_save(struct msgit_statcache *c,
			  const struct ms_host *h)
{
	char *tmp = NULL, hex[GIT_OID_HEXSZ + 1];
	FILE *fp = NULL;
	size_t i;
	int ok;

	if (c == NULL || c->file == NULL)
		return;
	if (asprintf(&tmp, "%s.%ld.tmp", c->file, (long)getpid()) < 0)
		return;
	fp = fopen(tmp, "we");
	if (fp == NULL)
		goto out;
	ok = fputs(MSGIT_STAT_MAGIC, fp) >= 0;
	for (i = 0; ok && i < c->nn; i++) {
		const struct msgit_stat_entry *e = &c->nv[i];

		git_oid_tostr(hex, sizeof(hex), &e->id);
		ok = fprintf(fp, "%s %llu %lld %llu %llu %s\n", hex,
			     (unsigned long long)e->size,
			     (long long)e->mtime_ns,
			     (unsigned long long)e->dev,
			     (unsigned long long)e->ino, e->path) > 0;
	}
	ok = fclose(fp) == 0 && ok;
	fp = NULL;
	if (!ok || rename(tmp, c->file) < 0) {
		h->log(h, MS_LOG_VERBOSE, "cannot write %s: %s", c->file,
		       strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
}
