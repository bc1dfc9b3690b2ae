#include "fs/tree.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/aws_sign.h"
#include "client/errlog.h"
#include "client/stats.h"
#include "fs/lookup.h"
#include "fs/recovery.h"
#include "fs/render.h"

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

/* The key under which a snapshot's last restore is kept in the mount's state. */
static void restore_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "restore/%s/%s", n->repo, n->snap);
}

static int read_snapshot_file(struct esfs *fs, const struct node *n, struct buf *out,
			      struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];
	struct cached *list;
	const cJSON *row;
	int rc = lookup_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	/* The state comes from the listing, so "ls -l" in a snapshot costs no extra request for it. */
	if (n->kind == NODE_SNAP_STATE || n->kind == NODE_SNAP_WAIT)
		rc = render_line(out, row, "status") ? answer_malformed(err, "_cat/snapshots") : 0;
	cached_release(list);
	if (rc || n->kind == NODE_SNAP_STATE || n->kind == NODE_SNAP_WAIT)
		return rc;
	if (n->kind == NODE_SNAP_RESTORE) {
		restore_key(n, key, sizeof(key));
		state_get(fs->state, key, out);
		return 0;
	}
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

/* A repository made with mkdir and not registered yet: it has only an empty _settings.json. */
static int read_pending_repo_file(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	if (!state_pending_has(fs->state, n->repo) || n->kind != NODE_REPO_SETTINGS)
		return lookup_not_found(err);
	return 0;
}

static int read_repo_file(struct esfs *fs, const struct node *n, struct buf *out,
			  struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];
	struct cached *answer;
	const cJSON *entry;
	int rc = lookup_repository(fs, n->repo, &answer, &entry, err);

	if (rc == -ENOENT && !err->type[0])
		return read_pending_repo_file(fs, n, err);
	if (rc)
		return rc;
	if (n->kind == NODE_REPO_SETTINGS)
		rc = render_repository(out, entry);
	cached_release(answer);
	if (rc || n->kind != NODE_REPO_DEFAULTS)
		return rc;
	snprintf(key, sizeof(key), "defaults/%s", n->repo);
	if (state_get(fs->state, key, out) == -ENOENT)
		rc = buf_puts(out, "{}\n");
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
	case NODE_ESFS_AWS:
		/* Which credentials sign, never the secret: -ENOENT when esfs does not sign. */
		return aws_signer_render(fs->signer, out);
	case NODE_RECOVERY_ENTRY:
		return recovery_read(fs, n->entry, out, err);
	case NODE_REPO_SETTINGS:
	case NODE_REPO_DEFAULTS:
	case NODE_REPO_VERIFY:
		return read_repo_file(fs, n, out, err);
	default:
		if (node_in_snapshot(n->kind))
			return read_snapshot_file(fs, n, out, err);
		return -EISDIR;
	}
}

/* A snapshot directory and its files carry the snapshot's start time, so "ls -lt" sorts by age. */
static int stat_snapshot_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
			     struct esfs_error *err)
{
	struct cached *list;
	const cJSON *row;
	int rc = lookup_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	attr->mtime = (time_t)api_list_start_epoch(row);
	cached_release(list);
	return 0;
}

static int stat_repo_dir(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc == -ENOENT && !err->type[0] && state_pending_has(fs->state, n->repo))
		rc = 0;
	return rc;
}

static int stat_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		    struct esfs_error *err)
{
	attr->is_dir = 1;
	attr->mtime = fs->mounted_at;
	/* Writable where mkdir, rmdir or rm do something. */
	attr->writable = n->kind == NODE_ROOT || n->kind == NODE_REPO_DIR ||
			 n->kind == NODE_SNAP_DIR || n->kind == NODE_RECOVERY_DIR;
	if (n->kind == NODE_REPO_DIR)
		return stat_repo_dir(fs, n, err);
	if (n->kind == NODE_SNAP_DIR)
		return stat_snapshot_dir(fs, n, attr, err);
	return 0;
}

/*
 * The size of _verify is not known without running the verification, which
 * no stat should do: like /proc's files, it says 0 and reads what it reads.
 * wait is the other such file.
 */
static int stat_file_size(struct esfs *fs, const struct node *n, struct node_attr *attr,
			  struct esfs_error *err)
{
	struct buf content = BUF_INIT;
	int rc;

	rc = tree_read(fs, n, &content, err);
	attr->size = content.len;
	if (n->kind == NODE_REPO_VERIFY)
		attr->size = 0;
	/* wait, while the snapshot runs: a read blocks, then returns a final state of unknown length. */
	if (n->kind == NODE_SNAP_WAIT && !strcmp(content.data ? content.data : "", "IN_PROGRESS\n"))
		attr->size = 0;
	buf_free(&content);
	return rc;
}

int tree_stat(struct esfs *fs, const struct node *n, struct node_attr *attr, struct esfs_error *err)
{
	int rc;

	memset(err, 0, sizeof(*err));
	memset(attr, 0, sizeof(*attr));
	if (node_is_dir(n->kind))
		return stat_dir(fs, n, attr, err);
	attr->writable = node_is_writable(n->kind);
	attr->mtime = time(NULL);
	rc = stat_file_size(fs, n, attr, err);
	if (!rc && node_in_snapshot(n->kind)) {
		struct node dir = *n;

		dir.kind = NODE_SNAP_DIR;
		rc = stat_snapshot_dir(fs, &dir, attr, err);
	}
	return rc;
}

static int list_fixed(struct esfs *fs, enum node_kind dir, tree_entry_fn fn, void *ctx)
{
	for (const struct fixed_entry *e = node_fixed_entries(dir); e->name; e++) {
		struct node_attr attr = { .is_dir = node_is_dir(e->kind) };
		int rc;

		if ((e->kind == NODE_ESFS_AWS && !fs->signer) || (e->flags & FIXED_UNLISTED))
			continue;
		rc = fn(ctx, e->name, &attr);

		if (rc)
			return rc;
	}
	return 0;
}

struct pending_fill {
	struct esfs *fs;
	tree_entry_fn fn;
	void *ctx;
	const cJSON *registered;
};

static int list_one_pending(void *ctx, const char *name)
{
	struct pending_fill *pf = ctx;
	struct node_attr attr = { .is_dir = 1, .writable = 1, .mtime = pf->fs->mounted_at };

	/* Registered by someone else meanwhile: listed once, as the registered one. */
	if (cJSON_GetObjectItemCaseSensitive(pf->registered, name))
		return 0;
	return pf->fn(pf->ctx, name, &attr);
}

static int list_repositories(struct esfs *fs, tree_entry_fn fn, void *ctx, struct esfs_error *err)
{
	struct pending_fill pf = { fs, fn, ctx, NULL };
	struct cached *answer;
	const cJSON *repo;
	int rc = api_repositories(fs->client, &answer, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(repo, answer->json) {
		struct node_attr attr = { .is_dir = 1, .writable = 1, .mtime = fs->mounted_at };

		if (repo->string && (rc = fn(ctx, repo->string, &attr)))
			break;
	}
	pf.registered = answer->json;
	if (!rc)
		rc = state_pending_each(fs->state, list_one_pending, &pf);
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
		struct node_attr attr = { .is_dir = 1, .writable = 1,
					  .mtime = (time_t)api_list_start_epoch(row) };
		const char *name = api_list_name(row);

		if (name && (rc = fn(ctx, name, &attr)))
			break;
	}
	cached_release(answer);
	return rc;
}

static int list_repo_dir(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
			 struct esfs_error *err)
{
	struct node_attr attr = { .writable = 1 };
	struct cached *answer;
	const cJSON *entry;
	int rc = lookup_repository(fs, n->repo, &answer, &entry, err);

	if (rc == -ENOENT && !err->type[0] && state_pending_has(fs->state, n->repo))
		return fn(ctx, "_settings.json", &attr);
	if (rc)
		return rc;
	cached_release(answer);
	rc = list_fixed(fs, NODE_REPO_DIR, fn, ctx);
	return rc ? rc : list_snapshots(fs, n, fn, ctx, err);
}

int tree_list(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err)
{
	struct node_attr attr;
	int rc;

	memset(err, 0, sizeof(*err));
	if (!node_is_dir(n->kind))
		return -ENOTDIR;
	if (n->kind == NODE_REPO_DIR)
		return list_repo_dir(fs, n, fn, ctx, err);
	rc = tree_stat(fs, n, &attr, err);
	if (!rc)
		rc = list_fixed(fs, n->kind, fn, ctx);
	if (!rc && n->kind == NODE_ROOT)
		rc = list_repositories(fs, fn, ctx, err);
	if (!rc && n->kind == NODE_RECOVERY_DIR)
		rc = recovery_list(fs, fn, ctx, err);
	return rc;
}
