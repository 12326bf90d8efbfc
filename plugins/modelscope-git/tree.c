/* SPDX-License-Identifier: MIT */
/* The new tree, built in memory from the remote tree: blobs streamed from
 * disk, LFS pointer files, a merged .gitattributes, --delete. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git.h"

#define MSGIT_READ_BUF (128u << 10)
#define MSGIT_ATTRS_MAX (8u << 20)
#define MSGIT_LFS_ATTRS "filter=lfs diff=lfs merge=lfs -text"

char *msgit_attrs_escape(const char *path)
{
	size_t n = 2, i, o = 0;
	char *out;

	for (i = 0; path[i] != '\0'; i++)
		n += path[i] == ' ' ? 11 : 2;
	out = malloc(n);
	if (out == NULL)
		return NULL;
	/* root-level names are anchored so they do not match deeper */
	if (strchr(path, '/') == NULL)
		out[o++] = '/';
	for (i = 0; path[i] != '\0'; i++) {
		if (path[i] == ' ') {
			memcpy(out + o, "[[:space:]]", 11);
			o += 11;
			continue;
		}
		if (strchr("*?[]\\#!", path[i]) != NULL)
			out[o++] = '\\';
		out[o++] = path[i];
	}
	out[o] = '\0';
	return out;
}

/* A .gitattributes pattern against a repo path (gitattributes(5)). */
static bool msgit_attr_match(const char *pat, size_t plen, const char *path)
{
	char buf[4096];
	const char *base;
	bool anchored;

	if (plen == 0 || plen >= sizeof(buf))
		return false;
	memcpy(buf, pat, plen);
	buf[plen] = '\0';
	if (buf[plen - 1] == '/')
		return false; /* directories only */
	anchored = buf[0] == '/' || memchr(buf, '/', plen) != NULL;
	if (!anchored) {
		base = strrchr(path, '/');
		base = base != NULL ? base + 1 : path;
		return fnmatch(buf, base, 0) == 0;
	}
	if (strstr(buf, "**") != NULL)
		return fnmatch(buf[0] == '/' ? buf + 1 : buf, path, 0) == 0;
	return fnmatch(buf[0] == '/' ? buf + 1 : buf, path,
		       FNM_PATHNAME) == 0;
}

/* "-filter", "!filter" or "filter=<not lfs>" */
static bool msgit_unsets_filter(const char *tok, size_t tlen)
{
	if (tlen == 7)
		return memcmp(tok, "-filter", 7) == 0 ||
		       memcmp(tok, "!filter", 7) == 0;
	return tlen > 7 && memcmp(tok, "filter=", 7) == 0;
}

bool msgit_attrs_covers(const char *text, size_t len, const char *path)
{
	const char *p = text, *end = text + len, *eol, *q, *tok;
	bool covered = false;
	size_t plen, tlen;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		q = p;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q == eol || *q == '#' || *q == '"' || *q == '[')
			goto next;
		tok = q;
		while (q < eol && *q != ' ' && *q != '\t' && *q != '\r')
			q++;
		plen = (size_t)(q - tok);
		if (!msgit_attr_match(tok, plen, path))
			goto next;
		while (q < eol) {
			while (q < eol && (*q == ' ' || *q == '\t' ||
					   *q == '\r'))
				q++;
			tok = q;
			while (q < eol && *q != ' ' && *q != '\t' &&
			       *q != '\r')
				q++;
			tlen = (size_t)(q - tok);
			if (tlen == 10 && memcmp(tok, "filter=lfs", 10) == 0)
				covered = true;
			else if (msgit_unsets_filter(tok, tlen))
				covered = false;
		}
next:
		p = eol + 1;
	}
	return covered;
}

#define MSGIT_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/*
 * An empty LFS-classified file goes in as an empty blob (git-lfs does the
 * same), but the hub's HTTP route stores a pointer with size 0: when the
 * remote has that pointer, it stays, so both routes agree.
 */
static void msgit_empty_pointer_id(git_oid *out)
{
	static const char ptr[] = "version https://git-lfs.github.com/spec/v1"
		"\noid sha256:" MSGIT_EMPTY_SHA256 "\nsize 0\n";

	git_odb_hash(out, ptr, sizeof(ptr) - 1, GIT_OBJECT_BLOB);
}

/* The git-lfs pointer of a file (spec v1). */
static int msgit_pointer(char *buf, size_t len, const struct ms_file *f)
{
	return snprintf(buf, len, "version https://git-lfs.github.com/spec/v1"
			"\noid sha256:%s\nsize %llu\n", f->sha256,
			(unsigned long long)f->size);
}

/* Stream a file into the object database through a fixed buffer. */
static int msgit_blob_from_file(struct msgit_target *t, git_odb *odb,
				const struct ms_file *f, char *buf,
				git_oid *out)
{
	const struct ms_host *h = t->host;
	git_odb_stream *st = NULL;
	uint64_t left = f->size;
	ssize_t got;
	int fd, rc, gerr;

	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return h->error(h, MS_EIO, "cannot open \"%s\": %s", f->path,
				strerror(errno));
	gerr = git_odb_open_wstream(&st, odb, f->size, GIT_OBJECT_BLOB);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot store a blob");
		goto out;
	}
	while (left > 0) {
		size_t want = left < MSGIT_READ_BUF ? (size_t)left :
			MSGIT_READ_BUF;

		got = read(fd, buf, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = h->error(h, MS_EIO, "cannot read \"%s\": %s",
				      f->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		gerr = git_odb_stream_write(st, buf, (size_t)got);
		if (gerr < 0) {
			rc = msgit_fail(t, gerr, "cannot store a blob");
			goto out;
		}
		left -= (uint64_t)got;
	}
	/* exactly the size the walk saw, and nothing after it */
	got = left == 0 ? read(fd, buf, 1) : 0;
	if (left != 0 || got != 0) {
		rc = h->error(h, MS_ECHANGED, "\"%s\" changed while it was "
			      "read; run again", f->path);
		goto out;
	}
	gerr = git_odb_stream_finalize_write(out, st);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot store a blob");
		goto out;
	}
	rc = h->check_unchanged(h, f);
out:
	git_odb_stream_free(st);
	close(fd);
	return rc;
}

/* Read a small local file whole (.gitattributes only). */
static int msgit_read_small(struct msgit_target *t, const struct ms_file *f,
			    char **out, size_t *len_out)
{
	const struct ms_host *h = t->host;
	FILE *fp;
	char *buf;
	size_t got;

	if (f->size > MSGIT_ATTRS_MAX)
		return h->error(h, MS_EINVAL, "\"%s\" is too large for a "
				".gitattributes file", f->path);
	buf = malloc((size_t)f->size + 1);
	if (buf == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	fp = fopen(f->path, "rb");
	if (fp == NULL) {
		free(buf);
		return h->error(h, MS_EIO, "cannot open \"%s\": %s", f->path,
				strerror(errno));
	}
	got = fread(buf, 1, (size_t)f->size, fp);
	fclose(fp);
	buf[got] = '\0';
	*out = buf;
	*len_out = got;
	return MS_OK;
}

static int msgit_cmp_repo_path(const void *key, const void *elem)
{
	const struct ms_file *f = elem;

	return strcmp(key, f->repo_path);
}

/* Is a remote orphan still present locally (only filtered out)? */
static bool msgit_exists_locally(const struct ms_upload *req,
				 const char *repo_path)
{
	size_t plen = strlen(req->path_in_repo);
	const char *rel = repo_path + (plen > 0 ? plen + 1 : 0);
	struct stat st;
	char *p;
	bool found;

	if (asprintf(&p, "%s/%s", req->folder, rel) < 0)
		return true; /* keep it: never delete by accident */
	found = lstat(p, &st) == 0;
	free(p);
	return found;
}

static int msgit_apply_delete(struct msgit_target *t, struct msgit_build *b,
			      git_index *idx, char ***doomed_out,
			      size_t *nd_out)
{
	const struct ms_upload *req = b->req;
	const struct ms_host *h = t->host;
	size_t plen = strlen(req->path_in_repo), i, n, nd = 0;
	const git_index_entry *e;
	char **doomed = NULL;
	int rc = MS_OK;

	n = git_index_entrycount(idx);
	doomed = calloc(n + 1, sizeof(*doomed));
	if (doomed == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		e = git_index_get_byindex(idx, i);
		if (e == NULL)
			continue;
		if (plen > 0 && (strncmp(e->path, req->path_in_repo,
					 plen) != 0 || e->path[plen] != '/'))
			continue;
		if (strcmp(e->path, ".gitattributes") == 0)
			continue;
		if (req->n_files > 0 &&
		    bsearch(e->path, req->files, req->n_files,
			    sizeof(*req->files), msgit_cmp_repo_path) != NULL)
			continue;
		if (msgit_exists_locally(req, e->path))
			continue;
		doomed[nd] = strdup(e->path);
		if (doomed[nd] == NULL) {
			rc = h->error(h, MS_ENOMEM, "out of memory");
			goto out;
		}
		nd++;
	}
	for (i = 0; i < nd; i++) {
		if (git_index_remove(idx, doomed[i], 0) < 0) {
			rc = msgit_fail(t, -1, "cannot drop a file");
			goto out;
		}
		h->log(h, MS_LOG_VERBOSE, "deleting \"%s\" (not in the folder)",
		       doomed[i]);
		b->files_deleted++;
	}
out:
	if (rc == MS_OK) {
		*doomed_out = doomed;
		*nd_out = nd;
		return rc;
	}
	for (i = 0; i < nd; i++)
		free(doomed[i]);
	free(doomed);
	return rc;
}

static int msgit_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Drop "<exact path> ... filter=lfs ..." lines of paths that are no
 * longer LFS files (now normal, or deleted); the rest is kept verbatim.
 * @p pats is sorted.  Returns the new length. */
static size_t msgit_attrs_drop(char *text, size_t len, char **pats,
			       size_t npats)
{
	size_t r = 0, w = 0, e, k;
	char tok[4096];
	const char *q;

	while (r < len) {
		bool drop = false;

		e = r;
		while (e < len && text[e] != '\n')
			e++;
		k = 0;
		q = text + r;
		while (q < text + e && (*q == ' ' || *q == '\t'))
			q++;
		while (q < text + e && *q != ' ' && *q != '\t' &&
		       *q != '\r' && k + 1 < sizeof(tok))
			tok[k++] = *q++;
		tok[k] = '\0';
		if (k > 0) {
			char *key = tok;

			if (bsearch(&key, pats, npats, sizeof(*pats),
				    msgit_cmp_str) != NULL &&
			    memmem(q, (size_t)(text + e - q), " filter=lfs",
				   11) != NULL)
				drop = true;
		}
		if (e < len)
			e++; /* the newline */
		if (!drop) {
			memmove(text + w, text + r, e - r);
			w += e - r;
		}
		r = e;
	}
	return w;
}

/* Append "<exact path pattern> filter=lfs ..." to a growing text. */
static int msgit_attrs_append(char **text, size_t *len, size_t *cap,
			      const char *path)
{
	char *pat = msgit_attrs_escape(path), *nt;
	size_t need;

	if (pat == NULL)
		return MS_ENOMEM;
	need = *len + strlen(pat) + sizeof(MSGIT_LFS_ATTRS) + 3;
	if (need > *cap) {
		nt = realloc(*text, need * 2);
		if (nt == NULL) {
			free(pat);
			return MS_ENOMEM;
		}
		*text = nt;
		*cap = need * 2;
	}
	if (*len > 0 && (*text)[*len - 1] != '\n')
		(*text)[(*len)++] = '\n';
	*len += (size_t)sprintf(*text + *len, "%s " MSGIT_LFS_ATTRS "\n", pat);
	free(pat);
	return MS_OK;
}

#define MSGIT_POINTER_PREFIX "version https://git-lfs.github.com/spec/v1\n"

/* Track every LFS pointer of the tree that is not from the folder. */
static int msgit_attrs_keep_remote(struct msgit_target *t,
				   struct msgit_build *b, git_index *idx,
				   char **text, size_t *len, size_t *cap,
				   size_t plen, bool *changed)
{
	const struct ms_upload *req = b->req;
	const struct ms_host *h = t->host;
	const git_index_entry *e;
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t i, n, size;
	int rc = MS_OK;

	if (git_repository_odb(&odb, b->repo) < 0)
		return msgit_fail(t, -1, "cannot read the remote tree");
	n = git_index_entrycount(idx);
	for (i = 0; i < n; i++) {
		e = git_index_get_byindex(idx, i);
		if (e == NULL || strcmp(e->path, ".gitattributes") == 0 ||
		    (req->n_files > 0 &&
		     bsearch(e->path, req->files, req->n_files,
			     sizeof(*req->files), msgit_cmp_repo_path) != NULL))
			continue;
		/* pointers are small; read only blobs that could be one */
		if (git_odb_read_header(&size, &type, odb, &e->id) < 0 ||
		    type != GIT_OBJECT_BLOB || size < 60 || size > 1024)
			continue;
		if (git_odb_read(&obj, odb, &e->id) < 0)
			continue;
		if (git_odb_object_size(obj) > strlen(MSGIT_POINTER_PREFIX) &&
		    memcmp(git_odb_object_data(obj), MSGIT_POINTER_PREFIX,
			   strlen(MSGIT_POINTER_PREFIX)) == 0 &&
		    !msgit_attrs_covers(*text, plen, e->path)) {
			rc = msgit_attrs_append(text, len, cap, e->path);
			if (rc != MS_OK) {
				rc = h->error(h, MS_ENOMEM, "out of memory");
				break;
			}
			*changed = true;
		}
		git_odb_object_free(obj);
		obj = NULL;
	}
	git_odb_object_free(obj);
	git_odb_free(odb);
	git_error_clear();
	return rc;
}

/* Create or merge .gitattributes so every LFS path is tracked. */
static int msgit_merge_attrs(struct msgit_target *t, struct msgit_build *b,
			     git_index *idx, char **doomed, size_t nd)
{
	const struct ms_upload *req = b->req;
	const struct ms_host *h = t->host;
	const git_index_entry *e;
	git_blob *blob = NULL;
	git_index_entry ne;
	git_oid oid;
	char *text = NULL;
	char **pats = NULL;
	size_t len = 0, cap, i, plen, np = 0;
	int rc = MS_OK, gerr;
	bool changed = false, local = false;

	e = git_index_get_bypath(idx, ".gitattributes", 0);
	if (e != NULL) {
		gerr = git_blob_lookup(&blob, b->repo, &e->id);
		if (gerr < 0)
			return msgit_fail(t, gerr,
					  "cannot read .gitattributes");
		len = (size_t)git_blob_rawsize(blob);
		if (len > MSGIT_ATTRS_MAX) {
			rc = h->error(h, MS_EPROTO, "the remote .gitattributes "
				      "is too large");
			goto out;
		}
	}
	cap = len + 256;
	text = malloc(cap);
	if (text == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(text, git_blob_rawcontent(blob), len);
	/* exact-path LFS lines of files that are LFS no more */
	pats = calloc(req->n_files + nd + 1, sizeof(*pats));
	if (pats == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < req->n_files + nd; i++) {
		const struct ms_file *f = i < req->n_files ? &req->files[i] :
			NULL;

		if (f != NULL && strcmp(f->repo_path, ".gitattributes") == 0)
			local = true;
		if (f != NULL && f->lfs && f->size > 0)
			continue;
		if (f != NULL && f->lfs && f->size == 0) {
			const git_index_entry *ie =
				git_index_get_bypath(idx, f->repo_path, 0);

			if (ie != NULL && git_oid_equal(&ie->id, &b->empty_ptr))
				continue;
		}
		pats[np] = msgit_attrs_escape(f != NULL ? f->repo_path :
					      doomed[i - req->n_files]);
		if (pats[np] == NULL) {
			rc = h->error(h, MS_ENOMEM, "out of memory");
			goto out;
		}
		np++;
	}
	qsort(pats, np, sizeof(*pats), msgit_cmp_str);
	i = msgit_attrs_drop(text, len, pats, np);
	if (i != len) {
		len = i;
		changed = true;
	}
	plen = len;
	for (i = 0; i < req->n_files; i++) {
		const struct ms_file *f = &req->files[i];

		if (!f->lfs || f->size == 0 ||
		    strcmp(f->repo_path, ".gitattributes") == 0)
			continue;
		/* lines added here name exact paths: only the old text
		 * can already cover a later file */
		if (msgit_attrs_covers(text, plen, f->repo_path))
			continue;
		rc = msgit_attrs_append(&text, &len, &cap, f->repo_path);
		if (rc != MS_OK)
			goto nomem;
		changed = true;
	}
	/* a .gitattributes from the folder replaced the hub's: the LFS
	 * pointers kept from the remote must stay tracked too */
	if (local) {
		rc = msgit_attrs_keep_remote(t, b, idx, &text, &len, &cap,
					     plen, &changed);
		if (rc != MS_OK)
			goto out;
	}
	if (!changed)
		goto out;
	if (len == 0 && !local) {
		/* we emptied the file: drop it, as the hub does */
		git_index_remove(idx, ".gitattributes", 0);
		b->attrs_changed = true;
		goto out;
	}
	gerr = git_blob_create_from_buffer(&oid, b->repo, text, len);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot store .gitattributes");
		goto out;
	}
	memset(&ne, 0, sizeof(ne));
	ne.mode = GIT_FILEMODE_BLOB;
	ne.id = oid;
	ne.path = ".gitattributes";
	gerr = git_index_add(idx, &ne);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot add .gitattributes");
		goto out;
	}
	b->attrs_changed = true;
	goto out;
nomem:
	rc = h->error(h, MS_ENOMEM, "out of memory");
out:
	for (i = 0; i < np; i++)
		free(pats[i]);
	free(pats);
	free(text);
	git_blob_free(blob);
	return rc;
}

int msgit_tree_build(struct msgit_target *t, struct msgit_build *b)
{
	const struct ms_upload *req = b->req;
	const struct ms_host *h = t->host;
	git_index *idx = NULL;
	git_odb *odb = NULL;
	const git_index_entry *old;
	git_index_entry ne;
	struct ms_progress p;
	char *buf = NULL, *attrs = NULL;
	char **doomed = NULL;
	char ptr[256];
	size_t i, alen = 0, nd = 0;
	git_oid oid;
	int rc = MS_OK, gerr, n;

	msgit_empty_pointer_id(&b->empty_ptr);
	gerr = git_index_new(&idx);
	if (gerr == 0 && b->base != NULL)
		gerr = git_index_read_tree(idx, b->base);
	if (gerr == 0)
		gerr = git_repository_odb(&odb, b->repo);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot read the remote tree");
		goto out;
	}
	buf = malloc(MSGIT_READ_BUF);
	if (buf == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.struct_size = sizeof(p);
	p.phase = "committing";
	p.files_total = (uint32_t)req->n_files;
	for (i = 0; i < req->n_files; i++) {
		const struct ms_file *f = &req->files[i];

		if (h->cancelled(h)) {
			rc = h->error(h, MS_ECANCELED, "cancelled");
			goto out;
		}
		if (f->lfs && f->size > 0 &&
		    strcmp(f->repo_path, ".gitattributes") != 0) {
			n = msgit_pointer(ptr, sizeof(ptr), f);
			gerr = git_blob_create_from_buffer(&oid, b->repo, ptr,
							   (size_t)n);
			if (gerr < 0) {
				rc = msgit_fail(t, gerr, "cannot store a blob");
				goto out;
			}
		} else if (strcmp(f->repo_path, ".gitattributes") == 0) {
			rc = msgit_read_small(t, f, &attrs, &alen);
			if (rc != MS_OK)
				goto out;
			gerr = git_blob_create_from_buffer(&oid, b->repo, attrs,
							   alen);
			free(attrs);
			attrs = NULL;
			if (gerr < 0) {
				rc = msgit_fail(t, gerr, "cannot store a blob");
				goto out;
			}
		} else {
			if (!msgit_statcache_get(b->stat, odb, f, &oid)) {
				rc = msgit_blob_from_file(t, odb, f, buf, &oid);
				if (rc != MS_OK)
					goto out;
			}
			if (msgit_statcache_put(b->stat, f, &oid) != MS_OK) {
				rc = h->error(h, MS_ENOMEM, "out of memory");
				goto out;
			}
		}
		old = git_index_get_bypath(idx, f->repo_path, 0);
		if (old != NULL && f->size == 0 && f->lfs &&
		    git_oid_equal(&old->id, &b->empty_ptr))
			git_oid_cpy(&oid, &old->id);
		if (old != NULL && git_oid_equal(&old->id, &oid) &&
		    (old->mode == GIT_FILEMODE_BLOB ||
		     old->mode == GIT_FILEMODE_BLOB_EXECUTABLE)) {
			b->files_unchanged++;
		} else {
			memset(&ne, 0, sizeof(ne));
			ne.mode = GIT_FILEMODE_BLOB;
			ne.id = oid;
			ne.path = f->repo_path;
			gerr = git_index_add(idx, &ne);
			if (gerr < 0) {
				rc = msgit_fail(t, gerr, "cannot add a file");
				goto out;
			}
			b->files_sent++;
			if (b->changed != NULL)
				b->changed[i] = true;
			if (!f->lfs)
				b->bytes_normal += f->size;
			h->log(h, MS_LOG_VERBOSE, "%s \"%s\"", old != NULL ?
			       "updating" : "adding", f->repo_path);
		}
		p.files_done = (uint32_t)(i + 1);
		p.path = f->repo_path;
		h->progress(h, &p);
	}
	if (req->delete_remote) {
		rc = msgit_apply_delete(t, b, idx, &doomed, &nd);
		if (rc != MS_OK)
			goto out;
	}
	rc = msgit_merge_attrs(t, b, idx, doomed, nd);
	if (rc != MS_OK)
		goto out;
	gerr = git_index_write_tree_to(&b->tree_id, idx, b->repo);
	if (gerr < 0) {
		rc = msgit_fail(t, gerr, "cannot write the tree");
		goto out;
	}
	h->log(h, MS_LOG_VERBOSE, "%llu file(s) not read again: unchanged "
	       "since the last run", (unsigned long long)
	       msgit_statcache_hits(b->stat));
out:
	for (i = 0; i < nd; i++)
		free(doomed[i]);
	free(doomed);
	free(attrs);
	free(buf);
	git_odb_free(odb);
	git_index_free(idx);
	return rc;
}
