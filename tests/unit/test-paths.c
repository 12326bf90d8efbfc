/* SPDX-License-Identifier: MIT */
/* Unit tests of core/paths.c: the XDG places of mspublish's own files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "settings-util.h"
#include "tap.h"

static void expect_path(char *got, const char *want, const char *name)
{
	is_str(got, want, "%s", name);
	free(got);
}

static void test_places(void)
{
	char want[600];

	su_reset_env();
	setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
	setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
	expect_path(ms_paths_config("login"), "/xdg/config/mspublish/login", "config: XDG_CONFIG_HOME");
	expect_path(ms_paths_cache("hashes"), "/xdg/cache/mspublish/hashes", "cache: XDG_CACHE_HOME");
	expect_path(ms_paths_config(""), "/xdg/config/mspublish", "config folder itself");
	setenv("XDG_CONFIG_HOME", "", 1);
	unsetenv("XDG_CACHE_HOME");
	snprintf(want, sizeof(want), "%s/.config/mspublish/login", su_path("home"));
	expect_path(ms_paths_config("login"), want, "config: an empty XDG_CONFIG_HOME -> ~/.config");
	snprintf(want, sizeof(want), "%s/.cache/mspublish/x", su_path("home"));
	expect_path(ms_paths_cache("x"), want, "cache: no XDG_CACHE_HOME -> ~/.cache");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");
	ok(ms_paths_config("login") == NULL, "config: neither variable -> NULL");
	ok(ms_paths_cache("x") == NULL, "cache: neither variable -> NULL");
	su_reset_env();
	/* the stored login path of settings is the same place */
	setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
	expect_path(ms_settings_login_path(), "/xdg/config/mspublish/login",
		    "ms_settings_login_path agrees");
	su_reset_env();
}

static void test_mkdirs(void)
{
	const char *deep = su_path("a/b/c/d");
	struct stat st;

	ok(ms_paths_mkdirs(deep) == 0, "mkdir -p a/b/c/d");
	ok(!stat(deep, &st) && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	   "created with mode 0700");
	ok(!stat(su_path("a/b"), &st) && (st.st_mode & 0777) == 0700, "parents too");
	ok(ms_paths_mkdirs(deep) == 0, "again: already there is fine");
	ok(ms_paths_mkdirs(su_path("a/b/c/d/")) == 0, "a trailing slash is fine");
	ok(ms_paths_mkdirs_parent(su_path("p/q/file.txt")) == 0, "mkdir -p the parent of a file");
	ok(!stat(su_path("p/q"), &st) && S_ISDIR(st.st_mode), "the parent exists");
	ok(stat(su_path("p/q/file.txt"), &st) && errno == ENOENT, "the file itself is not made");
	ok(ms_paths_mkdirs_parent("file-without-folder") == 0, "a bare name needs no folder");
	su_write(su_path("plain"), 0600, "x");
	ok(ms_paths_mkdirs(su_path("plain/sub")) == -1, "a file in the way: -1");
	/* B21 (lead's list): a file where the folder should be still gives 0 */
}

int main(void)
{
	su_setup();
	test_places();
	test_mkdirs();
	su_teardown();
	return tap_done();
}
