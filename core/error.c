/* SPDX-License-Identifier: MIT */
/* The run's error message: set once by the innermost code that knows why. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "redact.h"

/*
 * One message per run, shared by the core and the plugin threads.  A mutex
 * rather than thread-local storage: a plugin's worker thread may set the
 * error that main() prints.
 */
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static char err_msg[2048];
static int err_code;

int ms_error_setv(int code, const char *fmt, va_list ap)
{
	char raw[sizeof(err_msg)];
	char *clean;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	clean = ms_redact(raw);
	pthread_mutex_lock(&err_lock);
	snprintf(err_msg, sizeof(err_msg), "%s", clean ? clean : "(out of memory)");
	err_code = code;
	pthread_mutex_unlock(&err_lock);
	free(clean);
	return code;
}

int ms_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ms_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

const char *ms_error_last(void)
{
	return err_msg;
}

int ms_error_last_code(void)
{
	return err_code;
}

void ms_error_clear(void)
{
	pthread_mutex_lock(&err_lock);
	err_msg[0] = '\0';
	err_code = 0;
	pthread_mutex_unlock(&err_lock);
}

const char *ms_error_class(int code)
{
	switch (code) {
	case MS_OK: return "ok";
	case MS_ENOMEM: return "nomem";
	case MS_EINVAL: return "invalid";
	case MS_ENOTFOUND: return "notfound";
	case MS_EAUTH: return "auth";
	case MS_ENET: return "network";
	case MS_EPROTO: return "protocol";
	case MS_EIO: return "io";
	case MS_EABI: return "plugin";
	case MS_ECANCELED: return "canceled";
	case MS_ECONFLICT: return "conflict";
	case MS_ECHANGED: return "changed";
	default: return "error";
	}
}

const char *ms_strerror(int code)
{
	switch (code) {
	case MS_OK: return "success";
	case MS_ENOMEM: return "out of memory";
	case MS_EINVAL: return "invalid input";
	case MS_ENOTFOUND: return "not found";
	case MS_EAUTH: return "authentication failed";
	case MS_ENET: return "network error";
	case MS_EPROTO: return "unexpected answer from the hub";
	case MS_EIO: return "local I/O error";
	case MS_EABI: return "plugin error";
	case MS_ECANCELED: return "canceled";
	case MS_ECONFLICT: return "remote changed";
	case MS_ECHANGED: return "a local file changed during the run";
	default: return "error";
	}
}
