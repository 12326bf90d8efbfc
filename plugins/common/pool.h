/* SPDX-License-Identifier: MIT */
/*
 * Parallel blob transfers for both network backends: a queue that may
 * grow while up to max_threads workers take jobs from it in order, and
 * the first failure stops the rest (a transfer under way ends through
 * its msnet abort callback polling mspool_stopped()).
 */
#ifndef MSCOMMON_POOL_H
#define MSCOMMON_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "mspublish/plugin.h"

#define MSPOOL_MAX_THREADS 64

struct mspool {
	const struct ms_host *host;
	int (*run)(void *job, void *ctx); /* MS_OK or an ms_err (message set) */
	void *ctx;
	void **jobs;                 /* capacity: cap */
	size_t cap;
	atomic_size_t n_queued;      /* written under lock; read anywhere */
	size_t next;                 /* next job to take */
	bool closed;                 /* no more jobs will come */
	atomic_bool stop;            /* a job failed */
	int rc;                      /* the first failure */
	unsigned max_threads, n_threads;
	pthread_t th[MSPOOL_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* Room for @p cap jobs; @p run is called once per job, on some thread. */
int mspool_init(struct mspool *p, const struct ms_host *h,
		unsigned max_threads, size_t cap,
		int (*run)(void *job, void *ctx), void *ctx);
/* Queue @p job (at most cap in all); starts a worker when allowed. */
void mspool_add(struct mspool *p, void *job);
/* True once a job failed: the others should stop. */
bool mspool_stopped(const struct mspool *p);
/* Jobs queued so far. */
size_t mspool_queued(const struct mspool *p);
/*
 * No more jobs: wait for the workers (running the queue here when no
 * thread could start).  MS_OK, the first failure, or MS_ECANCELED
 * ("cancelled") when the run was cancelled before every job ran.
 */
int mspool_finish(struct mspool *p);
/* Stop what still runs, wait for it, free; NULL-safe after a failed init. */
void mspool_free(struct mspool *p);

#endif
