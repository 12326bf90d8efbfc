/* SPDX-License-Identifier: MIT */
/* The struct ms_host the core hands to a backend. */
#ifndef MS_HOST_H
#define MS_HOST_H

#include <cjson/cJSON.h>

#include "mspublish/plugin.h"
#include "settings.h"

/* Make the host for @p backend; settings are borrowed for its lifetime. */
int ms_host_new(struct ms_host **out, const struct ms_settings *s,
		const char *backend);
void ms_host_free(struct ms_host *h);
/* The values backends attached with report_json (owned by the host). */
cJSON *ms_host_report(const struct ms_host *h);
/* Finish a progress line on a terminal before other output. */
void ms_host_progress_done(const struct ms_host *h);
/* SIGINT/SIGTERM set the cancel flag; a second SIGINT exits at once. */
void ms_host_catch_signals(void);
bool ms_host_interrupted(void);
/* $XDG_CACHE_HOME/mspublish (or ~/.cache/mspublish), created 0700. */
char *ms_host_cache_dir_path(void);

#endif
