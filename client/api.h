/*
 * The snapshot API, read side: one function per request esfs makes, each
 * answered from the cache when it can be. Names are percent-encoded here and
 * nowhere else.
 */
#ifndef ESFS_API_H
#define ESFS_API_H

#include "client/client.h"
#include "client/snaplist.h"

struct cJSON;

/*
 * GET /: name, cluster and version. Where the engine has no such endpoint
 * (Elasticsearch built without its rest-root module, as its integration-test
 * distribution is), the same fields in the same shape from GET _nodes/_local.
 */
int api_cluster_info(struct client *cl, struct cached **out, struct esfs_error *err);
/* The engine and version, detected on first use from api_cluster_info. */
int api_engine(struct client *cl, struct engine *out, struct esfs_error *err);
/*
 * The cluster's UUID into out (size bytes, written only on success): GET /'s
 * cluster_uuid, or the cluster state's where GET / is refused. -ENODATA
 * while the cluster has none yet (no master elected: "_na_").
 */
int api_cluster_uuid(struct client *cl, char *out, size_t size, struct esfs_error *err);
/* GET /_cluster/health */
int api_cluster_health(struct client *cl, struct cached **out, struct esfs_error *err);
/* GET /_snapshot: every repository with its type and settings. */
int api_repositories(struct client *cl, struct cached **out, struct esfs_error *err);
/*
 * The repository's snapshots, one request for any number of them and no
 * per-snapshot read of the store; its view is a struct snaplist (api_snaplist).
 */
int api_snapshot_list(struct client *cl, const char *repo, struct cached **out, struct esfs_error *err);
struct snaplist *api_snaplist(const struct cached *listing);
/* Drops the cached listing, so that the next api_snapshot_list asks the engine (the start times stay). */
void api_snapshot_list_forget(struct client *cl, const char *repo);
/*
 * The start time of a row of that listing, in milliseconds, or a SNAP_START_*
 * when the engine does not say. Asked once per snapshot, in one request with
 * every other row still unknown, whatever order they are asked in.
 */
int api_snapshot_start(struct client *cl, const char *repo, struct snaplist *l, struct snap_row *row,
		       long long *start_ms, struct esfs_error *err);
/*
 * Settles each claimed row (snaplist_claim) of l that the answer to that
 * request names with the same UUID, to the start time it gives. Used by
 * api_snapshot_start; not static so that tests/fuzz can feed it answers.
 */
void api_snapshot_starts_settle(struct snaplist *l, const char *body, size_t len);
/* GET /_snapshot/<repo>/<snapshot> */
int api_snapshot_info(struct client *cl, const char *repo, const char *snap, struct cached **out,
		      struct esfs_error *err);
/* GET /_snapshot/<repo>/<snapshot>/_status */
int api_snapshot_status(struct client *cl, const char *repo, const char *snap, struct cached **out,
			struct esfs_error *err);

/*
 * The write side. Each returns 0 or a negative errno with err set, and drops
 * the cached answers it makes stale. resp, where taken, holds the engine's
 * answer either way; the caller frees it.
 */
/* PUT _snapshot/<repo>/<snap>: returns once the engine has accepted it. */
int api_snapshot_create(struct client *cl, const char *repo, const char *snap, const char *body,
			size_t len, struct esfs_error *err);
/* DELETE _snapshot/<repo>/<snap>: aborts it first when it is running, as the engines do. */
int api_snapshot_delete(struct client *cl, const char *repo, const char *snap, struct esfs_error *err);
int api_snapshot_restore(struct client *cl, const char *repo, const char *snap, const char *body,
			 size_t len, struct http_response *resp, struct esfs_error *err);
/* PUT _snapshot/<repo>: registers or updates. */
/* PUT _snapshot/<repo>/<snap>/_clone/<target>, body {"indices": ...}; the answer in resp. */
int api_snapshot_clone(struct client *cl, const char *repo, const char *snap, const char *target,
		       const char *body, size_t len, struct http_response *resp, struct esfs_error *err);
/* POST _snapshot/<repo>/_cleanup: the engine deletes blobs no snapshot refers to. */
int api_repository_cleanup(struct client *cl, const char *repo, struct http_response *resp,
			   struct esfs_error *err);
int api_repository_put(struct client *cl, const char *repo, const char *body, size_t len,
		       struct esfs_error *err);
/* DELETE _snapshot/<repo>: unregisters; the data stays in the store. */
int api_repository_delete(struct client *cl, const char *repo, struct esfs_error *err);
int api_repository_verify(struct client *cl, const char *repo, struct http_response *resp,
			  struct esfs_error *err);
/* Every shard recovery the cluster knows, one light row each (_cat/recovery). */
int api_recoveries(struct client *cl, struct cached **out, struct esfs_error *err);
/* GET <index>/_recovery; fresh = past the cache, for decisions that must not be stale. */
int api_index_recovery(struct client *cl, const char *index, int fresh, struct cached **out,
		       struct esfs_error *err);
/* Every live alias (_cat/aliases), fresh: for a restore's preflight. */
int api_live_aliases(struct client *cl, struct cached **out, struct esfs_error *err);
int api_index_delete(struct client *cl, const char *index, struct esfs_error *err);

/*
 * What a restore drill (fs/drill.c) asks and does, each past the cache: a
 * drill polls for what changes. names is a comma-joined list of index names
 * (or one pattern with '*'), each encoded here; body gets the engine's answer.
 */
/* GET _cat/indices/<names>: index, health, status, pri, docs.count, store.size in bytes; hidden and closed ones too. */
int api_cat_indices(struct client *cl, const char *names, struct buf *body, struct esfs_error *err);
/* GET _cat/shards/<names>: index, prirep, state and unassigned.reason of each shard. */
int api_cat_shards(struct client *cl, const char *names, struct buf *body, struct esfs_error *err);
/* GET <index>/_count: the documents a search sees. */
int api_index_count(struct client *cl, const char *index, long long *count, struct esfs_error *err);
/* DELETE <names>: exactly the indices named, never a wildcard; those gone already are no error. */
int api_indices_delete(struct client *cl, const char *names, struct esfs_error *err);

/* The target "/<head>/<repo>[/<snap>][<tail>]" with both names encoded; NULL on ENOMEM. */
char *api_target(const char *head, const char *repo, const char *snap, const char *tail);

/* Entries of the answers above. */
/* The one snapshot in the answer to api_snapshot_info or api_snapshot_status. */
const struct cJSON *api_single_snapshot(const struct cJSON *answer);

#endif
