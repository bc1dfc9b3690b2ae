/*
 * The tree's contents: the read, stat and list handlers of fs/nodes.c, and
 * the generic stat, read and list that dispatch to them.
 */
#include "fs/tree.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "client/aws/sign.h"
#include "client/errlog.h"
#include "client/stats.h"
#include "fs/lookup.h"
#include "fs/nodes.h"
#include "fs/render.h"

static int answer_malformed(struct esfs_error *err, const char *what)
{
	errmap_set(err, EPROTO, "unexpected_answer", "the engine's answer to %s is not as expected", what);
	return -EPROTO;
}

/* ---------------------------------------------------------------- /_cluster, /_esfs */

int read_cluster_health(struct esfs *fs, const struct node *n, struct buf *out,
			struct esfs_error *err)
{
	struct cached *answer;
	int rc = api_cluster_health(fs->client, &answer, err);

	(void)n;
	if (rc)
		return rc;
	if (render_line(out, answer->json, "status"))
		rc = answer_malformed(err, "_cluster/health");
	cached_release(answer);
	return rc;
}

int read_cluster_info(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	struct cached *answer;
	int rc = api_cluster_info(fs->client, &answer, err);

	(void)n;
	if (rc)
		return rc;
	rc = render_json(out, answer->json);
	cached_release(answer);
	return rc;
}

int read_esfs_stats(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)fs;
	(void)n;
	(void)err;
	return stats_render(out);
}

/* The same counters, and finer ones, in the Prometheus text format. */
int read_esfs_metrics(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)n;
	(void)err;
	return stats_render_metrics(out, (long)fs->mounted_at);
}

int read_esfs_errors(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)fs;
	(void)n;
	(void)err;
	return errlog_render(out);
}

/* Which credentials sign, never the secret: -ENOENT when esfs does not sign. */
int read_esfs_aws(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)n;
	(void)err;
	return aws_signer_render(fs->signer, out);
}

/* ---------------------------------------------------------------- repositories */

int read_repo_settings(struct esfs *fs, const struct node *n, struct buf *out,
		       struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *entry;
	int rc = lookup_repository(fs, n->repo, &answer, &entry, err);

	/* A repository made with mkdir and not registered yet: its _settings.json is empty. */
	if (rc == -ENOENT && !err->type[0] && state_pending_has(fs->state, n->repo))
		return 0;
	if (rc)
		return rc;
	rc = render_repository(out, entry);
	cached_release(answer);
	return rc;
}

int tree_read_kept(struct esfs *fs, const char *repo, const char *key, const char *fallback,
		   struct buf *out, struct esfs_error *err)
{
	int rc = lookup_repository_exists(fs, repo, err);

	if (rc)
		return rc;
	rc = state_get(fs->state, key, out);
	return rc == -ENOENT ? buf_puts(out, fallback) : rc;
}

int read_repo_defaults(struct esfs *fs, const struct node *n, struct buf *out,
		       struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];

	tree_defaults_key(n->repo, key, sizeof(key));
	return tree_read_kept(fs, n->repo, key, "{}\n", out, err);
}

/* A file whose bytes come at open (_verify): it is there when its repository is. */
int read_repo_exists(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)out;
	return lookup_repository_exists(fs, n->repo, err);
}

int stat_repo_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		  struct esfs_error *err)
{
	int rc = lookup_repository_exists(fs, n->repo, err);

	(void)attr;
	if (rc == -ENOENT && !err->type[0] && state_pending_has(fs->state, n->repo))
		rc = 0;
	return rc;
}

/* ---------------------------------------------------------------- snapshots */

/* The listing's row of a snapshot, for what the listing says of it. */
typedef int snapshot_row_fn(struct buf *out, const struct snap_row *row);

static int read_from_listing(struct esfs *fs, const struct node *n, snapshot_row_fn *render,
			     struct buf *out, struct esfs_error *err)
{
	struct cached *list;
	struct snap_row *row;
	int rc = lookup_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	rc = render(out, row);
	cached_release(list);
	return rc;
}

static int render_row_state(struct buf *out, const struct snap_row *row)
{
	return buf_printf(out, "%s\n", row->state);
}

static int render_row_indices(struct buf *out, const struct snap_row *row)
{
	return buf_append(out, row->indices, row->indices_len);
}

/* State and indices come from the listing: reading them in every snapshot costs no request each. */
int read_snap_state(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return read_from_listing(fs, n, render_row_state, out, err);
}

int read_snap_indices(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return read_from_listing(fs, n, render_row_indices, out, err);
}

typedef int snapshot_render_fn(struct buf *out, const cJSON *snapshot);

/* A file made from GET _snapshot/<repo>/<snap> (or, with status, its _status). */
static int read_snapshot_detail(struct esfs *fs, const struct node *n, int status,
				snapshot_render_fn *render, struct buf *out, struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *snap;
	int rc = lookup_snapshot_exists(fs, n, err);

	if (rc)
		return rc;
	rc = status ? api_snapshot_status(fs->client, n->repo, n->snap, &answer, err)
		    : api_snapshot_info(fs->client, n->repo, n->snap, &answer, err);
	if (rc)
		return rc;
	snap = api_single_snapshot(answer->json);
	rc = snap ? render(out, snap) : answer_malformed(err, status ? "_status" : "GET _snapshot");
	cached_release(answer);
	return rc;
}

static int render_json_of(struct buf *out, const cJSON *snapshot)
{
	return render_json(out, snapshot);
}

int read_snap_info(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return read_snapshot_detail(fs, n, 0, render_json_of, out, err);
}

int read_snap_status(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return read_snapshot_detail(fs, n, 1, render_json_of, out, err);
}

int read_snap_progress(struct esfs *fs, const struct node *n, struct buf *out,
		       struct esfs_error *err)
{
	return read_snapshot_detail(fs, n, 1, render_progress, out, err);
}

int read_snap_failures(struct esfs *fs, const struct node *n, struct buf *out,
		       struct esfs_error *err)
{
	return read_snapshot_detail(fs, n, 0, render_failures, out, err);
}

/* The sizes only _status gives: what the snapshot holds, and what it added to the repository. */
int read_snap_size(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return read_snapshot_detail(fs, n, 1, render_size, out, err);
}

int tree_read_snapshot_kept(struct esfs *fs, const struct node *n, const char *key, struct buf *out,
			    struct esfs_error *err)
{
	int rc = lookup_snapshot_exists(fs, n, err);

	if (rc)
		return rc;
	state_get(fs->state, key, out);
	return 0;
}

int read_snap_restore(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];

	tree_restore_key(n, key, sizeof(key));
	return tree_read_snapshot_kept(fs, n, key, out, err);
}

/* The start time as an mtime; when the engine does not say, the mount's. */
time_t tree_snapshot_mtime(const struct esfs *fs, long long start_ms)
{
	return start_ms >= 0 ? (time_t)(start_ms / 1000) : fs->mounted_at;
}

/* A snapshot directory and its files carry the snapshot's start time, so "ls -lt" sorts by age. */
int stat_snap_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		  struct esfs_error *err)
{
	struct cached *list;
	struct snap_row *row;
	long long start_ms;
	int rc = lookup_snapshot(fs, n, &list, &row, err);

	if (rc)
		return rc;
	rc = api_snapshot_start(fs->client, n->repo, api_snaplist(list), row, &start_ms, err);
	if (rc == 0)
		attr->mtime = tree_snapshot_mtime(fs, start_ms);
	cached_release(list);
	return rc;
}

/* ---------------------------------------------------------------- the generic operations */

void tree_defaults_key(const char *repo, char *key, size_t size)
{
	snprintf(key, size, "defaults/%s", repo);
}

void tree_restore_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "restore/%s/%s", n->repo, n->snap);
}

int tree_is_final(struct esfs *fs, const struct node *n)
{
	struct esfs_error err;
	struct cached *list;
	struct snap_row *row;
	int final;

	if (!(node_type(n->kind)->flags & NF_FIXED_WHEN_DONE) ||
	    lookup_snapshot(fs, n, &list, &row, &err))
		return 0;
	final = snaplist_row_final(row);
	cached_release(list);
	return final;
}

int tree_read(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);

	memset(err, 0, sizeof(*err));
	return t->read ? t->read(fs, n, out, err) : -EISDIR;
}

int tree_readlink(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	return node_type(n->kind)->flags & NF_SYMLINK ? tree_read(fs, n, out, err) : -EINVAL;
}

static int stat_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		    struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);

	attr->is_dir = 1;
	attr->mtime = fs->mounted_at;
	attr->writable = (t->flags & NF_MUTABLE) != 0;
	return t->stat ? t->stat(fs, n, attr, err) : 0;
}

/*
 * A file's size is the number of bytes a read gives, but where reading is
 * what acts. A file with a stat of its own asks it first whether it is there.
 */
static int stat_file(struct esfs *fs, const struct node *n, struct node_attr *attr,
		     struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);
	struct buf content = BUF_INIT;
	int rc = t->stat ? t->stat(fs, n, attr, err) : 0;

	if (!rc)
		rc = tree_read(fs, n, &content, err);
	attr->writable = (t->flags & NF_WRITABLE) != 0;
	attr->write_only = (t->flags & NF_WRITE_ONLY) != 0;
	attr->is_link = (t->flags & NF_SYMLINK) != 0;
	attr->mtime = time(NULL);
	attr->size = t->flags & NF_SIZE_UNKNOWN ? 0 : content.len;
	buf_free(&content);
	if (!rc && (t->flags & NF_SNAPSHOT_TIME)) {
		struct node dir = *n;

		dir.kind = NODE_SNAP_DIR;
		rc = stat_snap_dir(fs, &dir, attr, err);
	}
	return rc;
}

int tree_stat(struct esfs *fs, const struct node *n, struct node_attr *attr, struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	memset(attr, 0, sizeof(*attr));
	return node_is_dir(n->kind) ? stat_dir(fs, n, attr, err) : stat_file(fs, n, attr, err);
}

struct fixed_fill {
	struct esfs *fs;
	const struct node *dir;
	tree_entry_fn fn;
	void *ctx;
	struct esfs_error *err;
};

/* 1 when the fixed entry is there, 0 when its own stat says it is not (_latest), or that stat's failure. */
static int fixed_is_there(struct fixed_fill *ff, enum node_kind kind, struct node_attr *attr)
{
	const struct node_type *t = node_type(kind);
	struct node child = *ff->dir;
	int rc;

	if ((t->flags & NF_DIR) || !t->stat)
		return 1;
	child.kind = kind;
	rc = t->stat(ff->fs, &child, attr, ff->err);
	if (rc == -ENOENT && !ff->err->type[0])
		return 0;
	return rc ? rc : 1;
}

static int list_one_fixed(void *ctx, enum node_kind kind)
{
	struct fixed_fill *ff = ctx;
	const struct node_type *t = node_type(kind);
	struct node_attr attr = { .is_dir = (t->flags & NF_DIR) != 0, .mtime = ff->fs->mounted_at };
	int there;

	/* A fixed directory is as stat shows it; a file's size is known once it is read. */
	attr.complete = attr.is_dir && !t->stat;
	attr.writable = attr.is_dir && (t->flags & NF_MUTABLE);
	attr.is_link = (t->flags & NF_SYMLINK) != 0;
	if ((t->flags & NF_UNLISTED) || ((t->flags & NF_WHEN_SIGNING) && !ff->fs->signer))
		return 0;
	there = fixed_is_there(ff, kind, &attr);
	if (there <= 0)
		return there;
	return ff->fn(ff->ctx, t->name, &attr);
}

int tree_list_fixed(struct esfs *fs, const struct node *dir, tree_entry_fn fn, void *ctx,
		    struct esfs_error *err)
{
	struct fixed_fill ff = { fs, dir, fn, ctx, err };

	return node_each_fixed(dir->kind, list_one_fixed, &ff);
}

int tree_list(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);
	struct node_attr attr;
	int rc;

	memset(err, 0, sizeof(*err));
	if (!node_is_dir(n->kind))
		return -ENOTDIR;
	if (t->list)
		return t->list(fs, n, fn, ctx, err);
	rc = tree_stat(fs, n, &attr, err);
	return rc ? rc : tree_list_fixed(fs, n, fn, ctx, err);
}

/* ---------------------------------------------------------------- listings */

struct pending_fill {
	struct esfs *fs;
	tree_entry_fn fn;
	void *ctx;
	const cJSON *registered;
};

static int list_one_pending(void *ctx, const char *name)
{
	struct pending_fill *pf = ctx;
	struct node_attr attr = { .is_dir = 1, .writable = 1, .mtime = pf->fs->mounted_at,
				  .complete = 1 };

	/* Registered by someone else meanwhile: listed once, as the registered one. */
	if (cJSON_GetObjectItemCaseSensitive(pf->registered, name))
		return 0;
	return pf->fn(pf->ctx, name, &attr);
}

/* /: esfs's own folders, every registered repository, and those made with mkdir. */
int list_root(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err)
{
	struct pending_fill pf = { fs, fn, ctx, NULL };
	struct cached *answer;
	const cJSON *repo;
	int rc = tree_list_fixed(fs, n, fn, ctx, err);

	if (rc || (rc = api_repositories(fs->client, &answer, err)))
		return rc;
	cJSON_ArrayForEach(repo, answer->json) {
		struct node_attr attr = { .is_dir = 1, .writable = 1, .mtime = fs->mounted_at,
					  .complete = 1 };

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
	struct snaplist *l;
	int rc = api_snapshot_list(fs->client, n->repo, &answer, err);

	if (rc)
		return rc;
	l = api_snaplist(answer);
	/*
	 * The start time only where known: a listing never asks for it (stat
	 * does), so that a plain ls costs one request.
	 */
	for (size_t i = 0; i < snaplist_count(l) && !rc; i++) {
		struct snap_row *row = snaplist_row(l, i);
		long long start_ms = atomic_load(&row->start_ms);
		struct node_attr attr = { .is_dir = 1, .writable = 1, .mtime = tree_snapshot_mtime(fs, start_ms),
					  .complete = start_ms >= 0 };

		rc = fn(ctx, row->name, &attr);
	}
	cached_release(answer);
	return rc;
}

/* A registered repository: its files and snapshots; a pending one: its _settings.json alone. */
int list_repo_dir(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
		  struct esfs_error *err)
{
	struct node_attr attr = { .writable = 1 };
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc == -ENOENT && !err->type[0] && state_pending_has(fs->state, n->repo))
		return fn(ctx, node_type(NODE_REPO_SETTINGS)->name, &attr);
	if (rc)
		return rc;
	rc = tree_list_fixed(fs, n, fn, ctx, err);
	return rc ? rc : list_snapshots(fs, n, fn, ctx, err);
}
