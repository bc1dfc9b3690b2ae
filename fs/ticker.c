/* A stoppable periodic thread (see fs/ticker.h). */
#include "fs/ticker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
	int period;
	int (*tick)(void *ctx);
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

/* Whether stop was asked for within the period. */
static int wait_for_stop(struct ticker *t)
{
	struct timespec until;
	int stopping;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += t->period;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
		;
	stopping = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return stopping;
}

static void *run(void *arg)
{
	struct ticker *t = arg;

	while (!t->tick(t->ctx) && !wait_for_stop(t))
		;
	return NULL;
}

static void ticker_free(struct ticker *t)
{
	pthread_mutex_destroy(&t->lock);
	pthread_cond_destroy(&t->wake);
	free(t);
}

struct ticker *ticker_start(int period, int (*tick)(void *ctx), void *ctx)
{
	struct ticker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->period = period;
	t->tick = tick;
	t->ctx = ctx;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	if (pthread_create(&t->thread, NULL, run, t)) {
		ticker_free(t);
		return NULL;
	}
	return t;
}

void ticker_stop(struct ticker *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	ticker_free(t);
}
