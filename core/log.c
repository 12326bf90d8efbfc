/* SPDX-License-Identifier: MIT */
/* Leveled output to stderr, scrubbed of secrets and counted for --strict. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "redact.h"

static bool log_quiet, log_verbose;
static atomic_uint n_warnings;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void ms_log_setup(bool quiet, bool verbose)
{
	log_quiet = quiet;
	log_verbose = verbose;
}

bool ms_log_verbose(void)
{
	return log_verbose;
}

bool ms_log_quiet(void)
{
	return log_quiet;
}

unsigned ms_log_warnings(void)
{
	return atomic_load(&n_warnings);
}

static void emit(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char buf[8192];
	char *clean;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	clean = ms_redact(buf);
	pthread_mutex_lock(&log_lock);
	fprintf(f, "%s%s\n", prefix, clean ? clean : "(out of memory)");
	fflush(f);
	pthread_mutex_unlock(&log_lock);
	free(clean);
}

void ms_logv(enum ms_log_level lvl, const char *fmt, va_list ap)
{
	switch (lvl) {
	case MS_LOG_ERROR:
		emit(stderr, "ERROR: ", fmt, ap);
		break;
	case MS_LOG_WARN:
		atomic_fetch_add(&n_warnings, 1);
		emit(stderr, "WARNING: ", fmt, ap);
		break;
	case MS_LOG_INFO:
		if (!log_quiet)
			emit(stderr, "", fmt, ap);
		break;
	case MS_LOG_VERBOSE:
		if (log_verbose)
			emit(stderr, "* ", fmt, ap);
		break;
	}
}

void ms_log(enum ms_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_logv(lvl, fmt, ap);
	va_end(ap);
}

void ms_out(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* no newline added: callers print exactly what they format */
	{
		char *buf = NULL, *clean;

		if (vasprintf(&buf, fmt, ap) >= 0) {
			clean = ms_redact(buf);
			pthread_mutex_lock(&log_lock);
			fputs(clean ? clean : "", f);
			fflush(f);
			pthread_mutex_unlock(&log_lock);
			free(clean);
		}
		free(buf);
	}
	va_end(ap);
}
