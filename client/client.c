#include "client/client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct kept {
	struct kept *next;
	char *key;
	struct cached *value;
};

struct client {
	struct http *http;
	struct cache *cache;
	pthread_mutex_t engine_lock;
	struct engine engine;
	pthread_mutex_t kept_lock;
	struct kept *kept;	/* a few keys (one per repository): a list is enough */
	_Atomic(struct statedir *) starts_dir;
	atomic_ulong snapshots_gone;
};

/* GETs target; the body, or a negative errno with err set. */
static int fetch_body(struct client *cl, const char *target, struct buf *body, struct esfs_error *err)
{
	struct http_response resp = { 0 };
	int rc = http_request(cl->http, "GET", target, NULL, 0, &resp, err);

	if (rc == 0) {
		*body = resp.body;
		resp.body = (struct buf)BUF_INIT;
	}
	http_response_free(&resp);
	return rc;
}

static int fetch_get(void *ctx, const char *target, struct cached **out, struct esfs_error *err)
{
	struct client *cl = ctx;
	struct buf body = BUF_INIT;
	size_t len;
	int rc = fetch_body(cl, target, &body, err);

	if (rc)
		return rc;
	len = body.len;
	*out = cached_new(buf_steal(&body), len);
	if (!*out) {
		errmap_set(err, ENOMEM, "out_of_memory", "cannot keep the answer to %s", target);
		return -ENOMEM;
	}
	/*
	 * Every GET esfs sends asks for JSON: a 2xx answer that is not (garbage
	 * from a broken proxy) is an error now, not a file half rendered later,
	 * and is not cached.
	 */
	if (!(*out)->json) {
		cached_release(*out);
		*out = NULL;
		errmap_set(err, EPROTO, "unexpected_answer", "the answer to %s is not JSON", target);
		return -EPROTO;
	}
	return 0;
}

struct client *client_new(const struct http_config *hc, double cache_ttl)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	pthread_mutex_init(&cl->engine_lock, NULL);
	pthread_mutex_init(&cl->kept_lock, NULL);
	atomic_init(&cl->snapshots_gone, 0);
	cl->http = http_new(hc);
	cl->cache = cache_new(cache_ttl, fetch_get, cl);
	if (!cl->http || !cl->cache) {
		client_free(cl);
		return NULL;
	}
	return cl;
}

const char *client_node_url(struct client *cl)
{
	return http_node_url(cl->http);
}

void client_free(struct client *cl)
{
	if (!cl)
		return;
	cache_free(cl->cache);
	http_free(cl->http);
	while (cl->kept) {
		struct kept *k = cl->kept;

		cl->kept = k->next;
		cached_release(k->value);
		free(k->key);
		free(k);
	}
	statedir_free(atomic_load(&cl->starts_dir));
	pthread_mutex_destroy(&cl->kept_lock);
	pthread_mutex_destroy(&cl->engine_lock);
	free(cl);
}

int client_get(struct client *cl, const char *target, struct cached **out, struct esfs_error *err)
{
	return cache_get(cl->cache, target, out, err);
}

struct shaped_fetch {
	struct client *cl;
	client_shape_fn shape;
};

static int fetch_shaped(void *ctx, const char *target, struct cached **out, struct esfs_error *err)
{
	struct shaped_fetch *sf = ctx;
	struct buf body = BUF_INIT;
	int rc = fetch_body(sf->cl, target, &body, err);

	if (rc == 0)
		rc = sf->shape(sf->cl, target, body.data ? body.data : "", body.len, out, err);
	buf_free(&body);
	return rc;
}

int client_get_shaped(struct client *cl, const char *target, client_shape_fn shape,
		      struct cached **out, struct esfs_error *err)
{
	struct shaped_fetch sf = { cl, shape };

	return cache_get_with(cl->cache, target, fetch_shaped, &sf, out, err);
}

int client_read(struct client *cl, const char *target, struct buf *body, struct esfs_error *err)
{
	return fetch_body(cl, target, body, err);
}

static struct kept **kept_find(struct client *cl, const char *key)
{
	struct kept **pp = &cl->kept;

	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->next;
	return pp;
}

struct cached *client_keep(struct client *cl, const char *key, struct cached *value)
{
	struct cached *previous = NULL;
	struct kept **pp;

	pthread_mutex_lock(&cl->kept_lock);
	pp = kept_find(cl, key);
	if (*pp) {
		previous = (*pp)->value;
		(*pp)->value = cached_ref(value);
	} else {
		struct kept *k = calloc(1, sizeof(*k));

		if (k && (k->key = strdup(key))) {
			k->value = cached_ref(value);
			*pp = k;
		} else {
			free(k);
		}
	}
	pthread_mutex_unlock(&cl->kept_lock);
	return previous;
}

void client_unkeep(struct client *cl, const char *key)
{
	struct kept **pp, *k = NULL;

	pthread_mutex_lock(&cl->kept_lock);
	pp = kept_find(cl, key);
	if (*pp) {
		k = *pp;
		*pp = k->next;
	}
	pthread_mutex_unlock(&cl->kept_lock);
	if (k) {
		cached_release(k->value);
		free(k->key);
		free(k);
	}
}

int client_send(struct client *cl, const char *method, const char *target, const char *body,
		size_t len, struct http_response *resp, struct esfs_error *err)
{
	return http_request(cl->http, method, target, body, len, resp, err);
}

void client_invalidate(struct client *cl, const char *prefix)
{
	cache_invalidate(cl->cache, prefix);
}

int client_engine_known(struct client *cl, struct engine *out)
{
	pthread_mutex_lock(&cl->engine_lock);
	*out = cl->engine;
	pthread_mutex_unlock(&cl->engine_lock);
	return out->kind == ENGINE_UNKNOWN ? -ENODATA : 0;
}

void client_engine_remember(struct client *cl, const struct engine *e)
{
	pthread_mutex_lock(&cl->engine_lock);
	cl->engine = *e;
	pthread_mutex_unlock(&cl->engine_lock);
}

void client_keep_starts_in(struct client *cl, struct statedir *sd)
{
	struct statedir *none = NULL;

	if (!atomic_compare_exchange_strong(&cl->starts_dir, &none, sd))
		statedir_free(sd);
}

struct statedir *client_starts_dir(struct client *cl)
{
	return atomic_load(&cl->starts_dir);
}

void client_note_snapshots_gone(struct client *cl, unsigned long count)
{
	atomic_fetch_add(&cl->snapshots_gone, count);
}

unsigned long client_snapshots_gone(struct client *cl)
{
	return atomic_load(&cl->snapshots_gone);
}
