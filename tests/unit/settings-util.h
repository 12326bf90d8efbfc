/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the settings tests: a private HOME and config dirs, a
 * clean environment, files written with a given mode, and ms_settings_load()
 * called with a NULL-terminated argument list.
 */
#ifndef MS_TEST_SETTINGS_UTIL_H
#define MS_TEST_SETTINGS_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "settings.h"

static char su_root[256];

/* Every variable the core reads; unset before each case. */
static const char *const su_vars[] = {
	"REPO_ID", "MODEL_DIR", "MODELSCOPE_API_TOKEN", "MODELSCOPE_TOKEN",
	"MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "MSPUBLISH_BACKEND",
	"MSPUBLISH_CONFIG", "MSPUBLISH_PROFILE", "MSPUBLISH_PLUGIN_DIR",
	"MODELSCOPE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
};

/* A path under the private root, in one of 64 rotating buffers. */
static inline const char *su_path(const char *fmt, ...) MS_PRINTF(1, 2);

static inline const char *su_path(const char *fmt, ...)
{
	static char bufs[64][512];
	static unsigned next;
	char *b = bufs[next++ % 64], rel[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, sizeof(bufs[0]), "%s/%s", su_root, rel);
	return b;
}

static inline void su_mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0700);
		*p = '/';
	}
	mkdir(buf, 0700);
}

/* Write @p text to @p path (parents created) with @p mode. */
static inline void su_write(const char *path, int mode, const char *text)
{
	char dir[512];
	char *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		su_mkdirs(dir);
	}
	unlink(path);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(99);
	}
	chmod(path, (mode_t)mode);
}

/* A fresh environment: private HOME, nothing else set. */
static inline void su_reset_env(void)
{
	for (size_t i = 0; i < sizeof(su_vars) / sizeof(su_vars[0]); i++)
		unsetenv(su_vars[i]);
	setenv("HOME", su_path("home"), 1);
	su_mkdirs(su_path("home"));
}

/*
 * A backend section must name a backend on the plugin search path: make
 * (empty) http.so, git.so and dryrun.so in a private plugin folder and point
 * MSPUBLISH_PLUGIN_DIR at it.  Settings only look for the files.
 */
static inline void su_fake_plugins(void)
{
	static const char *const names[] = { "http", "git", "dryrun" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		su_write(su_path("plugins/%s.so", names[i]), 0644, "");
	setenv("MSPUBLISH_PLUGIN_DIR", su_path("plugins"), 1);
}

static inline void su_setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(su_root, sizeof(su_root), "%s/ms-settings-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(su_root)) {
		perror("mkdtemp");
		exit(99);
	}
	su_reset_env();
}

static inline void su_teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", su_root);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", su_root);
}

/*
 * ms_settings_load("mspublish", args...) with an argv array (NULL-
 * terminated, without argv[0]).  The argument strings are copies freed right
 * after the call, so settings that kept a pointer into argv would show up
 * under ASan.
 */
static inline int su_loadv(struct ms_settings **s, const char *const *args)
{
	char *argv[64];
	int argc = 0, rc;

	argv[argc++] = strdup("mspublish");
	for (size_t i = 0; args[i] && argc < 63; i++)
		argv[argc++] = strdup(args[i]);
	argv[argc] = NULL;
	ms_error_clear();
	rc = ms_settings_load(s, argc, argv);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return rc;
}

/* The same with the arguments inline: su_load(&s, "--jobs", "2", NULL). */
static inline int su_load(struct ms_settings **s, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;

	va_start(ap, s);
	while (n < 63 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return su_loadv(s, args);
}

/* tests/unit/fixtures/NAME (from MSPUBLISH_TOP_SRCDIR), in a rotating buffer. */
static inline const char *su_fixture(const char *name)
{
	static char buf[4][600];
	static unsigned next;
	const char *top = getenv("MSPUBLISH_TOP_SRCDIR");
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/tests/unit/fixtures/%s", top && *top ? top : "../..", name);
	return b;
}

/* A small file whole (at most 64 KiB: fixtures), malloc'd; exits on failure. */
static inline unsigned char *su_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(65536);

	if (!f || !buf) {
		perror(path);
		exit(99);
	}
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return buf;
}

#endif
