/* SPDX-License-Identifier: MIT */
/* Unit test of the git backend's .gitattributes handling: the escaping of
 * exact paths (as git-lfs and the hub write them) and the "is this path
 * already tracked by LFS" check that decides which lines to add. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "git.h"

static bool covers(const char *text, const char *path)
{
	return msgit_attrs_covers(text, strlen(text), path);
}

static void escape(const char *path, const char *want)
{
	char *got = msgit_attrs_escape(path);

	is_str(got, want, "escape \"%s\"", path);
	/* an escaped exact path must match the path itself */
	if (got != NULL) {
		char line[512];

		snprintf(line, sizeof(line), "%s filter=lfs -text\n", got);
		ok(covers(line, path), "\"%s\" covers \"%s\"", got, path);
	}
	free(got);
}

int main(void)
{
	const char *lfs_star =
		"# comment\n"
		"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
		"*.md text eol=lf\n";

	escape("model.safetensors", "/model.safetensors");
	escape("sub/model.bin", "sub/model.bin");
	escape("with space/a b.bin", "with[[:space:]]space/a[[:space:]]b.bin");
	escape("odd#[x]*?!.bin", "/odd\\#\\[x\\]\\*\\?\\!.bin");
	escape("dir/ünïcødé 名前.bin", "dir/ünïcødé[[:space:]]名前.bin");

	ok(covers(lfs_star, "model.safetensors"), "*.x covers a root file");
	ok(covers(lfs_star, "a/b/c.safetensors"), "*.x covers a deep file");
	ok(!covers(lfs_star, "README.md"), "a non-filter line covers nothing");
	ok(!covers(lfs_star, "model.bin"), "another suffix is not covered");
	ok(!covers("", "x.bin"), "empty text covers nothing");
	ok(!covers("/x.bin filter=lfs\n", "sub/x.bin"),
	   "an anchored root name does not match deeper");
	ok(covers("x.bin filter=lfs\n", "sub/x.bin"),
	   "an unanchored name matches at any depth (gitattributes)");
	ok(covers("sub/*.bin filter=lfs\n", "sub/x.bin"),
	   "a pattern with a slash matches from the root");
	ok(!covers("sub/*.bin filter=lfs\n", "sub/deeper/x.bin"),
	   "'*' does not cross '/' in a pattern with a slash");
	ok(covers("sub/** filter=lfs\n", "sub/deeper/x.bin"),
	   "'**' crosses '/'");
	ok(!covers("*.bin filter=lfs\nsecret.bin -filter\n", "secret.bin"),
	   "a later -filter line unsets");
	ok(!covers("*.bin filter=lfs\n*.bin filter=other\n", "a.bin"),
	   "a later filter=other line overrides");
	ok(covers("*.bin -filter\n*.bin filter=lfs\n", "a.bin"),
	   "the last matching line wins");
	ok(!covers("weights/ filter=lfs\n", "weights"),
	   "directory patterns do not apply to files");
	ok(covers("*.bin\tfilter=lfs\r\n", "a.bin"), "tabs and CRLF");
	ok(!covers("#*.bin filter=lfs\n", "a.bin"), "comments are skipped");
	ok(covers("*.bin filter=lfs", "a.bin"), "no final newline");
	return tap_done();
}
