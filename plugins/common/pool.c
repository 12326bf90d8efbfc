/* SPDX-License-Identifier: MIT */
/* The blob transfer pool (pool.h). */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

int mspool_init(struct mspool *p, const struct ms_host *h,
		unsigned max_threads, size_t cap,
		int (*run)(void *job, void *ctx), void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->host = h;
	p->run = run;
	p->ctx = ctx;
	p->cap = cap;
	p->max_threads = max_threads < 1 ? 1 :
		max_threads > MSPOOL_MAX_THREADS ? MSPOOL_MAX_THREADS :
						     max_threads;
	p->jobs = calloc(cap + 1, sizeof(*p->jobs));
	if (p->jobs == NULL)
		return h->error(h, MS_ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return MS_OK;
}

static void *mspool_worker(void *arg)
{
	struct mspool *p = arg;
	const struct ms_host *h = p->host;
	void *job;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->next == atomic_load(&p->n_queued) && !p->closed &&
		       !atomic_load(&p->stop))
			pthread_cond_wait(&p->cond, &p->lock);
		job = NULL;
		if (!atomic_load(&p->stop) &&
		    p->next < atomic_load(&p->n_queued))
			job = p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (job == NULL || h->cancelled(h))
			break;
		rc = p->run(job, p->ctx);
		if (rc != MS_OK) {
			pthread_mutex_lock(&p->lock);
			if (p->rc == MS_OK)
				p->rc = rc;
			atomic_store(&p->stop, true);
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->lock);
			break;
		}
	}
	return NULL;
}

void mspool_add(struct mspool *p, void *job)
{
	size_t n;
	bool start;

	pthread_mutex_lock(&p->lock);
	n = atomic_load(&p->n_queued);
	if (n == p->cap) { /* a caller's bug; never overrun */
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->jobs[n] = job;
	atomic_store(&p->n_queued, n + 1);
	pthread_cond_signal(&p->cond);
	start = p->n_threads < p->max_threads && p->n_threads < n + 1;
	pthread_mutex_unlock(&p->lock);
	if (start && pthread_create(&p->th[p->n_threads], NULL, mspool_worker,
				    p) == 0)
		p->n_threads++;
}

bool mspool_stopped(const struct mspool *p)
{
	return atomic_load(&p->stop);
}

size_t mspool_queued(const struct mspool *p)
{
	return atomic_load(&p->n_queued);
}

int mspool_finish(struct mspool *p)
{
	const struct ms_host *h = p->host;
	unsigned i;

	pthread_mutex_lock(&p->lock);
	p->closed = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->n_threads == 0 && atomic_load(&p->n_queued) > 0)
		mspool_worker(p); /* no thread could start: do it here */
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->th[i], NULL);
	p->n_threads = 0;
	if (p->rc == MS_OK &&
	    (h->cancelled(h) || p->next < atomic_load(&p->n_queued)))
		p->rc = h->error(h, MS_ECANCELED, "cancelled");
	return p->rc;
}

void mspool_free(struct mspool *p)
{
	if (p->jobs == NULL)
		return;
	if (p->n_threads > 0) {
		atomic_store(&p->stop, true);
		mspool_finish(p);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->jobs);
	p->jobs = NULL;
}
