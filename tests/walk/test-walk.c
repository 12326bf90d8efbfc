/* SPDX-License-Identifier: MIT */
/* Unit tests of the folder walk (core/folder.c) and hasher (core/hash.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "folder.h"
#include "hash.h"
#include "log.h"
#include "tap.h"

static char tmp_root[256];

/* ---- helpers ---------------------------------------------------------- */

static char *fmt(const char *f, ...) MS_PRINTF(1, 2);

/* A malloc'd formatted string (tests free what they keep). */
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		abort();
	return s;
}

/* A formatted path in one of 8 rotating static buffers (not freed). */
static const char *tp(const char *f, ...) MS_PRINTF(1, 2);

static const char *tp(const char *f, ...)
{
	static char bufs[8][4096];
	static unsigned next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof(bufs[0]), f, ap);
	va_end(ap);
	return b;
}

static void mkdirs(const char *path)
{
	char buf[4096];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

/* Write len bytes of data (or a pattern when data is NULL) to dir/rel. */
static void put_file(const char *dir, const char *rel, const char *data,
		     size_t len)
{
	char *path = fmt("%s/%s", dir, rel), *slash;
	unsigned char chunk[4096];
	size_t done = 0, n, i;
	FILE *f;

	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		abort();
	}
	while (done < len) {
		n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (data) {
			fwrite(data + done, 1, n, f);
		} else {
			for (i = 0; i < n; i++)
				chunk[i] = (unsigned char)((done + i) * 131 +
							   (done + i) / 7);
			fwrite(chunk, 1, n, f);
		}
		done += n;
	}
	fclose(f);
	free(path);
}

static void put_str(const char *dir, const char *rel, const char *s)
{
	put_file(dir, rel, s, strlen(s));
}

/* Set the mtime of dir/rel to now - age seconds. */
static void age_file(const char *dir, const char *rel, int age)
{
	struct timespec ts[2];
	char *path = fmt("%s/%s", dir, rel);

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	if (utimensat(AT_FDCWD, path, ts, 0) != 0)
		perror(path);
	free(path);
}

static char *new_dir(const char *name)
{
	char *d = fmt("%s/%s", tmp_root, name);

	mkdirs(d);
	return d;
}

/* The repo paths of a list joined with '|'. */
static char *joined(const struct ms_filelist *l)
{
	size_t i, len = 1;
	char *s;

	if (!l)
		return fmt("(null)");
	for (i = 0; i < l->n; i++)
		len += strlen(l->files[i].repo_path) + 1;
	s = calloc(1, len);
	for (i = 0; i < l->n; i++) {
		if (i)
			strcat(s, "|");
		strcat(s, l->files[i].repo_path);
	}
	return s;
}

static int walk(struct ms_filelist **out, const char *dir,
		const char *path_in_repo, const char *const *inc,
		const char *const *exc)
{
	struct ms_walk_opts o = {
		.folder = dir,
		.path_in_repo = path_in_repo,
		.include = inc,
		.exclude = exc,
	};

	*out = NULL;
	return ms_folder_walk(out, &o);
}

/* Run walk and return the joined repo paths (or "ERR <code>"). */
static char *walk_paths(const char *dir, const char *const *inc,
			const char *const *exc)
{
	struct ms_filelist *l;
	char *s;
	int rc;

	rc = walk(&l, dir, "", inc, exc);
	if (rc)
		return fmt("ERR %d: %s", rc, ms_error_last());
	s = joined(l);
	ms_filelist_free(l);
	return s;
}

/* Run a command and return its first line of output (malloc'd). */
static char *run_line(const char *cmd)
{
	char buf[4096] = "";
	FILE *p;

	p = popen(cmd, "r");
	if (!p)
		return fmt("(popen failed)");
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	return fmt("%s", buf);
}

/* Everything written to stderr while fn runs is captured in a string. */
struct capture {
	int saved;
	char path[300];
};

static void capture_start(struct capture *c)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "%s/stderr.txt", tmp_root);
	fflush(stderr);
	c->saved = dup(2);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
}

static char *capture_end(struct capture *c)
{
	char buf[8192];
	size_t n;
	FILE *f;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	f = fopen(c->path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return fmt("%s", buf);
}

/* ---- pattern matching ------------------------------------------------- */

struct match_case {
	const char *pat, *path;
	bool want;
};

/* Expected values generated once with Python 3.11 fnmatch.fnmatchcase. */
static const struct match_case match_cases[] = {
	{ "*.json", "config.json", true },
	{ "*.json", "sub/dir/x.json", true },
	{ "*.json", "x.jsonl", false },
	{ "*", "a/b/c", true },
	{ "?", "a", true },
	{ "?", "é", true },
	{ "?", "ab", false },
	{ "a?c", "a/c", true },
	{ "??", "é", false },
	{ ".git", ".git", true },
	{ ".git", "a/.git", false },
	{ "*/.git", "a/.git", true },
	{ "*/.git", "a/b/.git", true },
	{ "**/.git/**", "a/.git/config", true },
	{ "**/.git/**", ".git/config", false },
	{ ".git/*", ".git/objects/ab/cd", true },
	{ "**/.cache/**", "x/.cache/y", true },
	{ "*/.cache", ".cache", false },
	{ "[abc]", "b", true },
	{ "[abc]", "d", false },
	{ "[!abc]", "d", true },
	{ "[!abc]", "a", false },
	{ "[a-c]x", "bx", true },
	{ "[a-c]x", "dx", false },
	{ "[]]", "]", true },
	{ "[!]]", "a", true },
	{ "[!]]", "]", false },
	{ "[", "[", true },
	{ "[a", "[a", true },
	{ "a[", "a[", true },
	{ "[!", "[!", true },
	{ "[z-a]", "m", false },
	{ "[!z-a]", "m", true },
	{ "[a-]", "-", true },
	{ "[a-]", "a", true },
	{ "[-a]", "-", true },
	{ "[--0]", "/", true },
	{ "[a-b-c]", "-", true },
	{ "[a-b-c]", "c", true },
	{ "[a-b-c]", "b", true },
	{ "[c-ab]", "b", true },
	{ "[c-ab]", "a", false },
	{ "[\\\\]", "\\\\", false },
	{ "a\\\\*", "a\\\\b", true },
	{ "\\\\*", "*", false },
	{ "[é-ë]", "ê", true },
	{ "[é-ë]", "e", false },
	{ "*é", "caféé", true },
	{ "Model.bin", "model.bin", false },
	{ "*.BIN", "x.bin", false },
	{ "*a*b*c", "xaybzc", true },
	{ "*a*b*c", "xaybzcd", false },
	{ "a*", "a", true },
	{ "*", "", true },
	{ "", "", true },
	{ "", "a", false },
	{ "[^a]", "^", true },
	{ "[^a]", "b", false },
	{ "[[:alpha:]]", "a", false },
	{ "[[:alpha:]]", "[]", true },
	{ "*[0-9]", "file9", true },
	{ "foo/*", "foo/bar/baz", true },
	{ "*.safetensors", "model-00001-of-00002.safetensors", true },
	{ "a*b", "a\nb", true },
	{ "?", "\n", true },
	{ "[!a]", "\n", true },
	{ "**", "x/y", true },
	{ "*/*", "x", false },
	{ "*/*", "x/y", true },
	{ "[a-z]*.py", "Test.py", false },
	{ "[A-Z]*.py", "Test.py", true },
};

/* s with newlines shown as \n, for test names (one rotating buffer). */
static const char *esc(const char *s)
{
	static char bufs[2][256];
	static unsigned next;
	char *b = bufs[next++ % 2];
	size_t n = 0;

	for (; *s && n < sizeof(bufs[0]) - 3; s++) {
		if (*s == '\n') {
			b[n++] = '\\';
			b[n++] = 'n';
		} else {
			b[n++] = *s;
		}
	}
	b[n] = '\0';
	return b;
}

static void test_walk__match(void)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++)
		ok(ms_folder_match(match_cases[i].pat, match_cases[i].path) ==
			   match_cases[i].want,
		   "fnmatch(\"%s\", \"%s\") == %s",
		   esc(match_cases[i].path), esc(match_cases[i].pat),
		   match_cases[i].want ? "True" : "False");
}

/* ---- classification --------------------------------------------------- */

static void test_walk__classify(void)
{
	ok(!ms_folder_is_lfs("config.json", 1048576), "1048576 bytes: normal");
	ok(ms_folder_is_lfs("config.json", 1048577), "1048577 bytes: lfs");
	ok(ms_folder_is_lfs("w/model.SafeTensors", 10), ".SafeTensors: lfs");
	ok(ms_folder_is_lfs("model.tar.gz", 10), "model.tar.gz: lfs (.gz)");
	ok(!ms_folder_is_lfs(".bin", 10), ".bin alone has no suffix");
	ok(!ms_folder_is_lfs("sub/.bin", 10), "sub/.bin has no suffix");
	ok(!ms_folder_is_lfs("dir.v2/file", 10), "dir.v2/file: no suffix");
	ok(!ms_folder_is_lfs("dir.bin/file", 10), "suffix of a directory");
	ok(ms_folder_is_lfs("a..bin", 10), "a..bin: .bin");
	ok(!ms_folder_is_lfs("file.", 10), "trailing dot: no suffix");
	ok(!ms_folder_is_lfs("model.bin.txt", 10), "last suffix counts");
	ok(ms_folder_is_lfs("x.GGUF.ZST", 10), ".ZST upper case");
	ok(!ms_folder_is_lfs("x.gguf", 10), ".gguf is not in the list");
	ok(!ms_folder_is_lfs("empty.json", 0), "empty file: normal");
	ok(ms_folder_is_lfs("tokenizer.json", 3u << 20), "3 MiB json: lfs");
}

/* ---- the walk --------------------------------------------------------- */

static void test_walk__basic(void)
{
	struct ms_filelist *l = NULL;
	char *d = new_dir("basic"), *s;
	const struct ms_file *f;
	size_t i;
	int rc;

	put_str(d, "config.json", "{}");
	put_str(d, "tokenizer_config.json", "{\"a\": 1}");
	put_file(d, "model.safetensors", NULL, 1000);
	put_file(d, "big.txt", NULL, 1048577);
	put_str(d, "empty", "");
	put_str(d, "sub dir/with space.txt", "x");
	put_str(d, "Z.txt", "z");
	put_str(d, "a.txt", "a");
	put_str(d, "\xc3\xa9.txt", "e");     /* é */
	put_str(d, "\xc3\xa4.txt", "a");     /* ä */
	put_str(d, "\xe4\xb8\xad.txt", "z"); /* 中 */
	put_str(d, ".hidden", "h");
	put_str(d, ".git/config", "[core]");
	put_str(d, ".git/objects/ab/cdef", "obj");
	put_str(d, "sub/.git", "gitdir: x");
	put_str(d, "sub/deep/.git/HEAD", "ref");
	put_str(d, ".cache/x", "c");
	put_str(d, "sub/.cache/y/z", "c");
	put_str(d, ".ms_upload_cache", "{}");
	put_str(d, "sub/.ms_upload_progress", "{}");
	put_str(d, ".gitattributes", "*.bin filter=lfs");
	mkfifo(tp("%s/fifo", d), 0600);

	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_OK, "walk of a model folder");
	s = joined(l);
	is_str(s, ".gitattributes|.hidden|Z.txt|a.txt|big.txt|config.json|"
		  "empty|model.safetensors|sub dir/with space.txt|"
		  "tokenizer_config.json|\xc3\xa4.txt|\xc3\xa9.txt|"
		  "\xe4\xb8\xad.txt",
	       "default ignores applied, sorted by byte order, fifo skipped");
	free(s);
	if (l) {
		ok(l->n == 13 && l->n_lfs == 2, "13 files, 2 lfs");
		ok(l->total_bytes == 2 + 8 + 1000 + 1048577 + 1 + 1 + 1 + 1 +
					     1 + 1 + 1 + 16,
		   "total bytes");
		ok(l->lfs_bytes == 1000 + 1048577, "lfs bytes");
		for (i = 0; i < l->n; i++) {
			f = &l->files[i];
			if (!strcmp(f->rel_path, "empty"))
				ok(f->size == 0 && !f->lfs,
				   "empty file listed");
			if (!strcmp(f->rel_path, "sub dir/with space.txt")) {
				s = fmt("%s/sub dir/with space.txt", l->root);
				is_str(f->path, s, "absolute local path");
				free(s);
				ok(f->mtime_ns > 0 && f->ino != 0,
				   "mtime and inode recorded");
			}
			if (!strcmp(f->rel_path, "model.safetensors"))
				ok(f->lfs && !f->hashed, "safetensors is lfs");
		}
	}
	ms_filelist_free(l);

	rc = walk(&l, d, "/models/v1/", NULL, NULL);
	ok(rc == MS_OK && l && !strcmp(l->files[0].repo_path,
					 "models/v1/.gitattributes") &&
		   !strcmp(l->files[0].rel_path, ".gitattributes"),
	   "path_in_repo prefix, slashes stripped, rel_path unprefixed");
	ms_filelist_free(l);
	free(d);
}

static void test_walk__patterns(void)
{
	char *d = new_dir("patterns"), *s;
	const char *inc_json[] = { "*.json", NULL };
	const char *inc_two[] = { "config.json,*.safetensors", "", NULL };
	const char *exc_sub[] = { "sub/*", NULL };
	const char *inc_git[] = { ".git/*", NULL };
	const char *inc_cache[] = { ".cache", "*.json", NULL };
	const char *exc_json[] = { "*.json", ",", NULL };

	put_str(d, "config.json", "{}");
	put_str(d, "model.safetensors", "w");
	put_str(d, "README.md", "r");
	put_str(d, "sub/x.json", "{}");
	put_str(d, "sub/y.txt", "y");
	put_str(d, ".git/config", "c");
	put_str(d, ".git/objects/o", "o");
	put_str(d, ".cache", "top-level file named .cache");

	s = walk_paths(d, inc_json, NULL);
	is_str(s, "config.json|sub/x.json", "include *.json crosses /");
	free(s);
	s = walk_paths(d, inc_two, NULL);
	is_str(s, "config.json|model.safetensors",
	       "comma-separated includes, empty pieces dropped");
	free(s);
	s = walk_paths(d, (const char *const[]){ "config.json, *.md\nsub/*.txt",
						  NULL }, NULL);
	is_str(s, "README.md|config.json|sub/y.txt",
	       "a setting's value: commas, newlines, leading blanks");
	free(s);
	s = walk_paths(d, inc_json, exc_sub);
	is_str(s, "config.json", "include and exclude together");
	free(s);
	s = walk_paths(d, NULL, exc_json);
	is_str(s, "README.md|model.safetensors|sub/y.txt", "exclude *.json");
	free(s);
	s = walk_paths(d, inc_git, NULL);
	is_str(s, ".git/config|.git/objects/o",
	       "an ignore listed verbatim in include is dropped");
	free(s);
	s = walk_paths(d, inc_cache, NULL);
	is_str(s, ".cache|config.json|sub/x.json",
	       "include .cache re-allows the file .cache");
	free(s);

	put_str(d, "bad\xff\xfename.txt", "not UTF-8");
	s = walk_paths(d, NULL, NULL);
	ok(strstr(s, "ERR -3") && strstr(s, "\"bad??name.txt\"") &&
		   strstr(s, "UTF-8"),
	   "a name that is not UTF-8 is an error: %s", s);
	free(s);
	{
		const char *exc_bad[] = { "bad*", NULL };

		s = walk_paths(d, NULL, exc_bad);
		is_str(s, "README.md|config.json|model.safetensors|"
			  "sub/x.json|sub/y.txt",
		       "... unless it is excluded");
		free(s);
	}
	free(d);
}

static void test_walk__symlinks(void)
{
	const char *exc_out[] = { "out*", NULL };
	char *d, *s, *outside;
	struct ms_filelist *l;
	int rc;

	outside = new_dir("outside");
	put_str(outside, "secret.txt", "outside");

	d = new_dir("links-in");
	put_str(d, "config.json", "{\"x\": 1}");
	put_str(d, "sub/w.bin", "bin");
	symlink("config.json", tp("%s/link.json", d));
	symlink("sub", tp("%s/alias", d));
	symlink("../config.json", tp("%s/sub/up.json", d));
	rc = walk(&l, d, "", NULL, NULL);
	s = joined(l);
	is_str(s, "alias/up.json|alias/w.bin|config.json|link.json|"
		  "sub/up.json|sub/w.bin",
	       "links inside the folder followed under their own path");
	free(s);
	ok(rc == MS_OK && l && l->files[3].size == 8 && !l->files[3].lfs,
	   "a link has its target's size");
	ms_filelist_free(l);

	symlink(tp("%s/secret.txt", outside), tp("%s/out.txt", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && !l, "a link outside the folder is an error");
	ok(strstr(ms_error_last(), "\"out.txt\"") &&
		   strstr(ms_error_last(), "outside"),
	   "the error names the link: %s", ms_error_last());
	s = walk_paths(d, NULL, exc_out);
	ok(strncmp(s, "ERR", 3) != 0, "an excluded outside link is skipped");
	free(s);
	unlink(tp("%s/out.txt", d));

	symlink(outside, tp("%s/outdir", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\"outdir\""),
	   "a directory link outside is an error: %s", ms_error_last());
	unlink(tp("%s/outdir", d));

	symlink("no-such-file", tp("%s/dangling", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\"dangling\"") &&
		   strstr(ms_error_last(), "dangling"),
	   "a dangling link is an error: %s", ms_error_last());
	unlink(tp("%s/dangling", d));

	symlink("loop2", tp("%s/loop1", d));
	symlink("loop1", tp("%s/loop2", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\"loop1\"") &&
		   strstr(ms_error_last(), "loop"),
	   "a link loop is an error: %s", ms_error_last());
	unlink(tp("%s/loop1", d));
	unlink(tp("%s/loop2", d));

	symlink("..", tp("%s/sub/parent", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "loop") &&
		   strstr(ms_error_last(), "parent\""),
	   "a directory link to an ancestor is a loop: %s", ms_error_last());
	unlink(tp("%s/sub/parent", d));
	symlink(".", tp("%s/self", d));
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\"self\""),
	   "a link to the folder itself is a loop: %s", ms_error_last());
	unlink(tp("%s/self", d));

	s = fmt("%s/links-root", tmp_root);
	symlink(d, s);
	rc = walk(&l, s, "", NULL, NULL);
	ok(rc == MS_OK && l && l->n == 6,
	   "the folder itself may be a symlink");
	ms_filelist_free(l);
	free(s);
	free(d);
	free(outside);
}

static void test_walk__limits(void)
{
	struct ms_walk_limits lim = { 0 };
	struct ms_walk_opts o = { 0 };
	struct ms_filelist *l = NULL;
	struct capture cap;
	const char *exc_big[] = { "big", NULL };
	char *d, *s;
	unsigned w0;
	int rc;

	d = new_dir("limits");
	put_str(d, "a", "1");
	put_str(d, "b", "2");
	put_str(d, "dir/c", "3");
	put_str(d, ".git/x", "4");
	put_str(d, ".git/y", "5");
	o.folder = d;
	o.limits = &lim;

	lim.max_files = 5;
	rc = ms_folder_walk(&l, &o);
	ok(rc == MS_OK, "5 files with a limit of 5");
	ms_filelist_free(l);
	put_str(d, ".git/z", "6");
	rc = ms_folder_walk(&l, &o);
	ok(rc == MS_EINVAL && !l && strstr(ms_error_last(), "more than 5"),
	   "6 files (3 in .git) with a limit of 5: %s", ms_error_last());

	lim.max_files = 0;
	lim.max_files_in_dir = 2;
	rc = ms_folder_walk(&l, &o);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\".git\""),
	   "3 files in one directory with a limit of 2: %s",
	   ms_error_last());

	lim.max_files_in_dir = 0;
	lim.max_file_size = 10;
	put_str(d, "big", "01234567890");
	o.exclude = exc_big;
	rc = ms_folder_walk(&l, &o);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "\"big\""),
	   "an 11-byte file over a 10-byte limit, even excluded: %s",
	   ms_error_last());
	o.exclude = NULL;

	lim.max_file_size = 0;
	lim.normal_total_warn = 10;
	w0 = ms_log_warnings();
	capture_start(&cap);
	rc = ms_folder_walk(&l, &o);
	s = capture_end(&cap);
	ok(rc == MS_OK && ms_log_warnings() == w0 + 1 &&
		   strstr(s, "WARNING: normal (non-LFS) files"),
	   "normal bytes over the limit warn: %s", s);
	ms_filelist_free(l);
	free(s);
	lim.normal_total_warn = 0;

	/* warnings for names that look like secrets */
	put_str(d, ".env", "TOKEN=x");
	put_str(d, "keys/id_rsa.pub", "k");
	put_str(d, "credentials-prod.json", "{}");
	put_str(d, "tls/server.pem", "p");
	put_str(d, "tls/server.key", "k");
	put_str(d, "home/.netrc", "machine");
	put_str(d, "not-secret.keys", "k");
	w0 = ms_log_warnings();
	capture_start(&cap);
	rc = ms_folder_walk(&l, &o);
	s = capture_end(&cap);
	ok(rc == MS_OK && ms_log_warnings() == w0 + 6,
	   "six secret-looking files, six warnings");
	ok(strstr(s, "\".env\"") && strstr(s, "\"keys/id_rsa.pub\"") &&
		   strstr(s, "\"credentials-prod.json\"") &&
		   strstr(s, "\"tls/server.pem\"") &&
		   strstr(s, "\"tls/server.key\"") &&
		   strstr(s, "\"home/.netrc\"") && !strstr(s, "not-secret"),
	   "each secret named");
	ms_filelist_free(l);
	free(s);
	free(d);

	d = new_dir("only-ignored");
	put_str(d, ".git/HEAD", "ref");
	rc = walk(&l, d, "", NULL, NULL);
	s = fmt("no files to upload in %s", d);
	ok(rc == MS_EINVAL && !l, "nothing to upload is an error");
	is_str(ms_error_last(), s, "... with the folder named");
	free(s);
	free(d);

	s = fmt("%s/missing", tmp_root);
	rc = walk(&l, s, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "missing"),
	   "a missing folder: %s", ms_error_last());
	free(s);
	s = fmt("%s/limits/a", tmp_root);
	rc = walk(&l, s, "", NULL, NULL);
	ok(rc == MS_EINVAL && strstr(ms_error_last(), "not a directory"),
	   "a file as folder: %s", ms_error_last());
	free(s);
}

static void test_walk__sparse(void)
{
	struct ms_filelist *l = NULL;
	char *d = new_dir("sparse"), *p;
	int fd, rc;

	p = fmt("%s/huge.safetensors", d);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && ftruncate(fd, 5368709120LL) == 0,
	   "sparse 5 GiB file made");
	close(fd);
	put_str(d, "config.json", "{}");
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_OK && l && l->n == 2 && l->files[1].size == 5368709120ULL &&
		   l->files[1].lfs && l->total_bytes == 5368709122ULL,
	   "a 5 GiB file has its full size");
	ms_filelist_free(l);
	unlink(p);
	free(p);
	free(d);
}

/* ---- hashing ---------------------------------------------------------- */

struct prog_state {
	uint64_t last_bytes, total;
	unsigned calls;
	bool monotonic;
	int cancel_after;
};

static void on_progress(const struct ms_progress *p, void *payload)
{
	struct prog_state *ps = payload;

	if (p->bytes_done < ps->last_bytes || strcmp(p->phase, "hashing"))
		ps->monotonic = false;
	ps->last_bytes = p->bytes_done;
	ps->total = p->bytes_total;
	ps->calls++;
}

static bool on_cancelled(void *payload)
{
	struct prog_state *ps = payload;

	return ps->cancel_after >= 0 && ps->calls >= (unsigned)ps->cancel_after;
}

static char *openssl_digest(const char *path)
{
	char *cmd = fmt("openssl dgst -sha256 -r '%s'", path), *line;

	line = run_line(cmd);
	free(cmd);
	if (strlen(line) > 64)
		line[64] = '\0';
	return line;
}

static const struct ms_file *find(const struct ms_filelist *l,
				  const char *rel)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->files[i].rel_path, rel))
			return &l->files[i];
	return NULL;
}

static void test_hash__known(void)
{
	struct ms_hash_opts o = { .jobs = 2 };
	struct ms_hash_stats st;
	struct ms_filelist *l = NULL;
	struct prog_state ps = { .monotonic = true, .cancel_after = -1 };
	char *d = new_dir("known"), *want, *p;
	char hex[65];
	uint64_t size = 0;
	int rc;

	put_str(d, "empty", "");
	put_str(d, "abc", "abc");
	put_file(d, "pattern.bin", NULL, 3u << 20);
	put_file(d, "odd.bin", NULL, (1u << 20) + 7);

	rc = walk(&l, d, "", NULL, NULL);
	o.progress = on_progress;
	o.payload = &ps;
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK, "hash four files");
	is_str(find(l, "empty")->sha256,
	       "e3b0c44298fc1c149afbf4c8996fb924"
	       "27ae41e4649b934ca495991b7852b855",
	       "SHA-256 of the empty file");
	is_str(find(l, "abc")->sha256,
	       "ba7816bf8f01cfea414140de5dae2223"
	       "b00361a396177a9cb410ff61f20015ad",
	       "SHA-256 of \"abc\"");
	p = fmt("%s/pattern.bin", d);
	want = openssl_digest(p);
	is_str(find(l, "pattern.bin")->sha256, want,
	       "3 MiB pattern file equals openssl dgst");
	ok(ms_hash_one(hex, p, &size) == MS_OK && size == 3u << 20,
	   "ms_hash_one");
	is_str(hex, want, "ms_hash_one equals openssl dgst");
	free(want);
	free(p);
	p = fmt("%s/odd.bin", d);
	want = openssl_digest(p);
	is_str(find(l, "odd.bin")->sha256, want, "1 MiB + 7 bytes file");
	free(want);
	free(p);
	ok(st.files_hashed == 4 && st.files_cached == 0 &&
		   st.bytes_hashed == 3 + (3u << 20) + (1u << 20) + 7,
	   "stats count four files hashed");
	ok(ps.calls > 0 && ps.monotonic &&
		   ps.last_bytes == st.bytes_hashed &&
		   ps.total == st.bytes_hashed,
	   "progress reaches the total");
	ok(l->files[0].hashed && !l->files[0].hash_cached, "flags set");
	ms_filelist_free(l);

	/* cancellation between buffers */
	rc = walk(&l, d, "", NULL, NULL);
	ps = (struct prog_state){ .monotonic = true, .cancel_after = 1 };
	o.cancelled = on_cancelled;
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_ECANCELED, "cancelled after the first buffer");
	ok(!find(l, "pattern.bin")->hashed, "the big file is not hashed");
	ms_filelist_free(l);
	free(d);
}

static void test_hash__parallel(void)
{
	struct ms_hash_opts o1 = { .jobs = 1 }, o4 = { .jobs = 4 };
	struct ms_hash_stats st;
	struct ms_filelist *a = NULL, *b = NULL;
	char *d = new_dir("many"), *rel, hex[65];
	size_t i, same = 0, one = 0;
	int rc;

	for (i = 0; i < 120; i++) {
		rel = fmt("d%zu/f%03zu.bin", i % 7, i);
		put_file(d, rel, NULL, (i * 7919) % 300000 + (i % 3));
		free(rel);
	}
	rc = walk(&a, d, "", NULL, NULL);
	rc = rc ? rc : walk(&b, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(a->files, a->n, &o1, &st);
	ok(rc == MS_OK && st.files_hashed == 120, "serial hash of 120 files");
	rc = rc ? rc : ms_hash_files(b->files, b->n, &o4, &st);
	ok(rc == MS_OK && st.files_hashed == 120, "4 threads, 120 files");
	for (i = 0; a && b && i < a->n; i++) {
		if (!strcmp(a->files[i].sha256, b->files[i].sha256) &&
		    b->files[i].hashed)
			same++;
		if (ms_hash_one(hex, a->files[i].path, NULL) == MS_OK &&
		    !strcmp(hex, a->files[i].sha256))
			one++;
	}
	ok(same == 120, "parallel equals serial (%zu/120)", same);
	ok(one == 120, "and equals one-by-one hashing (%zu/120)", one);
	rc = ms_hash_files(b->files, b->n, &o4, &st);
	ok(rc == MS_OK && st.files_hashed == 0 && st.files_cached == 0,
	   "files already hashed are left alone");
	ms_filelist_free(a);
	ms_filelist_free(b);
	free(d);
}

static void test_hash__cache(void)
{
	struct ms_hash_opts o = { .jobs = 2 };
	struct ms_hash_stats st;
	struct ms_filelist *l = NULL;
	struct stat sb;
	char *d = new_dir("cached"), *cache, *save[3] = { 0 };
	size_t i;
	int rc;

	cache = fmt("%s/xdg/mspublish/hashes.v1", tmp_root);
	o.cache_path = cache;
	put_str(d, "config.json", "{\"cached\": true}");
	put_file(d, "w.safetensors", NULL, 2u << 20);
	put_str(d, "new\nline", "a file name with a newline");
	age_file(d, "config.json", 100);
	age_file(d, "w.safetensors", 100);
	age_file(d, "new\nline", 100);

	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_hashed == 3 && st.files_cached == 0,
	   "first run hashes all three");
	for (i = 0; l && i < 3; i++)
		save[i] = strdup(l->files[i].sha256);
	ms_filelist_free(l);
	ok(stat(cache, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	   "cache written with mode 0600");

	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_hashed == 0 && st.files_cached == 3,
	   "second run: no file re-hashed, three from the cache");
	for (i = 0; l && i < 3; i++)
		ok(save[i] && !strcmp(l->files[i].sha256, save[i]) &&
			   l->files[i].hash_cached,
		   "cached digest %zu equals the computed one", i);
	ms_filelist_free(l);

	age_file(d, "config.json", 50);
	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_hashed == 1 && st.files_cached == 2,
	   "touching one mtime re-hashes only that file");
	ms_filelist_free(l);

	/* a file modified just now is not trusted to the cache */
	put_str(d, "fresh.txt", "fresh");
	for (i = 0; i < 2; i++) {
		rc = walk(&l, d, "", NULL, NULL);
		rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
		ms_filelist_free(l);
	}
	ok(rc == MS_OK && st.files_hashed == 1 && st.files_cached == 3,
	   "a racily fresh file is hashed again");

	put_str(tmp_root, "xdg/mspublish/hashes.v1",
		"garbage\n\x01\x02 not a cache");
	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_hashed == 4 && st.files_cached == 0,
	   "a corrupt cache is ignored");
	is_str(find(l, "w.safetensors")->sha256, save[2],
	       "and the digest is still right");
	ms_filelist_free(l);
	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_cached == 3, "and replaced by a good one");
	ms_filelist_free(l);

	/* damaged lines are skipped, good ones kept */
	{
		char *cmd = fmt("sed -i '2s/^./X/' '%s'", cache);

		ok(system(cmd) == 0, "damage one line of the cache");
		free(cmd);
	}
	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_OK && st.files_cached == 2 && st.files_hashed == 2,
	   "a damaged line costs one re-hash");
	ms_filelist_free(l);

	for (i = 0; i < 3; i++)
		free(save[i]);
	free(cache);
	free(d);
}

static void test_hash__changed(void)
{
	struct ms_hash_opts o = { .jobs = 2 };
	struct ms_hash_stats st;
	struct ms_filelist *l = NULL;
	char *d = new_dir("changed");
	int rc;

	put_str(d, "a.json", "{}");
	put_file(d, "b.bin", NULL, 100000);
	rc = walk(&l, d, "", NULL, NULL);
	ok(rc == MS_OK && ms_hash_check_unchanged(&l->files[0]) == MS_OK,
	   "unchanged file passes the check");
	put_file(d, "b.bin", NULL, 100001);
	rc = ms_hash_files(l->files, l->n, &o, &st);
	ok(rc == MS_ECHANGED && strstr(ms_error_last(), "\"b.bin\""),
	   "size changed between walk and hash: %s", ms_error_last());
	ok(ms_hash_check_unchanged(find(l, "b.bin")) == MS_ECHANGED,
	   "check_unchanged sees the new size");
	age_file(d, "a.json", 10);
	ok(ms_hash_check_unchanged(find(l, "a.json")) == MS_ECHANGED &&
		   strstr(ms_error_last(), "modification time"),
	   "check_unchanged sees the new mtime");
	unlink(tp("%s/b.bin", d));
	ok(ms_hash_check_unchanged(find(l, "b.bin")) == MS_ECHANGED &&
		   strstr(ms_error_last(), "removed"),
	   "check_unchanged sees the removal");
	ms_filelist_free(l);
	free(d);
}

/* The whole suite must not write into any folder it walks. */
static char *listing(const char *dir)
{
	char *cmd, *out;

	cmd = fmt("cd '%s' && find . -printf '%%p %%s %%T@ %%y\\n' | sort | "
		  "sha256sum && find . -type f -print0 | sort -z | "
		  "xargs -0 sha256sum | sha256sum",
		  dir);
	out = run_line(cmd);
	free(cmd);
	return out;
}

static void test_walk__read_only(void)
{
	struct ms_hash_opts o = { .jobs = 2 };
	struct ms_filelist *l = NULL;
	char *d = new_dir("readonly"), *before, *after;
	int rc;

	put_str(d, "config.json", "{}");
	put_file(d, "model.safetensors", NULL, 2u << 20);
	put_str(d, "sub/x.txt", "x");
	age_file(d, "config.json", 100);
	before = listing(d);
	o.cache_path = fmt("%s/ro-cache/h", tmp_root);
	rc = walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, NULL);
	ms_filelist_free(l);
	rc = rc ? rc : walk(&l, d, "", NULL, NULL);
	rc = rc ? rc : ms_hash_files(l->files, l->n, &o, NULL);
	ms_filelist_free(l);
	after = listing(d);
	ok(rc == MS_OK && strlen(before) > 10, "walk and hash twice");
	is_str(after, before, "folder listing (names, sizes, mtimes, "
			      "contents) identical after");
	free((char *)o.cache_path);
	free(before);
	free(after);
	free(d);
}

int main(void)
{
	char *cmd;

	snprintf(tmp_root, sizeof(tmp_root), "%s/mspublish-walk-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	test_walk__match();
	test_walk__classify();
	test_walk__basic();
	test_walk__patterns();
	test_walk__symlinks();
	test_walk__limits();
	test_walk__sparse();
	test_walk__read_only();
	test_hash__known();
	test_hash__parallel();
	test_hash__cache();
	test_hash__changed();
	cmd = fmt("rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp_root);
	free(cmd);
	return tap_done();
}
