/* SPDX-License-Identifier: MIT */
/* Loader errors against deliberately broken fixture plugins, then dryrun. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "error.h"
#include "loader.h"

static char expect[4096];

static void check_fail(const char *dir, const char *name, int code, const char *want)
{
	struct ms_plugin *p = NULL;
	int rc = ms_loader_open(&p, name, dir);

	ok(rc == code && p == NULL, "%s: refused with code %d (got %d)", name, code, rc);
	if (want)
		is_str(ms_error_last(), want, "%s: message", name);
	ms_loader_close(p);
}

int main(int argc, char *argv[])
{
	const char *fx = argc > 1 ? argv[1] : ".";
	const char *real = argc > 2 ? argv[2] : NULL;
	struct ms_plugin *p = NULL;
	const char *bad[] = { "../dryrun", "a/b", "", "UPPER", "dry.run",
			      "abcdefghijklmnopqrstuvwxyz0123456789" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(ms_loader_open(&p, bad[i], fx) == MS_EINVAL && !p,
		   "name \"%s\" refused before any file access", bad[i]);

	snprintf(expect, sizeof(expect),
		 "%s/fx-noentry.so is not an mspublish backend (no ms_plugin_entry)", fx);
	check_fail(fx, "fx-noentry", MS_EABI, expect);

	snprintf(expect, sizeof(expect),
		 "backend \"fx-badabi\" in %s/fx-badabi.so was built for plugin ABI %u, "
		 "this mspublish speaks %u; rebuild it", fx, MS_PLUGIN_ABI_VERSION + 1,
		 MS_PLUGIN_ABI_VERSION);
	check_fail(fx, "fx-badabi", MS_EABI, expect);

	snprintf(expect, sizeof(expect),
		 "backend \"fx-nulllogin\" in %s/fx-nulllogin.so lacks the required member login",
		 fx);
	check_fail(fx, "fx-nulllogin", MS_EABI, expect);

	snprintf(expect, sizeof(expect),
		 "%s/fx-misnamed.so calls itself \"someone-else\", not \"fx-misnamed\"; rename the file",
		 fx);
	check_fail(fx, "fx-misnamed", MS_EABI, expect);

	snprintf(expect, sizeof(expect),
		 "cannot load backend \"fx-notelf\" from %s/fx-notelf.so: %s/fx-notelf.so: "
		 "invalid ELF header; check its libraries with: ldd %s/fx-notelf.so", fx, fx, fx);
	check_fail(fx, "fx-notelf", MS_EABI, expect);

	check_fail(fx, "nosuch", MS_ENOTFOUND, NULL);
	ok(strstr(ms_error_last(), "unknown backend \"nosuch\" (available: ") != NULL &&
	   strstr(ms_error_last(), "fx-failcreate") != NULL,
	   "unknown backend lists the available ones: %s", ms_error_last());

	/* a failing create is the core's business: the loader accepts it */
	ok(ms_loader_open(&p, "fx-failcreate", fx) == MS_OK && p, "fx-failcreate loads");
	ms_loader_close(p);
	p = NULL;

	if (real) {
		ok(ms_loader_open(&p, "dryrun", real) == MS_OK && p &&
		   !strcmp(p->backend->name, "dryrun"), "the real dryrun backend loads");
		ms_loader_close(p);
	}
	return tap_done();
}
