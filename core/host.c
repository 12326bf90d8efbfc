/* SPDX-License-Identifier: MIT */
/*
 * The struct ms_host handed to backends: logging and errors through the
 * redactor, settings lookups, progress rendering, cancellation and the
 * shared hasher.  Everything here may be called from plugin threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hash.h"
#include "host.h"
#include "log.h"
#include "paths.h"
#include "redact.h"

struct host_state {
	struct ms_host pub;             /* first: a host pointer is a state pointer */
	const struct ms_settings *settings;
	char backend[40];
	pthread_mutex_t lock;
	cJSON *report;
	char *cache_dir;
	bool tty, json, quiet;
	/* progress throttling */
	double last_draw, phase_start;
	char phase[32];
	bool drawn;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	static const char msg[] = "\nInterrupted: stopping (press Ctrl-C again to quit at once)\n";

	if (interrupted && sig == SIGINT)
		_exit(130);
	interrupted = 1;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do in a signal handler */
	}
}

void ms_host_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a dropped connection must be an error code, not a dead process */
	signal(SIGPIPE, SIG_IGN);
}

bool ms_host_interrupted(void)
{
	return interrupted != 0;
}

static struct host_state *state(const struct ms_host *h)
{
	return (struct host_state *)h;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void h_log(const struct ms_host *h, enum ms_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	ms_host_progress_done(h);
	va_start(ap, fmt);
	ms_logv(lvl, fmt, ap);
	va_end(ap);
}

static int h_error(const struct ms_host *h, int code, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	ms_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

static const char *h_config_get(const struct ms_host *h, const char *key)
{
	struct host_state *st = state(h);

	return ms_settings_backend_get(st->settings, st->backend, key);
}

static void human(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void h_progress(const struct ms_host *h, const struct ms_progress *p)
{
	struct host_state *st = state(h);
	double t = now(), rate, eta = -1;
	char done[32], total[32], speed[32], line[512], *clean;
	bool finished = p->bytes_total && p->bytes_done >= p->bytes_total &&
			p->files_done >= p->files_total;

	if (st->quiet || st->json)
		return;
	pthread_mutex_lock(&st->lock);
	if (strncmp(st->phase, p->phase ? p->phase : "", sizeof(st->phase) - 1)) {
		snprintf(st->phase, sizeof(st->phase), "%s", p->phase ? p->phase : "");
		st->phase_start = t;
		/* a log's first line comes after 10 s: short phases print none */
		st->last_draw = st->tty ? 0 : t;
	}
	/* a terminal gets 5 redraws a second; a log gets a line every 10 s */
	if (t - st->last_draw < (st->tty ? 0.2 : 10.0) && !(finished && st->tty)) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	st->last_draw = t;
	rate = t > st->phase_start ? (double)p->bytes_done / (t - st->phase_start) : 0;
	if (rate > 0 && p->bytes_total > p->bytes_done)
		eta = (double)(p->bytes_total - p->bytes_done) / rate;
	human(done, sizeof(done), (double)p->bytes_done);
	human(total, sizeof(total), (double)p->bytes_total);
	human(speed, sizeof(speed), rate);
	if (eta >= 0)
		snprintf(line, sizeof(line), "%s: %s / %s, %s/s, ETA %d:%02d, files %u/%u",
			 st->phase, done, total, speed, (int)eta / 60, (int)eta % 60,
			 p->files_done, p->files_total);
	else
		snprintf(line, sizeof(line), "%s: %s / %s, %s/s, files %u/%u", st->phase, done,
			 total, speed, p->files_done, p->files_total);
	clean = ms_redact(line);
	if (st->tty) {
		fprintf(stderr, "\r\033[K%s", clean ? clean : "");
		st->drawn = true;
	} else {
		fprintf(stderr, "%s\n", clean ? clean : "");
	}
	fflush(stderr);
	free(clean);
	pthread_mutex_unlock(&st->lock);
}

void ms_host_progress_done(const struct ms_host *h)
{
	struct host_state *st = h ? state(h) : NULL;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	if (st->drawn) {
		fputs("\r\033[K", stderr);
		st->drawn = false;
	}
	pthread_mutex_unlock(&st->lock);
}

static void h_add_secret(const struct ms_host *h, const char *secret)
{
	(void)h;
	ms_redact_add(secret);
}

static bool h_cancelled(const struct ms_host *h)
{
	(void)h;
	return interrupted != 0;
}

static void hash_progress(const struct ms_progress *p, void *payload)
{
	h_progress(payload, p);
}

static bool hash_cancelled(void *payload)
{
	(void)payload;
	return interrupted != 0;
}

static int h_hash_files(const struct ms_host *h, struct ms_file *files, size_t n,
			unsigned jobs)
{
	char *cache = NULL;
	const char *dir = h->cache_dir(h);
	struct ms_hash_opts o = {
		.jobs = jobs,
		.progress = hash_progress,
		.cancelled = hash_cancelled,
		.payload = (void *)h,
	};
	struct ms_hash_stats stats = { 0 };
	int rc;

	if (dir && asprintf(&cache, "%s/hashes.v1", dir) < 0)
		cache = NULL;
	o.cache_path = cache;
	rc = ms_hash_files(files, n, &o, &stats);
	ms_host_progress_done(h);
	ms_log(MS_LOG_VERBOSE, "hashed %llu file(s) (%llu bytes), %llu from the cache",
	       (unsigned long long)stats.files_hashed, (unsigned long long)stats.bytes_hashed,
	       (unsigned long long)stats.files_cached);
	free(cache);
	return rc;
}

static int h_check_unchanged(const struct ms_host *h, const struct ms_file *f)
{
	(void)h;
	return ms_hash_check_unchanged(f);
}

static void h_print(const struct ms_host *h, const char *fmt, ...)
{
	struct host_state *st = state(h);
	char *buf = NULL;
	va_list ap;

	if (st->json || st->quiet)
		return;
	ms_host_progress_done(h);
	va_start(ap, fmt);
	if (vasprintf(&buf, fmt, ap) >= 0)
		ms_out(stdout, "%s", buf);
	va_end(ap);
	free(buf);
}

static void h_report_json(const struct ms_host *h, const char *key, const char *text)
{
	struct host_state *st = state(h);
	cJSON *v = cJSON_Parse(text);

	if (!v) {
		ms_warn("backend \"%s\" attached invalid JSON under \"%s\"; dropped", st->backend,
			key);
		return;
	}
	pthread_mutex_lock(&st->lock);
	cJSON_DeleteItemFromObjectCaseSensitive(st->report, key);
	cJSON_AddItemToObject(st->report, key, v);
	pthread_mutex_unlock(&st->lock);
}

char *ms_host_cache_dir_path(void)
{
	return ms_paths_cache("");
}

static const char *h_cache_dir(const struct ms_host *h)
{
	struct host_state *st = state(h);
	const char *out;

	pthread_mutex_lock(&st->lock);
	if (!st->cache_dir) {
		st->cache_dir = ms_host_cache_dir_path();
		if (st->cache_dir && ms_paths_mkdirs(st->cache_dir)) {
			ms_warn("cannot create the cache directory \"%s\": %s", st->cache_dir,
				strerror(errno));
			free(st->cache_dir);
			st->cache_dir = NULL;
		}
	}
	out = st->cache_dir;
	pthread_mutex_unlock(&st->lock);
	return out;
}

int ms_host_new(struct ms_host **out, const struct ms_settings *s, const char *backend)
{
	struct host_state *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st)
		return ms_error_set(MS_ENOMEM, "out of memory");
	st->report = cJSON_CreateObject();
	if (!st->report) {
		free(st);
		return ms_error_set(MS_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&st->lock, NULL);
	st->settings = s;
	snprintf(st->backend, sizeof(st->backend), "%s", backend);
	st->tty = isatty(STDERR_FILENO);
	st->json = ms_settings_bool(s, MS_O_JSON);
	st->quiet = ms_settings_bool(s, MS_O_QUIET);
	st->pub = (struct ms_host){
		.abi_version = MS_PLUGIN_ABI_VERSION,
		.struct_size = sizeof(struct ms_host),
		.host_data = st,
		.log = h_log,
		.error = h_error,
		.config_get = h_config_get,
		.progress = h_progress,
		.add_secret = h_add_secret,
		.cancelled = h_cancelled,
		.hash_files = h_hash_files,
		.check_unchanged = h_check_unchanged,
		.print = h_print,
		.report_json = h_report_json,
		.cache_dir = h_cache_dir,
	};
	*out = &st->pub;
	return MS_OK;
}

cJSON *ms_host_report(const struct ms_host *h)
{
	return state(h)->report;
}

void ms_host_free(struct ms_host *h)
{
	struct host_state *st;

	if (!h)
		return;
	st = state(h);
	cJSON_Delete(st->report);
	free(st->cache_dir);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
