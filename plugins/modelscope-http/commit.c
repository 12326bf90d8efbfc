/* SPDX-License-Identifier: MIT */
/* Commit requests (protocol doc 4.8) with a streamed base64 JSON body. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

/* Raw bytes per base64 step: a multiple of 3, so chunks concatenate. */
#define COMMIT_RAW_CHUNK (3u * 16384u)
#define COMMIT_B64_CHUNK (4u * 16384u)

/* A piece of the body: literal text, or a file sent as base64. */
struct commit_seg {
	char *lit;                  /* owned, or NULL for a file */
	size_t lit_len;
	const struct ms_file *file;
};

/* Reader state of the body; rewound before each retry. */
struct commit_body {
	struct commit_seg *segs;
	size_t n_segs, cap_segs;
	uint64_t size;
	/* position */
	size_t seg;
	size_t off;            /* in lit, or in enc */
	int fd;
	uint64_t file_read;    /* raw bytes of the current file read */
	EVP_MD_CTX *md;
	unsigned char *raw;    /* COMMIT_RAW_CHUNK */
	unsigned char *enc;    /* COMMIT_B64_CHUNK + 1 */
	size_t enc_len;
	bool file_open;
	/* why the body aborted */
	int fail_code;
	const struct ms_file *fail_file;
	int fail_errno;
};

static int commit_add_lit(struct commit_body *b, char *lit)
{
	struct commit_seg *ns;
	size_t ncap;

	if (lit == NULL)
		return MS_ENOMEM;
	if (b->n_segs == b->cap_segs) {
		ncap = b->cap_segs ? b->cap_segs * 2 : 64;
		ns = realloc(b->segs, ncap * sizeof(*ns));
		if (ns == NULL) {
			free(lit);
			return MS_ENOMEM;
		}
		b->segs = ns;
		b->cap_segs = ncap;
	}
	b->segs[b->n_segs].lit = lit;
	b->segs[b->n_segs].lit_len = strlen(lit);
	b->segs[b->n_segs].file = NULL;
	b->size += b->segs[b->n_segs].lit_len;
	b->n_segs++;
	return MS_OK;
}

static int commit_add_file(struct commit_body *b, const struct ms_file *f)
{
	int rc = commit_add_lit(b, strdup(""));

	if (rc != MS_OK)
		return rc;
	b->segs[b->n_segs - 1].file = f;
	b->size += 4 * ((f->size + 2) / 3);
	return MS_OK;
}

/* A JSON string literal (quoted, escaped) for @p s; malloc'd. */
static char *commit_json_str(const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *t, *r;

	if (j == NULL)
		return NULL;
	t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (t == NULL)
		return NULL;
	r = strdup(t);
	cJSON_free(t);
	return r;
}

static char *commit_fmt(const char *fmt, ...) MS_PRINTF(1, 2);
static char *commit_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

static void commit_close_file(struct commit_body *b)
{
	if (b->file_open)
		close(b->fd);
	b->file_open = false;
	b->fd = -1;
}

static void commit_body_free(struct commit_body *b)
{
	size_t i;

	commit_close_file(b);
	for (i = 0; i < b->n_segs; i++)
		free(b->segs[i].lit);
	free(b->segs);
	free(b->raw);
	free(b->enc);
	EVP_MD_CTX_free(b->md);
}

static int commit_rewind(void *payload)
{
	struct commit_body *b = payload;

	commit_close_file(b);
	b->seg = 0;
	b->off = 0;
	b->enc_len = 0;
	b->file_read = 0;
	return MS_OK;
}

static size_t commit_fail(struct commit_body *b, int code, int err)
{
	b->fail_code = code;
	b->fail_file = b->segs[b->seg].file;
	b->fail_errno = err;
	commit_close_file(b);
	return (size_t)-1;
}

/* Refill b->enc from the current file; 0 at its end, -1 on failure. */
static int commit_refill(struct commit_body *b)
{
	const struct ms_file *f = b->segs[b->seg].file;
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[65];
	size_t want, got = 0;
	unsigned mdlen = 0, i;
	ssize_t r;

	if (!b->file_open) {
		b->fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (b->fd < 0) {
			commit_fail(b, MS_EIO, errno);
			return -1;
		}
		b->file_open = true;
		b->file_read = 0;
		if (EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1) {
			commit_fail(b, MS_ERROR, 0);
			return -1;
		}
	}
	want = COMMIT_RAW_CHUNK;
	if (f->size - b->file_read < want)
		want = (size_t)(f->size - b->file_read);
	while (got < want) {
		r = read(b->fd, b->raw + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			commit_fail(b, MS_EIO, errno);
			return -1;
		}
		if (r == 0) {
			commit_fail(b, MS_ECHANGED, 0);
			return -1;
		}
		got += (size_t)r;
	}
	b->file_read += got;
	if (got > 0)
		EVP_DigestUpdate(b->md, b->raw, got);
	if (b->file_read == f->size) {
		/* the file must end here and hash to what was hashed */
		unsigned char probe;

		do {
			r = read(b->fd, &probe, 1);
		} while (r < 0 && errno == EINTR);
		if (r != 0) {
			commit_fail(b, r < 0 ? MS_EIO : MS_ECHANGED,
				    r < 0 ? errno : 0);
			return -1;
		}
		EVP_DigestFinal_ex(b->md, md, &mdlen);
		for (i = 0; i < mdlen && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		hex[64] = '\0';
		if (!f->hashed || strcmp(hex, f->sha256) != 0) {
			commit_fail(b, MS_ECHANGED, 0);
			return -1;
		}
	}
	b->enc_len = got > 0 ?
		(size_t)EVP_EncodeBlock(b->enc, b->raw, (int)got) : 0;
	b->off = 0;
	return got > 0 || b->file_read < f->size ? 1 : 0;
}

static size_t commit_read(char *buf, size_t cap, void *payload)
{
	struct commit_body *b = payload;
	struct commit_seg *s;
	size_t done = 0, n;
	int r;

	while (done < cap && b->seg < b->n_segs) {
		s = &b->segs[b->seg];
		if (s->file == NULL) {
			n = s->lit_len - b->off;
			if (n > cap - done)
				n = cap - done;
			memcpy(buf + done, s->lit + b->off, n);
			done += n;
			b->off += n;
			if (b->off == s->lit_len) {
				b->seg++;
				b->off = 0;
			}
			continue;
		}
		if (b->off == b->enc_len) {
			if (b->file_open && b->file_read == s->file->size) {
				commit_close_file(b);
				b->seg++;
				b->off = 0;
				b->enc_len = 0;
				continue;
			}
			r = commit_refill(b);
			if (r < 0)
				return (size_t)-1;
			if (r == 0 && b->enc_len == 0) {
				commit_close_file(b);
				b->seg++;
				b->off = 0;
				continue;
			}
		}
		n = b->enc_len - b->off;
		if (n > cap - done)
			n = cap - done;
		memcpy(buf + done, b->enc + b->off, n);
		done += n;
		b->off += n;
	}
	return done;
}

static int commit_build(struct commit_body *b, const char *message,
			const struct http_action *acts, size_t n)
{
	char *msg = NULL, *path = NULL;
	size_t i;
	int rc = MS_ENOMEM;

	msg = commit_json_str(message);
	if (msg == NULL)
		goto out;
	rc = commit_add_lit(b, commit_fmt("{\"commit_message\":%s,"
					  "\"actions\":[", msg));
	if (rc != MS_OK)
		goto out;
	for (i = 0; i < n; i++) {
		const struct ms_file *f = acts[i].file;
		const char *sep = i ? "," : "";

		free(path);
		path = commit_json_str(acts[i].path);
		rc = MS_ENOMEM;
		if (path == NULL)
			goto out;
		if (f == NULL) {
			rc = commit_add_lit(b, commit_fmt(
				"%s{\"action\":\"delete\",\"path\":%s,"
				"\"type\":\"normal\",\"size\":0,"
				"\"sha256\":\"\",\"content\":\"\","
				"\"encoding\":\"\"}", sep, path));
		} else if (f->lfs) {
			rc = commit_add_lit(b, commit_fmt(
				"%s{\"action\":\"create\",\"path\":%s,"
				"\"type\":\"lfs\",\"size\":%llu,"
				"\"sha256\":\"%s\",\"content\":\"\","
				"\"encoding\":\"\"}", sep, path,
				(unsigned long long)f->size, f->sha256));
		} else {
			rc = commit_add_lit(b, commit_fmt(
				"%s{\"action\":\"create\",\"path\":%s,"
				"\"type\":\"normal\",\"size\":%llu,"
				"\"sha256\":\"\",\"encoding\":\"base64\","
				"\"content\":\"", sep, path,
				(unsigned long long)f->size));
			if (rc == MS_OK)
				rc = commit_add_file(b, f);
			if (rc == MS_OK)
				rc = commit_add_lit(b, strdup("\"}"));
		}
		if (rc != MS_OK)
			goto out;
	}
	rc = commit_add_lit(b, strdup("]}"));
out:
	free(msg);
	free(path);
	return rc;
}

static const char *commit_id_of(const cJSON *data)
{
	static const char *const keys[] = {
		"oid", "Oid", "Id", "id", "CommitId", "commit_id", "sha", NULL
	};
	const cJSON *it;
	size_t i;

	for (i = 0; keys[i] != NULL; i++) {
		it = cJSON_GetObjectItemCaseSensitive(data, keys[i]);
		if (cJSON_IsString(it) && it->valuestring[0] != '\0')
			return it->valuestring;
	}
	return "";
}

int http_commit(struct http_ctx *c, const char *owner, const char *name,
		const char *revision, const char *message,
		const struct http_action *acts, size_t n,
		char commit_id[65])
{
	const struct ms_host *h = c->host;
	struct commit_body b;
	struct msnet_source src;
	struct msnet_response resp;
	struct msnet_req r;
	char what[600];
	char *url = NULL;
	int rc;

	commit_id[0] = '\0';
	memset(&b, 0, sizeof(b));
	memset(&resp, 0, sizeof(resp));
	b.fd = -1;
	b.raw = malloc(COMMIT_RAW_CHUNK);
	b.enc = malloc(COMMIT_B64_CHUNK + 1);
	b.md = EVP_MD_CTX_new();
	url = msnet_url(c->net, "/api/v1/repos/models/%s/%s/commit/%s", owner,
			name, revision);
	if (b.raw == NULL || b.enc == NULL || b.md == NULL || url == NULL) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	rc = commit_build(&b, message, acts, n);
	if (rc != MS_OK) {
		rc = h->error(h, MS_ENOMEM, "out of memory");
		goto out;
	}
	memset(&src, 0, sizeof(src));
	src.size = b.size;
	src.read = commit_read;
	src.rewind = commit_rewind;
	src.payload = &b;
	snprintf(what, sizeof(what), "commit \"%s\" to %s/%s@%s", message,
		 owner, name, revision);
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = url;
	r.src = &src;
	r.content_type = "application/json";
	r.what = what;
	r.flags = MSNET_RETRY_REFS;
	rc = msnet_request(c->net, &r, &resp);
	if (rc == MS_EIO) {
		const char *p = b.fail_file ? b.fail_file->rel_path : "?";

		if (b.fail_code == MS_ECHANGED)
			rc = h->error(h, MS_ECHANGED,
				      "\"%s\" changed after it was hashed; the "
				      "commit was not sent; run again", p);
		else
			rc = h->error(h, MS_EIO, "cannot read \"%s\": %s", p,
				      b.fail_errno ? strerror(b.fail_errno) :
						     "error");
		goto out;
	}
	if (rc != MS_OK)
		goto out;
	rc = msnet_check(c->net, &r, &resp);
	if (rc != MS_OK)
		goto out;
	snprintf(commit_id, 65, "%s", commit_id_of(resp.data));
out:
	msnet_response_clear(&resp);
	commit_body_free(&b);
	free(url);
	return rc;
}
