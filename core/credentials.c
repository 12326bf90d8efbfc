/* SPDX-License-Identifier: MIT */
/* The stored login: mspublish's own 0600 file, then the official SDK's. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credentials.h"
#include "error.h"
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
 * A pickle string opcode at p: SHORT_BINUNICODE (0x8c, 1-byte length),
 * BINUNICODE ('X', 4-byte little-endian length) or SHORT_BINSTRING ('U').
 * Returns its length and sets *str, or -1.
 */
static long pickle_str(const unsigned char *p, const unsigned char *end,
		       const unsigned char **str)
{
	size_t len;

	if (p >= end)
		return -1;
	if ((p[0] == 0x8c || p[0] == 'U') && p + 2 <= end) {
		len = p[1];
		*str = p + 2;
	} else if (p[0] == 'X' && p + 5 <= end) {
		len = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16 | (size_t)p[4] << 24;
		*str = p + 5;
	} else {
		return -1;
	}
	if (*str + len > end)
		return -1;
	return (long)len;
}

/* Skip memo opcodes (MEMOIZE 0x94, BINPUT 'q' n) between tokens. */
static const unsigned char *skip_memo(const unsigned char *p, const unsigned char *end)
{
	for (;;) {
		if (p < end && p[0] == 0x94)
			p++;
		else if (p + 1 < end && p[0] == 'q')
			p += 2;
		else
			return p;
	}
}

char *ms_credentials_from_pickle(const unsigned char *buf, size_t len)
{
	static const char name[] = "m_session_id";
	const unsigned char *end = buf + len, *p = buf;

	/*
	 * A requests cookie jar pickles each Cookie's __dict__ with "name"
	 * before "value": find the string "m_session_id", then the next
	 * "value" key, and take the string after it.  No code is run.
	 */
	while (p < end) {
		const unsigned char *s, *q;
		long n = pickle_str(p, end, &s);

		if (n != (long)strlen(name) || memcmp(s, name, (size_t)n)) {
			p++;
			continue;
		}
		for (q = s + n; q < end; q++) {
			const unsigned char *k, *v;
			long kn = pickle_str(q, end, &k), vn;

			if (kn != 5 || memcmp(k, "value", 5))
				continue;
			vn = pickle_str(skip_memo(k + 5, end), end, &v);
			if (vn <= 0 || vn > 4096)
				return NULL;
			return strndup((const char *)v, (size_t)vn);
		}
		return NULL;
	}
	return NULL;
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

int ms_credentials_read(char **token_out, char **origin_out)
{
	char *path = ms_settings_login_path(), *sdk = NULL;
	const char *mshome = getenv("MODELSCOPE_HOME"), *home = getenv("HOME");
	unsigned char *buf;
	size_t len = 0;

	*token_out = NULL;
	*origin_out = NULL;
	buf = path ? slurp(path, &len) : NULL;
	if (buf) {
		*token_out = strip_dup((char *)buf);
		explicit_bzero(buf, len);
		free(buf);
		if (*token_out) {
			*origin_out = path;
			return MS_OK;
		}
	}
	free(path);
	if (mshome && *mshome) {
		if (asprintf(&sdk, "%s/credentials/cookies", mshome) < 0)
			return MS_ENOMEM;
	} else if (home && *home) {
		if (asprintf(&sdk, "%s/.modelscope/credentials/cookies", home) < 0)
			return MS_ENOMEM;
	}
	buf = sdk ? slurp(sdk, &len) : NULL;
	if (buf) {
		*token_out = ms_credentials_from_pickle(buf, len);
		explicit_bzero(buf, len);
		free(buf);
		if (*token_out) {
			*origin_out = sdk;
			return MS_OK;
		}
	}
	free(sdk);
	return MS_OK;
}

/* mkdir -p for the directory part of path, mode 0700. */
static int make_parent(const char *path)
{
	char *dir = strdup(path), *p;

	if (!dir)
		return -1;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST) {
			free(dir);
			return -1;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

int ms_credentials_write(const char *token, char **path_out)
{
	char *path = ms_settings_login_path(), *tmp = NULL;
	int fd = -1, rc = MS_OK;
	size_t len = strlen(token);

	*path_out = path;
	if (!path)
		return ms_error_set(MS_EINVAL, "cannot store the login: HOME is not set");
	if (make_parent(path) || asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		return ms_error_set(MS_EIO, "cannot create the directory of \"%s\": %s", path,
				    strerror(errno));
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, token, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) || close(fd)) {
		rc = ms_error_set(MS_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
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

int ms_credentials_delete(char **path_out)
{
	char *path = ms_settings_login_path();

	*path_out = path;
	if (!path)
		return MS_OK;
	if (unlink(path) && errno != ENOENT)
		return ms_error_set(MS_EIO, "cannot remove \"%s\": %s", path, strerror(errno));
	return MS_OK;
}
