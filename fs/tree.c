#include "fs/tree.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "client/api.h"
#include "client/errlog.h"
#include "client/stats.h"
#include "fs/render.h"

static int not_found(struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	err->err = ENOENT;
	return -ENOENT;
}

/* The repository's entry in GET /_snapshot, kept alive by *answer. */
static int find_repository(struct esfs *fs, const char *repo, struct cached **answer,
			   const cJSON **entry, struct esfs_error *err)
{
	int rc = api_repositories(fs->client, answer, err);

	if (rc)
		return rc;
	*entry = cJSON_GetObjectItemCaseSensitive((*answer)->json, repo);
	if (!cJSON_IsObject(*entry)) {
		cached_release(*answer);
		*answer = NULL;
		return not_found(err);
	}
	return 0;
}

/* The snapshot's row in the repository's listing, kept alive by *answer. */
static int find_snapshot(struct esfs *fs, const struct node *n, struct cached **answer,
			 const cJSON **row, struct esfs_error *err)
{
	struct cached *repos;
	const cJSON *entry;
	int rc = find_repository(fs, n->repo, &repos, &entry, err);

	if (rc)
		return rc;
	cached_release(repos);
	rc = api_snapshot_list(fs->client, n->repo, answer, err);
	if (rc)
		return rc;
	*row = api_list_find((*answer)->json, n->snap);
	if (!*row) {
		cached_release(*answer);
		*answer = NULL;
		return not_found(err);
	}
	return 0;
}

static int answer_malformed(struct esfs_error *err, const char *what)
{
	errmap_set(err, EPROTO, "unexpected_answer", "the engine's answer to %s is not as expected", what);
	return -EPROTO;
}

/* Files made from GET _snapshot/<repo>/<snap> or its _status. */
static int read_snapshot_detail(struct esfs *fs, const struct node *n, struct buf *out,
				struct esfs_error *err)
{
	int want_status = n->kind == NODE_SNAP_STATUS || n->kind == NODE_SNAP_PROGRESS;
	struct cached *answer;
	const cJSON *snap;
	int rc;

	rc = want_status ? api_snapshot_status(fs->client, n->repo, n->snap, &answer, err)
			 : api_snapshot_info(fs->client, n->repo, n->snap, &answer, err);
	if (rc)
		return rc;
	snap = api_single_snapshot(answer->json);
	if (!snap)
		rc = answer_malformed(err, want_status ? "_status" : "GET _snapshot");
	else if (n->kind == NODE_SNAP_INFO || n->kind == NODE_SNAP_STATUS)
		rc = render_json(out, snap);
	else if (n->kind == NODE_SNAP_PROGRESS)
		rc = render_progress(out, snap);
	else if (n->kind == NODE_SNAP_INDICES)
		rc = render_indices(out, snap);
	else
		rc = render_failures(out, snap);
	cached_release(answer);
	return rc;
}

static int read_snapshot_file(struct esfs *fs, const struct node *n, struct buf *out,
			      struct esfs_error *err)
{
	struct cached *list;
	const cJSON *row;
	int rc = find_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	/* The state comes from the listing, so "ls -l" in a snapshot costs no extra request for it. */
	if (n->kind == NODE_SNAP_STATE)
		rc = render_line(out, row, "status") ? answer_malformed(err, "_cat/snapshots") : 0;
	cached_release(list);
	if (rc || n->kind == NODE_SNAP_STATE)
		return rc;
	return read_snapshot_detail(fs, n, out, err);
}

static int read_cluster_file(struct esfs *fs, enum node_kind kind, struct buf *out,
			     struct esfs_error *err)
{
	struct cached *answer;
	int rc;

	rc = kind == NODE_CLUSTER_HEALTH ? api_cluster_health(fs->client, &answer, err)
					 : api_cluster_info(fs->client, &answer, err);
	if (rc)
		return rc;
	if (kind == NODE_CLUSTER_INFO)
		rc = render_json(out, answer->json);
	else if (render_line(out, answer->json, "status"))
		rc = answer_malformed(err, "_cluster/health");
	cached_release(answer);
	return rc;
}

static int read_repo_settings(struct esfs *fs, const struct node *n, struct buf *out,
			      struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *entry;
	int rc = find_repository(fs, n->repo, &answer, &entry, err);

	if (rc)
		return rc;
	rc = render_json(out, entry);
	cached_release(answer);
	return rc;
}

int tree_read(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	switch (n->kind) {
	case NODE_CLUSTER_HEALTH:
	case NODE_CLUSTER_INFO:
		return read_cluster_file(fs, n->kind, out, err);
	case NODE_ESFS_STATS:
		return stats_render(out);
	case NODE_ESFS_ERRORS:
		return errlog_render(out);
	case NODE_REPO_SETTINGS:
		return read_repo_settings(fs, n, out, err);
	case NODE_SNAP_STATE:
	case NODE_SNAP_INFO:
	case NODE_SNAP_STATUS:
	case NODE_SNAP_PROGRESS:
	case NODE_SNAP_INDICES:
	case NODE_SNAP_FAILURES:
		return read_snapshot_file(fs, n, out, err);
	default:
		return -EISDIR;
	}
}

/* A snapshot directory and its files carry the snapshot's start time, so "ls -lt" sorts by age. */
static int stat_snapshot_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
			     struct esfs_error *err)
{
	struct cached *list;
	const cJSON *row;
	int rc = find_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	attr->mtime = (time_t)api_list_start_epoch(row);
	cached_release(list);
	return 0;
}

static int stat_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		    struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *entry;
	int rc = 0;

	attr->is_dir = 1;
	attr->mtime = fs->mounted_at;
	if (n->kind == NODE_REPO_DIR) {
		rc = find_repository(fs, n->repo, &answer, &entry, err);
		if (!rc)
			cached_release(answer);
	} else if (n->kind == NODE_SNAP_DIR) {
		rc = stat_snapshot_dir(fs, n, attr, err);
	}
	return rc;
}

int tree_stat(struct esfs *fs, const struct node *n, struct node_attr *attr, struct esfs_error *err)
{
	struct buf content = BUF_INIT;
	int rc;

	memset(err, 0, sizeof(*err));
	memset(attr, 0, sizeof(*attr));
	if (node_is_dir(n->kind))
		return stat_dir(fs, n, attr, err);
	/* The size is that of the bytes a read would return now: render them. */
	rc = tree_read(fs, n, &content, err);
	attr->size = content.len;
	attr->mtime = time(NULL);
	buf_free(&content);
	if (!rc && node_in_snapshot(n->kind)) {
		struct node dir = *n;

		dir.kind = NODE_SNAP_DIR;
		rc = stat_snapshot_dir(fs, &dir, attr, err);
	}
	return rc;
}

static int list_fixed(enum node_kind dir, tree_entry_fn fn, void *ctx)
{
	for (const struct fixed_entry *e = node_fixed_entries(dir); e->name; e++) {
		struct node_attr attr = { .is_dir = node_is_dir(e->kind) };
		int rc = fn(ctx, e->name, &attr);

		if (rc)
			return rc;
	}
	return 0;
}

static int list_repositories(struct esfs *fs, tree_entry_fn fn, void *ctx, struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *repo;
	int rc = api_repositories(fs->client, &answer, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(repo, answer->json) {
		struct node_attr attr = { .is_dir = 1, .mtime = fs->mounted_at };

		if (repo->string && (rc = fn(ctx, repo->string, &attr)))
			break;
	}
	cached_release(answer);
	return rc;
}

static int list_snapshots(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
			  struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *row;
	int rc = api_snapshot_list(fs->client, n->repo, &answer, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(row, answer->json) {
		struct node_attr attr = { .is_dir = 1, .mtime = (time_t)api_list_start_epoch(row) };
		const char *name = api_list_name(row);

		if (name && (rc = fn(ctx, name, &attr)))
			break;
	}
	cached_release(answer);
	return rc;
}

int tree_list(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err)
{
	struct node_attr attr;
	int rc;

	memset(err, 0, sizeof(*err));
	if (!node_is_dir(n->kind))
		return -ENOTDIR;
	rc = tree_stat(fs, n, &attr, err);
	if (!rc)
		rc = list_fixed(n->kind, fn, ctx);
	if (!rc && n->kind == NODE_ROOT)
		rc = list_repositories(fs, fn, ctx, err);
	if (!rc && n->kind == NODE_REPO_DIR)
		rc = list_snapshots(fs, n, fn, ctx, err);
	return rc;
}
