/* SPDX-License-Identifier: MIT */
/*
 * Deliberately broken backends for the loader tests.  One source, built
 * several times with a different FIXTURE_* macro each time.
 */
#include <stddef.h>

#include "mspublish/plugin.h"

static int fx_create(void **self_out, const struct ms_host *host)
{
#ifdef FIXTURE_FAIL_CREATE
	*self_out = NULL;
	return host->error(host, MS_EINVAL, "fixture refuses to start: no settings for it");
#else
	static int instance;

	(void)host;
	*self_out = &instance;
	return MS_OK;
#endif
}

static void fx_destroy(void *self)
{
	(void)self;
}

#ifndef FIXTURE_NULL_LOGIN
static int fx_login(void *self, const struct ms_login *req, struct ms_identity *who_out)
{
	(void)self;
	(void)req;
	(void)who_out;
	return MS_OK;
}
#endif

static int fx_upload(void *self, const struct ms_upload *req, struct ms_upload_result *out)
{
	(void)self;
	(void)req;
	(void)out;
	return MS_OK;
}

static const struct ms_backend fx_backend = {
#ifdef FIXTURE_BAD_ABI
	.abi_version = MS_PLUGIN_ABI_VERSION + 1,
#else
	.abi_version = MS_PLUGIN_ABI_VERSION,
#endif
	.struct_size = sizeof(struct ms_backend),
	.name = FIXTURE_NAME,
	.description = "loader test fixture",
	.caps = 0,
	.create = fx_create,
	.destroy = fx_destroy,
#ifndef FIXTURE_NULL_LOGIN
	.login = fx_login,
#endif
	.upload_folder = fx_upload,
};

#ifndef FIXTURE_NO_ENTRY
MS_PLUGIN_EXPORT int ms_plugin_entry(const struct ms_backend **out, uint32_t host_abi)
{
	(void)host_abi;
	*out = &fx_backend;
	return 0;
}
#else
/* exported, but under the wrong name */
MS_PLUGIN_EXPORT int not_the_entry(void);
MS_PLUGIN_EXPORT int not_the_entry(void)
{
	return (int)fx_backend.abi_version;
}
#endif
