/* SPDX-License-Identifier: MIT */
/* inih glue that knows the line number of every key. */
#ifndef MS_INI_H
#define MS_INI_H

#include <stdbool.h>

/*
 * Called for each key.  @p continued: the value came from an indented
 * continuation line of the key before (inih calls again with the same key).
 * Return 0 to accept, or a negative ms_err after ms_error_set() to stop.
 */
typedef int (*ms_ini_cb)(const char *section, const char *key,
			 const char *value, int line, bool continued,
			 void *payload);

/*
 * Parse @p path.  Syntax errors become MS_EINVAL "<path>:<line>: ...".
 * Returns MS_OK, MS_EIO (cannot open), or the callback's error.
 */
int ms_ini_parse(const char *path, ms_ini_cb cb, void *payload);

#endif
