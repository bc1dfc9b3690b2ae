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
#include "client/statedir.h"

struct client;

struct client *client_new(const struct http_config *hc, double cache_ttl);
void client_free(struct client *cl);
/* The node in use: the one that answered last. */
const char *client_node_url(struct client *cl);

/* A cached GET of target: a reference to release with cached_release, or a negative errno. */
int client_get(struct client *cl, const char *target, struct cached **out, struct esfs_error *err);

/*
 * Makes an answer to keep from the body of a GET of target: for answers too
 * big to keep as a parse tree (cached_new_view). The body is the caller's.
 */
typedef int (*client_shape_fn)(struct client *cl, const char *target, const char *body,
			       size_t len, struct cached **out, struct esfs_error *err);
/* A cached GET of target whose answer shape makes; one shape per target. */
int client_get_shaped(struct client *cl, const char *target, client_shape_fn shape,
		      struct cached **out, struct esfs_error *err);
/* A GET past the cache, for answers asked once (facts that never change). */
int client_read(struct client *cl, const char *target, struct buf *body, struct esfs_error *err);

/*
 * Answers kept past the cache's ttl and budget, one per key, until replaced
 * or dropped: what a newer answer builds on. client_keep holds a reference
 * to value and hands back the one it held before (NULL if none), which the
 * caller releases.
 */
struct cached *client_keep(struct client *cl, const char *key, struct cached *value);
void client_unkeep(struct client *cl, const char *key);

/* A request that changes something: never cached; the caller invalidates what it changed. */
int client_send(struct client *cl, const char *method, const char *target, const char *body,
		size_t len, struct http_response *resp, struct esfs_error *err);
void client_invalidate(struct client *cl, const char *prefix);

/*
 * The cluster's state folder, where the snapshots' start times are kept
 * between mounts (client/starts.h): given once the cluster's UUID is known;
 * the client frees it. A second one is freed at once. NULL until given.
 */
void client_keep_starts_in(struct client *cl, struct statedir *sd);
struct statedir *client_starts_dir(struct client *cl);

/* The engine, once api_engine has detected it: 0, or -ENODATA before. */
int client_engine_known(struct client *cl, struct engine *out);
void client_engine_remember(struct client *cl, const struct engine *e);

/*
 * Snapshots esfs saw go: deleted through it, or missing from a newer
 * listing of their repository. A count that only grows, so that whoever
 * shows views made of snapshots (fs/forget.c) knows when to drop them.
 */
void client_note_snapshots_gone(struct client *cl, unsigned long count);
unsigned long client_snapshots_gone(struct client *cl);

#endif
