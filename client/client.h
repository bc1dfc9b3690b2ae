/*
 * The cluster as esfs sees it: HTTP to its nodes, a short cache of its
 * answers, and the engine that answers. Knows nothing of FUSE.
 */
#ifndef ESFS_CLIENT_H
#define ESFS_CLIENT_H

#include "client/cache.h"
#include "client/engine.h"
#include "client/errmap.h"
#include "client/http.h"

struct client;

struct client *client_new(const struct http_config *hc, double cache_ttl);
void client_free(struct client *cl);

/* A cached GET of target: a reference to release with cached_release, or a negative errno. */
int client_get(struct client *cl, const char *target, struct cached **out, struct esfs_error *err);

/* A request that changes something: never cached; the caller invalidates what it changed. */
int client_send(struct client *cl, const char *method, const char *target, const char *body,
		size_t len, struct http_response *resp, struct esfs_error *err);
void client_invalidate(struct client *cl, const char *prefix);

/* The engine, once api_engine has detected it: 0, or -ENODATA before. */
int client_engine_known(struct client *cl, struct engine *out);
void client_engine_remember(struct client *cl, const struct engine *e);

#endif
