/*
 * The engines' REST API as esfs uses it: every request is a row of
 * endpoints[] below, and each api_* function one use of a row.
 */
#include "client/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/jsonscan.h"
#include "client/log.h"
#include "client/repoguard.h"
#include "client/snaplist.h"
#include "client/starts.h"
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
	STALE_REPOSITORY_GONE,	/* the same, and the start times kept for its snapshots */
	STALE_EVERYTHING,	/* new indices, recoveries anywhere: nothing cached can be trusted */
};

/*
 * Every request esfs sends: its method and target (head, then /<repo> and
 * /<snapshot> where given, then tail), and what a change makes stale. A GET
 * is cached, may be sent again on another node when its connection broke,
 * and has the read timeout; anything else is a change, sent once, with
 * write_timeout (client/http.c tells them apart by the method). A change's
 * use of its repository is kept apart from the other use (client/repoguard.c).
 */
struct endpoint {
	const char *method;
	const char *head;
	const char *tail;
	enum stale stale;
	enum repo_use use;
};

enum endpoint_kind {
	CLUSTER_ROOT, LOCAL_NODE, CLUSTER_UUID, CLUSTER_HEALTH, REPOSITORIES, SNAPSHOT_LIST, SNAPSHOT_STARTS, SNAPSHOT_INFO,
	SNAPSHOT_STATUS, RECOVERIES, INDEX_RECOVERY, LIVE_ALIASES,
	SNAPSHOT_CREATE, SNAPSHOT_DELETE, SNAPSHOT_RESTORE, SNAPSHOT_CLONE, REPOSITORY_PUT, REPOSITORY_DELETE,
	REPOSITORY_VERIFY, REPOSITORY_CLEANUP, INDEX_DELETE,
};

static const struct endpoint endpoints[] = {
	[CLUSTER_ROOT] = { "GET", "/", NULL, STALE_NOTHING, REPO_USE_NONE },
	/* The Elasticsearch integ-test-zip has no GET / (rest-root module): its node says the same. */
	[LOCAL_NODE] = { "GET", "/_nodes/_local", "?filter_path=cluster_name,nodes.*.name,"
			 "nodes.*.version,nodes.*.build_flavor,nodes.*.build_type,nodes.*.build_hash",
			 STALE_NOTHING, REPO_USE_NONE },
	/* The UUID where GET / is refused: the one field of the state's metadata, nothing else rendered. */
	[CLUSTER_UUID] = { "GET", "/_cluster/state/metadata", "?filter_path=metadata.cluster_uuid",
			   STALE_NOTHING, REPO_USE_NONE },
	[CLUSTER_HEALTH] = { "GET", "/_cluster/health", NULL, STALE_NOTHING, REPO_USE_NONE },
	[REPOSITORIES] = { "GET", "/_snapshot", NULL, STALE_NOTHING, REPO_USE_NONE },
	/*
	 * Names, states and index lists from the repository's index blob alone:
	 * _cat/snapshots and a verbose GET make the engine read every snapshot's
	 * own blob from the store (a billed GET each on S3), on every listing.
	 */
	[SNAPSHOT_LIST] = { "GET", "/_snapshot", "/_all?verbose=false&filter_path=snapshots.snapshot,"
			    "snapshots.uuid,snapshots.state,snapshots.indices", STALE_NOTHING, REPO_USE_NONE },
	/*
	 * What verbose=false leaves out and never changes, for many snapshots at
	 * once (names joined by commas, after the repository): one blob read each.
	 */
	[SNAPSHOT_STARTS] = { "GET", "/_snapshot", "?ignore_unavailable=true&filter_path=snapshots.snapshot,"
			      "snapshots.uuid,snapshots.start_time_in_millis", STALE_NOTHING, REPO_USE_NONE },
	[SNAPSHOT_INFO] = { "GET", "/_snapshot", NULL, STALE_NOTHING, REPO_USE_NONE },
	[SNAPSHOT_STATUS] = { "GET", "/_snapshot", "/_status", STALE_NOTHING, REPO_USE_NONE },
	[RECOVERIES] = { "GET", "/_cat/recovery", "?format=json&active_only=false&h=index,shard,type,"
			 "stage,files_recovered,files_total,bytes_recovered,bytes_total,repository,snapshot",
			 STALE_NOTHING, REPO_USE_NONE },
	[INDEX_RECOVERY] = { "GET", "", "/_recovery", STALE_NOTHING, REPO_USE_NONE },	/* the index as repo */
	/* Every alias, of hidden indices too: names a restore would run into. */
	[LIVE_ALIASES] = { "GET", "/_cat/aliases", "?format=json&h=alias&expand_wildcards=all", STALE_NOTHING,
			   REPO_USE_NONE },

	[SNAPSHOT_CREATE] = { "PUT", "/_snapshot", NULL, STALE_SNAPSHOT, REPO_USE_OPERATION },
	[SNAPSHOT_DELETE] = { "DELETE", "/_snapshot", NULL, STALE_SNAPSHOT, REPO_USE_OPERATION },
	[SNAPSHOT_RESTORE] = { "POST", "/_snapshot", "/_restore", STALE_EVERYTHING, REPO_USE_NONE },
	/* The new snapshot's name comes after the tail, as a segment of its own (api_snapshot_clone). */
	[SNAPSHOT_CLONE] = { "PUT", "/_snapshot", "/_clone", STALE_SNAPSHOT, REPO_USE_OPERATION },
	[REPOSITORY_PUT] = { "PUT", "/_snapshot", NULL, STALE_REPOSITORY, REPO_USE_CHANGE },
	[REPOSITORY_DELETE] = { "DELETE", "/_snapshot", NULL, STALE_REPOSITORY_GONE, REPO_USE_CHANGE },
	/* It writes test blobs into the store, but nothing esfs shows. */
	[REPOSITORY_VERIFY] = { "POST", "/_snapshot", "/_verify", STALE_NOTHING, REPO_USE_NONE },
	/* It deletes blobs no snapshot refers to: nothing esfs shows. */
	[REPOSITORY_CLEANUP] = { "POST", "/_snapshot", "/_cleanup", STALE_NOTHING, REPO_USE_OPERATION },
	/* Cancelling a restore (the index as repo: one path segment). */
	[INDEX_DELETE] = { "DELETE", "", NULL, STALE_EVERYTHING, REPO_USE_NONE },
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

/* For a decision that must not be stale: the cached answer dropped, the engine asked. */
static int get_fresh(struct client *cl, enum endpoint_kind kind, const char *repo, const char *snap,
		     struct cached **out, struct esfs_error *err)
{
	char *target = endpoint_target(kind, repo, snap);

	client_invalidate(cl, target ? target : "");
	free(target);
	return get(cl, kind, repo, snap, out, err);
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

/* "_na_" is what a node says before a master was elected: no UUID, and no key for state. */
static int take_uuid(const cJSON *holder, char *out, size_t size, struct esfs_error *err)
{
	const char *uuid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(holder, "cluster_uuid"));

	if (!uuid || !uuid[0] || !strcmp(uuid, "_na_") || strlen(uuid) >= size) {
		errmap_set(err, ENODATA, "no_cluster_uuid", "the cluster did not name its UUID%s",
			   uuid && !strcmp(uuid, "_na_") ? " (no master elected yet)" : "");
		return -ENODATA;
	}
	strcpy(out, uuid);
	return 0;
}

static int uuid_from_state(struct client *cl, char *out, size_t size, struct esfs_error *err)
{
	struct cached *state;
	int rc = get(cl, CLUSTER_UUID, NULL, NULL, &state, err);

	if (rc)
		return rc;
	rc = take_uuid(cJSON_GetObjectItemCaseSensitive(state->json, "metadata"), out, size, err);
	cached_release(state);
	return rc;
}

int api_cluster_uuid(struct client *cl, char *out, size_t size, struct esfs_error *err)
{
	struct engine known;
	struct cached *info;
	int rc;

	if (client_engine_known(cl, &known) == 0 && known.no_root_endpoint)
		return uuid_from_state(cl, out, size, err);
	rc = get(cl, CLUSTER_ROOT, NULL, NULL, &info, err);
	if (rc && root_endpoint_refused(err)) {
		memset(err, 0, sizeof(*err));
		return uuid_from_state(cl, out, size, err);
	}
	if (rc)
		return rc;
	rc = take_uuid(info->json, out, size, err);
	cached_release(info);
	return rc;
}

int api_cluster_health(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get(cl, CLUSTER_HEALTH, NULL, NULL, out, err);
}

int api_repositories(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get(cl, REPOSITORIES, NULL, NULL, out, err);
}

static void free_snaplist(void *view)
{
	snaplist_free(view);
}

/* The repository's name as the target of its listing spells it (URL-encoded): the key of its start times. */
static int listing_repo(const char *target, struct buf *repo)
{
	const char *head = endpoints[SNAPSHOT_LIST].head;
	const char *name = target + strlen(head) + 1;

	if (strncmp(target, head, strlen(head)) || target[strlen(head)] != '/')
		return -EINVAL;
	return buf_append(repo, name, strcspn(name, "/?"));
}

/* The first listing of a repository in this mount: the start times kept by earlier mounts. */
static void load_kept_starts(struct client *cl, const char *target, struct snaplist *l)
{
	struct statedir *sd = client_starts_dir(cl);
	struct buf repo = BUF_INIT;

	if (sd && listing_repo(target, &repo) == 0)
		starts_load(sd, repo.data, l);
	buf_free(&repo);
}

/* Once the engine gave start times: kept for the next mounts (a failure costs them a request). */
static void save_starts(struct client *cl, const char *repo, const struct snaplist *l)
{
	struct statedir *sd = client_starts_dir(cl);
	struct buf name = BUF_INIT;
	int rc;

	if (!sd)
		return;
	rc = urlenc_segment(&name, repo);
	if (rc == 0)
		rc = starts_save(sd, name.data, l);
	if (rc)
		log_warn("state: cannot keep the start times of %s's snapshots in %s: %s", repo,
			 statedir_path(sd), strerror(-rc));
	buf_free(&name);
}

/*
 * The listing, compact; it takes over the start times the last listing of
 * the repository knew, or, the first time, those earlier mounts kept.
 */
static int shape_snaplist(struct client *cl, const char *target, const char *body, size_t len,
			  struct cached **out, struct esfs_error *err)
{
	struct snaplist *l;
	struct cached *was;
	int rc = snaplist_parse(body, len, &l);

	if (rc == -EPROTO)
		errmap_set(err, EPROTO, "unexpected_answer", "the answer to %s is not a snapshot list", target);
	else if (rc)
		errmap_set(err, ENOMEM, "out_of_memory", "snapshot list");
	if (rc)
		return rc;
	*out = cached_new_view(l, free_snaplist, snaplist_weight(l));
	if (!*out) {
		errmap_set(err, ENOMEM, "out_of_memory", "snapshot list");
		return -ENOMEM;
	}
	was = client_keep(cl, target, *out);
	if (was)
		client_note_snapshots_gone(cl, snaplist_inherit(l, was->view));
	else
		load_kept_starts(cl, target, l);
	cached_release(was);
	return 0;
}

int api_snapshot_list(struct client *cl, const char *repo, struct cached **out, struct esfs_error *err)
{
	char *target = endpoint_target(SNAPSHOT_LIST, repo, NULL);
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = client_get_shaped(cl, target, shape_snaplist, out, err);
	free(target);
	return rc;
}

void api_snapshot_list_forget(struct client *cl, const char *repo)
{
	char *target = endpoint_target(SNAPSHOT_LIST, repo, NULL);

	client_invalidate(cl, target ? target : "");
	free(target);
}

struct snaplist *api_snaplist(const struct cached *listing)
{
	return listing->view;
}

/*
 * The longest list of names in one request: the engines refuse a request
 * line past 4 KiB (http.max_initial_line_length). Past it, one request for
 * _all instead of many: the same blob reads, once each, in one round trip.
 */
#define STARTS_NAMES_MAX 2900

/* The rows one request asks start times for, claimed by this thread. */
struct claims {
	size_t count;
	struct snap_row **rows;
};

/* The names of the unknown rows from first on, comma-separated; -E2BIG when they do not fit. */
static int unknown_names(struct snaplist *l, size_t first, struct buf *names)
{
	int rc = 0;

	for (size_t i = first; !rc && i < snaplist_count(l); i++) {
		struct snap_row *r = snaplist_row(l, i);

		if (atomic_load(&r->start_ms) != SNAP_START_UNKNOWN)
			continue;
		rc = (names->len && buf_puts(names, ",")) || urlenc_segment(names, r->name);
		if (!rc && names->len > STARTS_NAMES_MAX)
			rc = -E2BIG;
	}
	return rc;
}

/* Claims the unknown rows from first on (all of them when asking for _all). */
static int claim_unknown(struct snaplist *l, size_t first, struct claims *c)
{
	c->rows = malloc((snaplist_count(l) - first + 1) * sizeof(*c->rows));
	if (!c->rows)
		return -ENOMEM;
	for (size_t i = first; i < snaplist_count(l); i++)
		if (snaplist_claim(snaplist_row(l, i)))
			c->rows[c->count++] = snaplist_row(l, i);
	return 0;
}

/*
 * "/_snapshot/<repo>/a,b,c?..." for every row still unknown,
 * or ".../_all?...": whatever order they are asked in (ls -l's, ls -t of a
 * view's, a script's), a listing's start times cost one request.
 */
static int starts_target(const char *repo, struct snaplist *l, struct buf *t, struct claims *c)
{
	const struct endpoint *e = &endpoints[SNAPSHOT_STARTS];
	struct buf names = BUF_INIT;
	size_t first = 0;
	int rc = unknown_names(l, first, &names);

	if (rc == -E2BIG) {
		first = 0;
		buf_free(&names);
		rc = buf_puts(&names, "_all");
	}
	rc = rc || claim_unknown(l, first, c);
	/* A row another thread claimed meanwhile is asked for twice: the first answer settles it. */
	rc = rc || buf_puts(t, e->head) || buf_puts(t, "/") || urlenc_segment(t, repo) ||
	     buf_puts(t, "/") || buf_append(t, names.data, names.len) || buf_puts(t, e->tail);
	buf_free(&names);
	if (!rc && c->count == 0)
		rc = -EALREADY;
	return rc;
}

/* 9999-12-31T23:59:59.999Z in milliseconds: later is no clock's time, and beyond 2^63 not a long long. */
#define START_MS_MAX 253402300799999.0

/* A time the engine gives, never one of the SNAP_START_* markers (all negative). */
static int is_start_ms(const cJSON *start)
{
	return cJSON_IsNumber(start) && start->valuedouble >= 0 && start->valuedouble <= START_MS_MAX;
}

/* One snapshot of the start times answer, parsed alone (see json_array_each). */
static int settle_element(const char *element, size_t len, void *ctx)
{
	struct snaplist *l = ctx;
	cJSON *snapshot = cJSON_ParseWithLength(element, len);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(snapshot, "snapshot");
	struct snap_row *row = cJSON_IsString(name) ? snaplist_find(l, name->valuestring) : NULL;
	const cJSON *uuid = cJSON_GetObjectItemCaseSensitive(snapshot, "uuid");
	const cJSON *start = cJSON_GetObjectItemCaseSensitive(snapshot, "start_time_in_millis");

	/* Deleted and taken again meanwhile: not the one listed. */
	if (row && atomic_load(&row->start_ms) == SNAP_START_ASKING && is_start_ms(start) &&
	    cJSON_IsString(uuid) && !strcmp(uuid->valuestring, row->uuid))
		snaplist_settle(l, row, (long long)start->valuedouble);
	cJSON_Delete(snapshot);
	return 0;
}

void api_snapshot_starts_settle(struct snaplist *l, const char *body, size_t len)
{
	json_array_each(body, len, "snapshots", settle_element, l);
}

/* Settles the claimed rows the answer left out: missing, or unknown again after a failure. */
static void settle_rest(struct snaplist *l, const struct claims *c, long long start_ms)
{
	for (size_t i = 0; i < c->count; i++)
		if (atomic_load(&c->rows[i]->start_ms) == SNAP_START_ASKING)
			snaplist_settle(l, c->rows[i], start_ms);
}

/* Whether the answer gave a start time that is kept between mounts: one of a finished snapshot. */
static int any_kept(const struct claims *c)
{
	for (size_t i = 0; i < c->count; i++)
		if (atomic_load(&c->rows[i]->start_ms) >= 0 && snaplist_row_final(c->rows[i]))
			return 1;
	return 0;
}

static int fetch_starts(struct client *cl, const char *repo, struct snaplist *l, struct esfs_error *err)
{
	struct buf target = BUF_INIT, body = BUF_INIT;
	struct claims claims = { 0 };
	int rc = starts_target(repo, l, &target, &claims);

	if (rc == 0)
		rc = client_read(cl, target.data, &body, err);
	else if (rc != -EALREADY)
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
	if (rc == 0)
		api_snapshot_starts_settle(l, body.data ? body.data : "", body.len);
	settle_rest(l, &claims, rc ? SNAP_START_UNKNOWN : SNAP_START_MISSING);
	if (rc == 0 && any_kept(&claims))
		save_starts(cl, repo, l);
	free(claims.rows);
	buf_free(&body);
	buf_free(&target);
	return rc == -EALREADY ? 0 : rc;
}

int api_snapshot_start(struct client *cl, const char *repo, struct snaplist *l, struct snap_row *row,
		       long long *start_ms, struct esfs_error *err)
{
	int rc = 0;

	if (atomic_load(&row->start_ms) == SNAP_START_UNKNOWN)
		rc = fetch_starts(cl, repo, l, err);
	if (rc == 0)
		*start_ms = snaplist_wait_start(l, row);
	return rc;
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

const cJSON *api_single_snapshot(const cJSON *answer)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "snapshots"), 0);
}

static void forget(struct client *cl, char *prefix)
{
	client_invalidate(cl, prefix ? prefix : "");
	free(prefix);
}

/*
 * A repository unregistered: the start times kept for it go. (Registered
 * anew elsewhere they could stay: a start time is kept for a UUID.)
 */
static void unkeep_listing(struct client *cl, const char *repo)
{
	char *target = endpoint_target(SNAPSHOT_LIST, repo, NULL);

	if (target)
		client_unkeep(cl, target);
	free(target);
}

static void forget_stale(struct client *cl, enum stale stale, const char *repo, const char *snap)
{
	switch (stale) {
	case STALE_SNAPSHOT:
		forget(cl, api_target(endpoints[SNAPSHOT_LIST].head, repo, NULL, NULL));
		forget(cl, api_target(endpoints[SNAPSHOT_INFO].head, repo, snap, NULL));
		break;
	case STALE_REPOSITORY:
	case STALE_REPOSITORY_GONE:
		client_invalidate(cl, endpoints[REPOSITORIES].head);
		forget(cl, api_target(endpoints[SNAPSHOT_LIST].head, repo, NULL, NULL));
		if (stale == STALE_REPOSITORY_GONE)
			unkeep_listing(cl, repo);
		break;
	case STALE_EVERYTHING:
		client_invalidate(cl, "");
		break;
	case STALE_NOTHING:
		break;
	}
}

/*
 * How a change uses its repository, for the guard: OpenSearch 3 and
 * Elasticsearch refuse what would collide (tests/test_concurrency.py), so
 * only OpenSearch before 3, and an engine that cannot be named, are guarded.
 */
static enum repo_use repository_use(struct client *cl, enum endpoint_kind kind)
{
	struct esfs_error ignored;
	struct engine e;

	if (endpoints[kind].use == REPO_USE_NONE)
		return REPO_USE_NONE;
	/* Named once per mount, by the first change that needs it; a read, kept for good. */
	if (api_engine(cl, &e, &ignored) == 0 &&
	    (e.kind == ENGINE_ELASTICSEARCH || (e.kind == ENGINE_OPENSEARCH && e.major >= 3)))
		return REPO_USE_NONE;
	return endpoints[kind].use;
}

/* Sends one change to target and forgets what it made stale, whatever the answer: it may have been done. */
static int send_change_to(struct client *cl, enum endpoint_kind kind, char *target, const char *repo,
			  const char *snap, const char *body, size_t len, struct http_response *resp,
			  struct esfs_error *err)
{
	const struct endpoint *c = &endpoints[kind];
	enum repo_use use = repository_use(cl, kind);
	struct http_response scratch = { 0 };
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = repoguard_enter(repo, use, err);
	if (rc) {
		free(target);
		return rc;
	}
	rc = client_send(cl, c->method, target, body, len, resp ? resp : &scratch, err);
	repoguard_leave(repo, use);
	http_response_free(&scratch);
	free(target);
	forget_stale(cl, c->stale, repo, snap);
	return rc;
}

static int send_change(struct client *cl, enum endpoint_kind kind, const char *repo, const char *snap,
		       const char *body, size_t len, struct http_response *resp, struct esfs_error *err)
{
	return send_change_to(cl, kind, endpoint_target(kind, repo, snap), repo, snap, body, len, resp, err);
}

int api_snapshot_create(struct client *cl, const char *repo, const char *snap, const char *body,
			size_t len, struct esfs_error *err)
{
	return send_change(cl, SNAPSHOT_CREATE, repo, snap, body, len, NULL, err);
}

int api_snapshot_delete(struct client *cl, const char *repo, const char *snap, struct esfs_error *err)
{
	int rc = send_change(cl, SNAPSHOT_DELETE, repo, snap, NULL, 0, NULL, err);

	/* Known now, before any listing: one whose answer was lost shows in the next listing. */
	if (rc == 0)
		client_note_snapshots_gone(cl, 1);
	return rc;
}

int api_snapshot_restore(struct client *cl, const char *repo, const char *snap, const char *body,
			 size_t len, struct http_response *resp, struct esfs_error *err)
{
	return send_change(cl, SNAPSHOT_RESTORE, repo, snap, body, len, resp, err);
}

int api_snapshot_clone(struct client *cl, const char *repo, const char *snap, const char *target,
		       const char *body, size_t len, struct http_response *resp, struct esfs_error *err)
{
	struct buf path = BUF_INIT;
	char *head = endpoint_target(SNAPSHOT_CLONE, repo, snap);

	if (!head || buf_puts(&path, head) || buf_puts(&path, "/") || urlenc_segment(&path, target))
		buf_free(&path);
	free(head);
	/* Both the source's and the new snapshot's cached entries are stale. */
	forget_stale(cl, STALE_SNAPSHOT, repo, target);
	return send_change_to(cl, SNAPSHOT_CLONE, buf_steal(&path), repo, snap, body, len, resp, err);
}

int api_repository_cleanup(struct client *cl, const char *repo, struct http_response *resp,
			   struct esfs_error *err)
{
	return send_change(cl, REPOSITORY_CLEANUP, repo, NULL, NULL, 0, resp, err);
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
	return fresh ? get_fresh(cl, INDEX_RECOVERY, index, NULL, out, err)
		     : get(cl, INDEX_RECOVERY, index, NULL, out, err);
}

int api_live_aliases(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return get_fresh(cl, LIVE_ALIASES, NULL, NULL, out, err);
}

int api_index_delete(struct client *cl, const char *index, struct esfs_error *err)
{
	return send_change(cl, INDEX_DELETE, index, NULL, NULL, 0, NULL, err);
}

/* "<head>/<names><tail>": each comma-separated name encoded, the commas (and a pattern's '*') kept. */
static char *names_target(const char *head, const char *names, const char *tail)
{
	struct buf t = BUF_INIT;
	int rc = buf_puts(&t, head) || buf_puts(&t, "/");

	for (const char *p = names; !rc && *p;) {
		size_t len = strcspn(p, ",*");
		char *part = strndup(p, len);

		rc = !part || urlenc_segment(&t, part) || (p[len] && buf_append(&t, p + len, 1));
		free(part);
		p += len + (p[len] != '\0');
	}
	if (rc || buf_puts(&t, tail)) {
		buf_free(&t);
		return NULL;
	}
	return buf_steal(&t);
}

static int read_names(struct client *cl, const char *head, const char *names, const char *tail,
		      struct buf *body, struct esfs_error *err)
{
	char *target = names_target(head, names, tail);
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = client_read(cl, target, body, err);
	free(target);
	return rc;
}

int api_cat_indices(struct client *cl, const char *names, struct buf *body, struct esfs_error *err)
{
	return read_names(cl, "/_cat/indices", names, "?format=json&bytes=b&expand_wildcards=all"
			  "&h=index,health,status,pri,docs.count,store.size", body, err);
}

int api_cat_shards(struct client *cl, const char *names, struct buf *body, struct esfs_error *err)
{
	return read_names(cl, "/_cat/shards", names, "?format=json&h=index,prirep,state,unassigned.reason",
			  body, err);
}

int api_index_count(struct client *cl, const char *index, long long *count, struct esfs_error *err)
{
	struct buf body = BUF_INIT;
	int rc = read_names(cl, "", index, "/_count", &body, err);
	cJSON *answer = rc ? NULL : cJSON_ParseWithLength(body.data, body.len);
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(answer, "count");

	if (!rc && !cJSON_IsNumber(n)) {
		errmap_set(err, EIO, "unexpected_answer", "no count in the answer to %s/_count", index);
		rc = -EIO;
	}
	if (!rc)
		*count = (long long)n->valuedouble;
	cJSON_Delete(answer);
	buf_free(&body);
	return rc;
}

int api_indices_delete(struct client *cl, const char *names, struct esfs_error *err)
{
	char *target = names_target("", names, "?ignore_unavailable=true");

	return send_change_to(cl, INDEX_DELETE, target, NULL, NULL, NULL, 0, NULL, err);
}
