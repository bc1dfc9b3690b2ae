/*
 * The engines' REST API as esfs uses it: every request is a row of
 * endpoints[] below, and each api_* function one use of a row.
 */
#include "client/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/urlenc.h"

char *api_target(const char *head, const char *repo, const char *snap, const char *tail)
{
	struct buf t = BUF_INIT;
	int rc = buf_puts(&t, head);

	if (!rc && repo)
		rc = buf_puts(&t, "/") || urlenc_segment(&t, repo);
	if (!rc && snap)
		rc = buf_puts(&t, "/") || urlenc_segment(&t, snap);
	if (!rc && tail)
		rc = buf_puts(&t, tail);
	if (rc) {
		buf_free(&t);
		return NULL;
	}
	return buf_steal(&t);
}

/* What a change makes stale in the cache. */
enum stale {
	STALE_NOTHING,
	STALE_SNAPSHOT,		/* the repository's listing and the snapshot's detail */
	STALE_REPOSITORY,	/* the repository list and the repository's listing */
	STALE_EVERYTHING,	/* new indices, recoveries anywhere: nothing cached can be trusted */
};

/*
 * Every request esfs sends: its method and target (head, then /<repo> and
 * /<snapshot> where given, then tail), and what a change makes stale. A GET
 * is cached, may be sent again on another node when its connection broke,
 * and has the read timeout; anything else is a change, sent once, with
 * write_timeout (client/http.c tells them apart by the method).
 */
struct endpoint {
	const char *method;
	const char *head;
	const char *tail;
	enum stale stale;
};

enum endpoint_kind {
	CLUSTER_ROOT, LOCAL_NODE, CLUSTER_HEALTH, REPOSITORIES, SNAPSHOT_LIST, SNAPSHOT_INFO,
	SNAPSHOT_STATUS, RECOVERIES, INDEX_RECOVERY,
	SNAPSHOT_CREATE, SNAPSHOT_DELETE, SNAPSHOT_RESTORE, REPOSITORY_PUT, REPOSITORY_DELETE,
	REPOSITORY_VERIFY, INDEX_DELETE,
};

static const struct endpoint endpoints[] = {
	[CLUSTER_ROOT] = { "GET", "/", NULL, STALE_NOTHING },
	/* The Elasticsearch integ-test-zip has no GET / (rest-root module): its node says the same. */
	[LOCAL_NODE] = { "GET", "/_nodes/_local", "?filter_path=cluster_name,nodes.*.name,"
			 "nodes.*.version,nodes.*.build_flavor,nodes.*.build_type,nodes.*.build_hash",
			 STALE_NOTHING },
	[CLUSTER_HEALTH] = { "GET", "/_cluster/health", NULL, STALE_NOTHING },
	[REPOSITORIES] = { "GET", "/_snapshot", NULL, STALE_NOTHING },
	/*
	 * _cat/snapshots gives, for every snapshot, its state and start time in a
	 * few dozen bytes, where GET _snapshot would send each one's index list
	 * too; and verbose=false, the lighter form of the latter, drops the start
	 * time that "ls -lt" needs. Its columns are the same on every engine.
	 */
	[SNAPSHOT_LIST] = { "GET", "/_cat/snapshots", "?format=json&h=id,status,start_epoch,end_epoch",
			    STALE_NOTHING },
	[SNAPSHOT_INFO] = { "GET", "/_snapshot", NULL, STALE_NOTHING },
	[SNAPSHOT_STATUS] = { "GET", "/_snapshot", "/_status", STALE_NOTHING },
	[RECOVERIES] = { "GET", "/_cat/recovery", "?format=json&active_only=false&h=index,shard,type,"
			 "stage,files_recovered,files_total,bytes_recovered,bytes_total,repository,snapshot",
			 STALE_NOTHING },
	[INDEX_RECOVERY] = { "GET", "", "/_recovery", STALE_NOTHING },	/* the index as repo */

	[SNAPSHOT_CREATE] = { "PUT", "/_snapshot", NULL, STALE_SNAPSHOT },
	[SNAPSHOT_DELETE] = { "DELETE", "/_snapshot", NULL, STALE_SNAPSHOT },
	[SNAPSHOT_RESTORE] = { "POST", "/_snapshot", "/_restore", STALE_EVERYTHING },
	[REPOSITORY_PUT] = { "PUT", "/_snapshot", NULL, STALE_REPOSITORY },
	[REPOSITORY_DELETE] = { "DELETE", "/_snapshot", NULL, STALE_REPOSITORY },
	/* It writes test blobs into the store, but nothing esfs shows. */
	[REPOSITORY_VERIFY] = { "POST", "/_snapshot", "/_verify", STALE_NOTHING },
	/* Cancelling a restore (the index as repo: one path segment). */
	[INDEX_DELETE] = { "DELETE", "", NULL, STALE_EVERYTHING },
};

static char *endpoint_target(enum endpoint_kind kind, const char *repo, const char *snap)
{
	const struct endpoint *e = &endpoints[kind];

	/* "/" with no name after it stays "/". */
	if (!repo && !strcmp(e->head, "/"))
		return strdup("/");
	return api_target(e->head, repo, snap, e->tail);
}

/* A GET, through the cache. */
static int get(struct client *cl, enum endpoint_kind kind, const char *repo, const char *snap,
	       struct cached **out, struct esfs_error *err)
{
	char *target = endpoint_target(kind, repo, snap);
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = client_get(cl, target, out, err);
	free(target);
	return rc;
}

static void copy_member(cJSON *to, const char *name, const cJSON *from, const char *member)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(from, member));

	if (s)
		cJSON_AddStringToObject(to, name, s);
}

/* GET /'s shape from a node's own description; only Elasticsearch has build_flavor. */
static cJSON *info_from_node(const cJSON *nodes_answer)
{
	const cJSON *node = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(nodes_answer, "nodes"), 0);
	cJSON *info = cJSON_CreateObject();
	cJSON *version = cJSON_CreateObject();

	copy_member(info, "name", node, "name");
	copy_member(info, "cluster_name", nodes_answer, "cluster_name");
	if (!cJSON_GetObjectItemCaseSensitive(node, "build_flavor"))
		cJSON_AddStringToObject(version, "distribution", "opensearch");
	copy_member(version, "number", node, "version");
	copy_member(version, "build_flavor", node, "build_flavor");
	copy_member(version, "build_type", node, "build_type");
	copy_member(version, "build_hash", node, "build_hash");
	cJSON_AddItemToObject(info, "version", version);
	return info;
}

static int cluster_info_from_node(struct client *cl, struct cached **out, struct esfs_error *err)
{
	struct cached *nodes;
	cJSON *info;
	char *text;
	int rc = get(cl, LOCAL_NODE, NULL, NULL, &nodes, err);

	if (rc)
		return rc;
	info = info_from_node(nodes->json);
	cached_release(nodes);
	text = info ? cJSON_PrintUnformatted(info) : NULL;
	cJSON_Delete(info);
	*out = text ? cached_new(text, strlen(text)) : NULL;
	if (!*out) {
		errmap_set(err, ENOMEM, "out_of_memory", "cluster info");
		return -ENOMEM;
	}
	return 0;
}

static int root_endpoint_refused(const struct esfs_error *err)
{
	return err->status == 400 || err->status == 404 || err->status == 405;
}

static int cluster_info(struct client *cl, struct cached **out, int *from_node,
			struct esfs_error *err)
{
	struct engine known;
	int rc;

	*from_node = client_engine_known(cl, &known) == 0 && known.no_root_endpoint;
	if (*from_node)
		return cluster_info_from_node(cl, out, err);
	rc = get(cl, CLUSTER_ROOT, NULL, NULL, out, err);
	if (rc && root_endpoint_refused(err)) {
		*from_node = 1;
		rc = cluster_info_from_node(cl, out, err);
	}
	return rc;
}

int api_cluster_info(struct client *cl, struct cached **out, struct esfs_error *err)
{
	struct engine engine;
	int from_node;

	/* Detection first, so an engine without GET / is asked only once. */
	api_engine(cl, &engine, err);
	return cluster_info(cl, out, &from_node, err);
}

int api_engine(struct client *cl, struct engine *out, struct esfs_error *err)
{
	struct cached *info;
	int rc;

	int from_node;

	if (client_engine_known(cl, out) == 0)
		return 0;
	rc = cluster_info(cl, &info, &from_node, err);
	if (rc)
		return rc;
	rc = engine_detect(info->json, out);
	out->no_root_endpoint = from_node;
	cached_release(info);
	if (rc) {
		errmap_set(err, EPROTO, "unknown_engine", "the cluster did not name its engine version");
		return rc;
	}
	client_engine_remember(cl, out);
	return 0;
}

int api_cluster_health(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get(cl, CLUSTER_HEALTH, NULL, NULL, out, err);
}

int api_repositories(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get(cl, REPOSITORIES, NULL, NULL, out, err);
}

int api_snapshot_list(struct client *cl, const char *repo, struct cached **out, struct esfs_error *err)
{
	return get(cl, SNAPSHOT_LIST, repo, NULL, out, err);
}

int api_snapshot_info(struct client *cl, const char *repo, const char *snap, struct cached **out,
		      struct esfs_error *err)
{
	return get(cl, SNAPSHOT_INFO, repo, snap, out, err);
}

int api_snapshot_status(struct client *cl, const char *repo, const char *snap, struct cached **out,
			struct esfs_error *err)
{
	return get(cl, SNAPSHOT_STATUS, repo, snap, out, err);
}

const cJSON *api_list_find(const cJSON *list, const char *name)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, list) {
		const char *id = api_list_name(row);

		if (id && !strcmp(id, name))
			return row;
	}
	return NULL;
}

const char *api_list_name(const cJSON *row)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "id"));
}

const char *api_list_state(const cJSON *row)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "status"));
}

long long api_list_start_epoch(const cJSON *row)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "start_epoch"));

	return s ? strtoll(s, NULL, 10) : 0;
}

const cJSON *api_single_snapshot(const cJSON *answer)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "snapshots"), 0);
}

static void forget(struct client *cl, char *prefix)
{
	client_invalidate(cl, prefix ? prefix : "");
	free(prefix);
}

static void forget_stale(struct client *cl, enum stale stale, const char *repo, const char *snap)
{
	switch (stale) {
	case STALE_SNAPSHOT:
		forget(cl, api_target(endpoints[SNAPSHOT_LIST].head, repo, NULL, NULL));
		forget(cl, api_target(endpoints[SNAPSHOT_INFO].head, repo, snap, NULL));
		break;
	case STALE_REPOSITORY:
		client_invalidate(cl, endpoints[REPOSITORIES].head);
		forget(cl, api_target(endpoints[SNAPSHOT_LIST].head, repo, NULL, NULL));
		break;
	case STALE_EVERYTHING:
		client_invalidate(cl, "");
		break;
	case STALE_NOTHING:
		break;
	}
}

/* Sends one change and forgets what it made stale, whatever the answer: it may have been done. */
static int send_change(struct client *cl, enum endpoint_kind kind, const char *repo, const char *snap,
		       const char *body, size_t len, struct http_response *resp, struct esfs_error *err)
{
	const struct endpoint *c = &endpoints[kind];
	struct http_response scratch = { 0 };
	char *target = endpoint_target(kind, repo, snap);
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = client_send(cl, c->method, target, body, len, resp ? resp : &scratch, err);
	http_response_free(&scratch);
	free(target);
	forget_stale(cl, c->stale, repo, snap);
	return rc;
}

int api_snapshot_create(struct client *cl, const char *repo, const char *snap, const char *body,
			size_t len, struct esfs_error *err)
{
	return send_change(cl, SNAPSHOT_CREATE, repo, snap, body, len, NULL, err);
}

int api_snapshot_delete(struct client *cl, const char *repo, const char *snap, struct esfs_error *err)
{
	return send_change(cl, SNAPSHOT_DELETE, repo, snap, NULL, 0, NULL, err);
}

int api_snapshot_restore(struct client *cl, const char *repo, const char *snap, const char *body,
			 size_t len, struct http_response *resp, struct esfs_error *err)
{
	return send_change(cl, SNAPSHOT_RESTORE, repo, snap, body, len, resp, err);
}

int api_repository_put(struct client *cl, const char *repo, const char *body, size_t len,
		       struct esfs_error *err)
{
	return send_change(cl, REPOSITORY_PUT, repo, NULL, body, len, NULL, err);
}

int api_repository_delete(struct client *cl, const char *repo, struct esfs_error *err)
{
	return send_change(cl, REPOSITORY_DELETE, repo, NULL, NULL, 0, NULL, err);
}

int api_repository_verify(struct client *cl, const char *repo, struct http_response *resp,
			  struct esfs_error *err)
{
	return send_change(cl, REPOSITORY_VERIFY, repo, NULL, NULL, 0, resp, err);
}

int api_recoveries(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get(cl, RECOVERIES, NULL, NULL, out, err);
}

int api_index_recovery(struct client *cl, const char *index, int fresh, struct cached **out,
		       struct esfs_error *err)
{
	if (fresh) {
		char *target = endpoint_target(INDEX_RECOVERY, index, NULL);

		client_invalidate(cl, target ? target : "");
		free(target);
	}
	return get(cl, INDEX_RECOVERY, index, NULL, out, err);
}

int api_index_delete(struct client *cl, const char *index, struct esfs_error *err)
{
	return send_change(cl, INDEX_DELETE, index, NULL, NULL, 0, NULL, err);
}
