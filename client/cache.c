#include "client/cache.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/stats.h"
#include "client/sys.h"

#define CACHE_BUCKETS 512
/* Past this many entries an insertion first drops the expired ones. */
#define CACHE_SWEEP_AT 2048
/* What malloc keeps beside each block it hands out. */
#define MALLOC_OVERHEAD 16

struct slot {
	struct slot *next;
	char *key;
	struct cached *value;	/* NULL while the first fetch is under way */
	double fetched_at;
	int fetching;
	int waiters;		/* threads waiting on this slot's fetch: it must stay */
	int invalidated;	/* a write came while a fetch was under way */
	unsigned long fetches;	/* fetches completed, so a waiter knows one ended */
	int last_rc;		/* how the last fetch ended, shared with its waiters */
	struct esfs_error last_err;
};

struct cache {
	double ttl;
	cache_fetch_fn fetch;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t fetched;
	struct slot *buckets[CACHE_BUCKETS];
	size_t count;
	size_t bytes;		/* the weight of the answers held */
	size_t budget;		/* past it, the least recently fetched answers go */
	double swept_at;	/* expired answers are dropped at least once per ttl */
};

static unsigned bucket_of(const char *key)
{
	unsigned h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % CACHE_BUCKETS;
}

/*
 * The memory a parsed tree takes: a node per value and a block per key and
 * per string. For an engine's _status answer that is eight times its text:
 * numbers of a few bytes each cost a node of 64.
 */
static size_t tree_weight(const cJSON *item)
{
	size_t w = 0;

	for (; item; item = item->next) {
		w += sizeof(cJSON) + MALLOC_OVERHEAD;
		if (item->string)
			w += strlen(item->string) + 1 + MALLOC_OVERHEAD;
		if (item->valuestring)
			w += strlen(item->valuestring) + 1 + MALLOC_OVERHEAD;
		w += tree_weight(item->child);
	}
	return w;
}

/* One reference, held by the caller; NULL on ENOMEM. */
static struct cached *cached_alloc(void)
{
	struct cached *v = calloc(1, sizeof(*v));

	if (v)
		atomic_init(&v->refs, 1);
	return v;
}

struct cached *cached_new(char *body, size_t len)
{
	struct cached *v = cached_alloc();

	if (!v) {
		free(body);
		return NULL;
	}
	v->body = body;
	v->len = len;
	v->json = cJSON_ParseWithLength(body, len);
	v->weight = sizeof(*v) + len + MALLOC_OVERHEAD + tree_weight(v->json);
	return v;
}

struct cached *cached_new_view(void *view, void (*view_free)(void *view), size_t weight)
{
	struct cached *v = cached_alloc();

	if (!v) {
		view_free(view);
		return NULL;
	}
	v->view = view;
	v->view_free = view_free;
	v->weight = sizeof(*v) + MALLOC_OVERHEAD + weight;
	return v;
}

struct cached *cached_ref(struct cached *v)
{
	atomic_fetch_add(&v->refs, 1);
	return v;
}

void cached_release(struct cached *v)
{
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	cJSON_Delete(v->json);
	if (v->view_free)
		v->view_free(v->view);
	free(v->body);
	free(v);
}

struct cache *cache_new(double ttl_seconds, cache_fetch_fn fetch, void *ctx)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ttl = ttl_seconds;
	c->budget = CACHE_DEFAULT_BUDGET;
	c->fetch = fetch;
	c->ctx = ctx;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->fetched, NULL);
	return c;
}

static size_t slot_weight(const struct slot *s)
{
	return s->value ? s->value->weight : 0;
}

static void slot_free(struct slot *s)
{
	cached_release(s->value);
	free(s->key);
	free(s);
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_BUCKETS; i++) {
		while (c->buckets[i]) {
			struct slot *s = c->buckets[i];

			c->buckets[i] = s->next;
			slot_free(s);
		}
	}
	pthread_cond_destroy(&c->fetched);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int slot_is_fresh(const struct cache *c, const struct slot *s, double now)
{
	return s->value && !s->invalidated && now - s->fetched_at < c->ttl;
}

static int slot_is_idle(const struct slot *s)
{
	return !s->fetching && !s->waiters;
}

static void slot_drop(struct cache *c, struct slot **pp)
{
	struct slot *s = *pp;

	*pp = s->next;
	c->bytes -= slot_weight(s);
	c->count--;
	slot_free(s);
}

/* Drops expired, idle slots but keep; called with the lock held. */
static void sweep_expired(struct cache *c, double now, const struct slot *keep)
{
	c->swept_at = now;
	for (int i = 0; i < CACHE_BUCKETS; i++) {
		struct slot **pp = &c->buckets[i];

		while (*pp) {
			if (*pp != keep && slot_is_idle(*pp) && !slot_is_fresh(c, *pp, now))
				slot_drop(c, pp);
			else
				pp = &(*pp)->next;
		}
	}
}

/* The link to the idle slot fetched longest ago, other than keep; NULL when there is none. */
static struct slot **oldest_idle(struct cache *c, const struct slot *keep)
{
	struct slot **oldest = NULL;

	for (int i = 0; i < CACHE_BUCKETS; i++)
		for (struct slot **pp = &c->buckets[i]; *pp; pp = &(*pp)->next)
			if (*pp != keep && slot_is_idle(*pp) &&
			    (!oldest || (*pp)->fetched_at < (*oldest)->fetched_at))
				oldest = pp;
	return oldest;
}

/*
 * Keeps memory bounded: expired answers go once per ttl (not only when the
 * table fills), and past the byte budget the least recently fetched ones go
 * too. An answer a reader still holds lives on until released.
 */
static void enforce_budget(struct cache *c, const struct slot *keep, double now)
{
	struct slot **victim;

	if (now - c->swept_at >= c->ttl || c->bytes > c->budget)
		sweep_expired(c, now, keep);
	while (c->bytes > c->budget && (victim = oldest_idle(c, keep)))
		slot_drop(c, victim);
}

void cache_set_budget(struct cache *c, size_t bytes)
{
	pthread_mutex_lock(&c->lock);
	c->budget = bytes;
	pthread_mutex_unlock(&c->lock);
}

size_t cache_bytes(struct cache *c)
{
	size_t bytes;

	pthread_mutex_lock(&c->lock);
	bytes = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return bytes;
}

static struct slot *slot_find_or_add(struct cache *c, const char *key, double now)
{
	unsigned b = bucket_of(key);
	struct slot *s;

	for (s = c->buckets[b]; s; s = s->next)
		if (!strcmp(s->key, key))
			return s;
	if (c->count >= CACHE_SWEEP_AT)
		sweep_expired(c, now, NULL);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strdup(key))) {
		free(s);
		return NULL;
	}
	s->next = c->buckets[b];
	c->buckets[b] = s;
	c->count++;
	return s;
}

/* Runs the fetch with the lock released, then publishes the answer to the waiters. */
static int fetch_into_slot(struct cache *c, struct slot *s, cache_fetch_fn fetch, void *ctx,
			   struct esfs_error *err)
{
	struct cached *fresh = NULL;
	int rc;

	s->fetching = 1;
	s->invalidated = 0;
	pthread_mutex_unlock(&c->lock);
	STATS_INC(cache_misses);
	rc = fetch(ctx, s->key, &fresh, err);
	pthread_mutex_lock(&c->lock);
	s->fetching = 0;
	s->fetches++;
	s->last_rc = rc;
	if (rc)
		s->last_err = *err;
	if (rc == 0) {
		c->bytes -= slot_weight(s);
		cached_release(s->value);
		s->value = fresh;
		s->fetched_at = monotonic_seconds();
		c->bytes += slot_weight(s);
		enforce_budget(c, s, s->fetched_at);
	}
	pthread_cond_broadcast(&c->fetched);
	return rc;
}

/* Waits for the fetch under way; returns nonzero if it failed. */
static int wait_for_fetch(struct cache *c, struct slot *s)
{
	unsigned long seen = s->fetches;

	s->waiters++;
	while (s->fetching)
		pthread_cond_wait(&c->fetched, &c->lock);
	s->waiters--;
	return s->fetches != seen && s->last_rc != 0;
}

int cache_get(struct cache *c, const char *key, struct cached **out, struct esfs_error *err)
{
	return cache_get_with(c, key, c->fetch, c->ctx, out, err);
}

int cache_get_with(struct cache *c, const char *key, cache_fetch_fn fetch, void *ctx,
		   struct cached **out, struct esfs_error *err)
{
	struct slot *s;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	s = slot_find_or_add(c, key, monotonic_seconds());
	if (!s) {
		pthread_mutex_unlock(&c->lock);
		errmap_set(err, ENOMEM, "out_of_memory", "cache");
		return -ENOMEM;
	}
	if (s->fetching && wait_for_fetch(c, s)) {
		/* The request we waited for failed: share its error rather than retry in turn. */
		rc = s->last_rc;
		*err = s->last_err;
	} else if (slot_is_fresh(c, s, monotonic_seconds()))
		STATS_INC(cache_hits);
	else
		rc = fetch_into_slot(c, s, fetch, ctx, err);
	if (rc == 0)
		*out = cached_ref(s->value);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void cache_invalidate(struct cache *c, const char *prefix)
{
	size_t n = strlen(prefix);

	STATS_INC(cache_invalidations);
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < CACHE_BUCKETS; i++)
		for (struct slot *s = c->buckets[i]; s; s = s->next)
			if (!strncmp(s->key, prefix, n))
				s->invalidated = 1;
	pthread_mutex_unlock(&c->lock);
}
