/* SPDX-License-Identifier: MIT */
/* The run's error message: set once by the code that knows the cause. */
#ifndef MS_ERROR_H
#define MS_ERROR_H

#include <stdarg.h>

#include "mspublish/plugin.h"

/* Store a message (scrubbed of secrets) and return code. Thread-safe. */
int ms_error_set(int code, const char *fmt, ...) MS_PRINTF(2, 3);
int ms_error_setv(int code, const char *fmt, va_list ap);
/* The last message, or "" when none; the code it was set with. */
const char *ms_error_last(void);
int ms_error_last_code(void);
void ms_error_clear(void);
/* A short name for a code: "auth", "network", ... (for --json). */
const char *ms_error_class(int code);
const char *ms_strerror(int code);

#endif
