#include "client/client.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct client {
	struct http *http;
	struct cache *cache;
	pthread_mutex_t engine_lock;
	struct engine engine;
};

static int fetch_get(void *ctx, const char *target, struct cached **out, struct esfs_error *err)
{
	struct client *cl = ctx;
	struct http_response resp = { 0 };
	size_t len;
	int rc;

	rc = http_request(cl->http, "GET", target, NULL, 0, &resp, err);
	if (rc) {
		http_response_free(&resp);
		return rc;
	}
	len = resp.body.len;
	*out = cached_new(buf_steal(&resp.body), len);
	if (!*out) {
		errmap_set(err, ENOMEM, "out_of_memory", "cannot keep the answer to %s", target);
		return -ENOMEM;
	}
	return 0;
}

struct client *client_new(const struct http_config *hc, double cache_ttl)
{
	struct client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	pthread_mutex_init(&cl->engine_lock, NULL);
	cl->http = http_new(hc);
	cl->cache = cache_new(cache_ttl, fetch_get, cl);
	if (!cl->http || !cl->cache) {
		client_free(cl);
		return NULL;
	}
	return cl;
}

void client_free(struct client *cl)
{
	if (!cl)
		return;
	cache_free(cl->cache);
	http_free(cl->http);
	pthread_mutex_destroy(&cl->engine_lock);
	free(cl);
}

int client_get(struct client *cl, const char *target, struct cached **out, struct esfs_error *err)
{
	return cache_get(cl->cache, target, out, err);
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
