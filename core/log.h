/* SPDX-License-Identifier: MIT */
/* Leveled output to stderr, scrubbed of secrets, counted for --strict. */
#ifndef MS_LOG_H
#define MS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "mspublish/plugin.h"

/* quiet: only errors and warnings; verbose: also MS_LOG_VERBOSE. */
void ms_log_setup(bool quiet, bool verbose);
bool ms_log_verbose(void);
bool ms_log_quiet(void);
void ms_log(enum ms_log_level lvl, const char *fmt, ...) MS_PRINTF(2, 3);
void ms_logv(enum ms_log_level lvl, const char *fmt, va_list ap);
#define ms_warn(...) ms_log(MS_LOG_WARN, __VA_ARGS__)
#define ms_info(...) ms_log(MS_LOG_INFO, __VA_ARGS__)
#define ms_verbose(...) ms_log(MS_LOG_VERBOSE, __VA_ARGS__)
/* Warnings printed so far (for --strict). */
unsigned ms_log_warnings(void);
/* Print to a stream through the redactor (stdout output of the core). */
void ms_out(FILE *f, const char *fmt, ...) MS_PRINTF(2, 3);

#endif
