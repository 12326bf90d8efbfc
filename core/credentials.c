/* SPDX-License-Identifier: MIT */
/* The stored login: mspublish's own 0600 file, then the official SDK's. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "credentials.h"
#include "error.h"
#include "paths.h"
#include "settings.h"

/* Read a small file whole (a token or a cookie jar; capped at 1 MiB). */
static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	close(fd);
	return buf;
}

/*
 * Reading the official SDK's pickled cookie jar without running it.  The
 * opcodes are walked, not executed: each string or integer pushed becomes an
 * event, memo stores and gets are followed, and everything else is an opaque
 * event.  A requests cookie jar pickles each Cookie's __dict__ with the keys
 * in a fixed order ("name", <name>, "value", <value>, ..., "expires", <int>),
 * which is all we need.  Anything unexpected ends the walk: no token.
 */
enum pk_kind { PK_OTHER, PK_STR, PK_INT, PK_NONE };

struct pk_event {
	enum pk_kind kind;
	const unsigned char *str;
	size_t len;
	int64_t num;
};

struct pk_walk {
	const unsigned char *p, *end;
	struct pk_event *ev;  /* events in order */
	size_t n, cap;
	struct pk_event *memo;
	size_t memo_cap;
	size_t memo_next;     /* the index MEMOIZE uses */
	struct pk_event top;  /* what the last op left on the stack top */
};

static bool pk_need(struct pk_walk *w, size_t n)
{
	return (size_t)(w->end - w->p) >= n;
}

static uint64_t pk_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool pk_push(struct pk_walk *w, struct pk_event e)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		struct pk_event *g = realloc(w->ev, cap * sizeof(*g));

		if (!g)
			return false;
		w->ev = g;
		w->cap = cap;
	}
	w->ev[w->n++] = e;
	w->top = e;
	return true;
}

static bool pk_memo_put(struct pk_walk *w, uint64_t idx)
{
	if (idx >= 1u << 20)
		return false;
	if (idx >= w->memo_cap) {
		size_t cap = (size_t)idx + 256;
		struct pk_event *g = realloc(w->memo, cap * sizeof(*g));

		if (!g)
			return false;
		memset(g + w->memo_cap, 0, (cap - w->memo_cap) * sizeof(*g));
		w->memo = g;
		w->memo_cap = cap;
	}
	w->memo[idx] = w->top;
	return true;
}

static bool pk_memo_get(struct pk_walk *w, uint64_t idx)
{
	struct pk_event e = { .kind = PK_OTHER };

	if (idx < w->memo_cap)
		e = w->memo[idx];
	return pk_push(w, e);
}

/* Skip a text argument ending in '\n' (protocol 0/1 opcodes). */
static bool pk_skip_line(struct pk_walk *w)
{
	const unsigned char *nl = memchr(w->p, '\n', (size_t)(w->end - w->p));

	if (!nl)
		return false;
	w->p = nl + 1;
	return true;
}

/* Walk every opcode; false on anything unknown or truncated. */
static bool pk_walk_all(struct pk_walk *w)
{
	static const struct pk_event other = { .kind = PK_OTHER };

	while (w->p < w->end) {
		unsigned char op = *w->p++;
		size_t n = 0, len;
		struct pk_event e = { .kind = PK_STR };

		switch (op) {
		case 0x8c: case 'U': n = 1; break;  /* short strings */
		case 'X': case 'T': n = 4; break;   /* strings */
		case 0x8d: n = 8; break;            /* BINUNICODE8 */
		case 'C': n = 1; e.kind = PK_OTHER; break; /* bytes */
		case 'B': n = 4; e.kind = PK_OTHER; break;
		case 0x8e: case 0x96: n = 8; e.kind = PK_OTHER; break;
		default: e.kind = PK_NONE; break;
		}
		if (e.kind != PK_NONE) {
			if (!pk_need(w, n))
				return false;
			len = (size_t)pk_le(w->p, n);
			w->p += n;
			if (!pk_need(w, len))
				return false;
			e.str = w->p;
			e.len = len;
			w->p += len;
			if (!pk_push(w, e))
				return false;
			continue;
		}
		switch (op) {
		case 0x80: /* PROTO */
			if (!pk_need(w, 1))
				return false;
			w->p += 1;
			break;
		case 0x95: /* FRAME */
			if (!pk_need(w, 8))
				return false;
			w->p += 8;
			break;
		case 0x94: /* MEMOIZE */
			if (!pk_memo_put(w, w->memo_next++))
				return false;
			break;
		case 'q': case 'r': /* BINPUT, LONG_BINPUT */
			n = op == 'q' ? 1 : 4;
			if (!pk_need(w, n) || !pk_memo_put(w, pk_le(w->p, n)))
				return false;
			w->p += n;
			break;
		case 'h': case 'j': /* BINGET, LONG_BINGET */
			n = op == 'h' ? 1 : 4;
			if (!pk_need(w, n) || !pk_memo_get(w, pk_le(w->p, n)))
				return false;
			w->p += n;
			break;
		case 'K': case 'M': case 'J': /* BININT1, BININT2, BININT */
			n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
			if (!pk_need(w, n))
				return false;
			e.kind = PK_INT;
			e.num = op == 'J' ? (int32_t)pk_le(w->p, 4) : (int64_t)pk_le(w->p, n);
			w->p += n;
			if (!pk_push(w, e))
				return false;
			break;
		case 0x8a: case 0x8b: /* LONG1, LONG4: little-endian two's complement */
			n = op == 0x8a ? 1 : 4;
			if (!pk_need(w, n))
				return false;
			len = (size_t)pk_le(w->p, n);
			w->p += n;
			if (!pk_need(w, len))
				return false;
			e.kind = len <= 8 ? PK_INT : PK_OTHER;
			e.num = len && len <= 8 ? (int64_t)pk_le(w->p, len) : 0;
			if (len && len < 8 && (w->p[len - 1] & 0x80))
				e.num -= (int64_t)1 << (8 * len);
			w->p += len;
			if (!pk_push(w, e))
				return false;
			break;
		case 'N': /* NONE */
			e.kind = PK_NONE;
			if (!pk_push(w, e))
				return false;
			break;
		case 'G': /* BINFLOAT */
			if (!pk_need(w, 8))
				return false;
			w->p += 8;
			if (!pk_push(w, other))
				return false;
			break;
		case 'c': case 'i': /* GLOBAL, INST: two text lines */
			if (!pk_skip_line(w) || !pk_skip_line(w) || !pk_push(w, other))
				return false;
			break;
		case 'I': case 'L': case 'F': case 'S': case 'V': case 'P':
			if (!pk_skip_line(w) || !pk_push(w, other))
				return false;
			break;
		case 0x82: case 0x83: case 0x84: /* EXT1, EXT2, EXT4 */
			n = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
			if (!pk_need(w, n))
				return false;
			w->p += n;
			if (!pk_push(w, other))
				return false;
			break;
		case '.': /* STOP */
			return true;
		case '(': case '0': case '1': case '2': case '}': case ']': case ')':
		case 0x8f: case 't': case 0x85: case 0x86: case 0x87: case 'l':
		case 'd': case 's': case 'u': case 'a': case 'e': case 0x90:
		case 'b': case 0x81: case 0x92: case 'R': case 0x93: case 'o':
		case 0x88: case 0x89: case 0x91: case 'Q': case 0x97: case 0x98:
			/* structure: what they leave on top is nothing we read */
			if (!pk_push(w, other))
				return false;
			break;
		default:
			return false;
		}
	}
	return false; /* no STOP */
}

static bool pk_is(const struct pk_event *e, const char *s)
{
	return e->kind == PK_STR && e->len == strlen(s) && !memcmp(e->str, s, e->len);
}

char *ms_credentials_from_pickle(const unsigned char *buf, size_t len)
{
	struct pk_walk w = { .p = buf, .end = buf + len };
	char *token = NULL;

	if (!pk_walk_all(&w))
		goto out;
	for (size_t i = 0; i + 3 < w.n && !token; i++) {
		const struct pk_event *v;
		bool expired = false;

		if (!pk_is(&w.ev[i], "name") || !pk_is(&w.ev[i + 1], "m_session_id") ||
		    !pk_is(&w.ev[i + 2], "value"))
			continue;
		v = &w.ev[i + 3];
		if (v->kind != PK_STR || v->len == 0 || v->len > 4096)
			continue;
		/* this cookie's "expires", before the next cookie's "name" */
		for (size_t j = i + 4; j + 1 < w.n && !pk_is(&w.ev[j], "name"); j++)
			if (pk_is(&w.ev[j], "expires") && w.ev[j + 1].kind == PK_INT)
				expired = w.ev[j + 1].num <= (int64_t)time(NULL);
		if (!expired)
			token = strndup((const char *)v->str, v->len);
	}
out:
	free(w.ev);
	free(w.memo);
	return token;
}

static char *strip_dup(const char *s)
{
	const char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return e > s ? strndup(s, (size_t)(e - s)) : NULL;
}

/* The token in file @p path (taken: freed, or kept as *origin_out). */
static bool token_from(char **token_out, char **origin_out, char *path,
		       char *(*parse)(const unsigned char *, size_t))
{
	size_t len = 0;
	unsigned char *buf = path ? slurp(path, &len) : NULL;

	if (buf) {
		*token_out = parse(buf, len);
		explicit_bzero(buf, len);
		free(buf);
	}
	if (*token_out) {
		*origin_out = path;
		return true;
	}
	free(path);
	return false;
}

static char *parse_plain(const unsigned char *buf, size_t len)
{
	(void)len;
	return strip_dup((const char *)buf);
}

int ms_credentials_read(char **token_out, char **origin_out)
{
	const char *mshome = getenv("MODELSCOPE_HOME"), *home = getenv("HOME");
	char *sdk = NULL;
	int n = 0;

	*token_out = NULL;
	*origin_out = NULL;
	if (token_from(token_out, origin_out, ms_settings_login_path(), parse_plain))
		return MS_OK;
	if (mshome && *mshome)
		n = asprintf(&sdk, "%s/credentials/cookies", mshome);
	else if (home && *home)
		n = asprintf(&sdk, "%s/.modelscope/credentials/cookies", home);
	if (n < 0)
		return MS_ENOMEM;
	token_from(token_out, origin_out, sdk, ms_credentials_from_pickle);
	return MS_OK;
}

int ms_credentials_write(const char *token, char **path_out)
{
	char *path = ms_settings_login_path(), *tmp = NULL;
	int fd = -1, rc = MS_OK, err;
	size_t len = strlen(token);
	bool ok;

	*path_out = path;
	if (!path)
		return ms_error_set(MS_EINVAL, "cannot store the login: HOME is not set");
	if (ms_paths_mkdirs_parent(path) || asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		return ms_error_set(MS_EIO, "cannot create the directory of \"%s\": %s", path,
				    strerror(errno));
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ok = fd >= 0 && write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
	     fsync(fd) == 0;
	err = errno;
	/* closed once, whatever happened: a second close could hit another file */
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (!ok) {
		rc = ms_error_set(MS_EIO, "cannot write \"%s\": %s", tmp, strerror(err));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		rc = ms_error_set(MS_EIO, "cannot write \"%s\": %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}

int ms_credentials_delete(char **path_out, bool *existed)
{
	char *path = ms_settings_login_path();

	*path_out = path;
	*existed = false;
	if (!path)
		return MS_OK;
	if (!unlink(path)) {
		*existed = true;
		return MS_OK;
	}
	if (errno != ENOENT)
		return ms_error_set(MS_EIO, "cannot remove \"%s\": %s", path, strerror(errno));
	return MS_OK;
}
