/*
 * A short-lived cache of the cluster's answers, keyed by request target.
 * Concurrent readers of one key wait for a single request instead of sending
 * their own, which is what keeps "ls -l" on a big repository at one request.
 * Our own writes invalidate what they change.
 */
#ifndef ESFS_CACHE_H
#define ESFS_CACHE_H

#include <stdatomic.h>
#include <stddef.h>

#include "client/errmap.h"

struct cJSON;

/* One answer; immutable once in the cache, shared by reference. */
struct cached {
	atomic_int refs;
	char *body;
	size_t len;
	size_t weight;		/* the memory it holds, body and parsed tree: what the budget counts */
	struct cJSON *json;	/* the body parsed, NULL when it is not JSON */
	/* Or, for answers too big to keep as a tree, a compact form made from the body. */
	void *view;
	void (*view_free)(void *view);
};

/* Produces a fresh answer for key; returns 0 or a negative errno with err set. */
typedef int (*cache_fetch_fn)(void *ctx, const char *key, struct cached **out,
			      struct esfs_error *err);

struct cache;

struct cache *cache_new(double ttl_seconds, cache_fetch_fn fetch, void *ctx);
void cache_free(struct cache *c);

/* Takes ownership of body (malloc'd); parses it as JSON. */
struct cached *cached_new(char *body, size_t len);
/* An answer kept as view alone (body and tree dropped), weighing weight bytes. */
struct cached *cached_new_view(void *view, void (*view_free)(void *view), size_t weight);
/* Another reference to v, for another holder to release. */
struct cached *cached_ref(struct cached *v);
void cached_release(struct cached *v);

/* A reference the caller releases, or a negative errno with err set. Failures are not cached. */
int cache_get(struct cache *c, const char *key, struct cached **out, struct esfs_error *err);
/* The same with another fetch for this key (one whose answers take another shape). */
int cache_get_with(struct cache *c, const char *key, cache_fetch_fn fetch, void *ctx,
		   struct cached **out, struct esfs_error *err);

/*
 * How much the cache may hold, answers and their parsed trees together
 * (counted node by node). Past it the least recently fetched answers go.
 * Expired answers go within a ttl whatever the budget.
 */
#define CACHE_DEFAULT_BUDGET ((size_t)64 << 20)
void cache_set_budget(struct cache *c, size_t bytes);
size_t cache_bytes(struct cache *c);

/* Forgets every answer whose key starts with prefix ("" forgets all). */
void cache_invalidate(struct cache *c, const char *prefix);

#endif
