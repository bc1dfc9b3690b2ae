/* The changes a shell makes with mkdir, rmdir and rm, and the files whose reading acts. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/api.h"
#include "fs/lookup.h"
#include "fs/names.h"
#include "fs/nodes.h"
#include "fs/render.h"
#include "fs/tree.h"

static int refuse_name(struct esfs_error *err, int rc, const char *why)
{
	return rc ? lookup_refuse(err, -rc, why) : 0;
}

/* mkdir /<repo>: a folder that holds _settings.json until that is written. */
int mkdir_repository(struct esfs *fs, const struct node *dir, const char *name, struct esfs_error *err)
{
	char why[300];
	int rc = refuse_name(err, name_check_repository(name, why, sizeof(why)), why);

	(void)dir;
	if (rc)
		return rc;
	rc = lookup_repository_exists(fs, name, err);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT || err->type[0])
		return rc;
	memset(err, 0, sizeof(*err));
	return state_pending_add(fs->state, name);
}

static void defaults_of(struct esfs *fs, const char *repo, struct buf *body)
{
	char key[NAME_MAX_BYTES + 16];

	tree_defaults_key(repo, key, sizeof(key));
	if (state_get(fs->state, key, body) == -ENOENT)
		buf_puts(body, "{}");
}

int tree_take_snapshot(struct esfs *fs, const char *repo, const char *name, const char *body,
		       struct esfs_error *err)
{
	struct buf defaults = BUF_INIT;
	char why[300];
	int rc;

	if (state_pending_has(fs->state, repo))
		return lookup_refuse(err, ENOENT, "the repository is not registered yet: write its _settings.json");
	rc = refuse_name(err, name_check_snapshot(name, why, sizeof(why)), why);
	if (!rc)
		rc = lookup_writable_repository(fs, repo, err);
	if (rc)
		return rc;
	if (!body) {
		defaults_of(fs, repo, &defaults);
		body = defaults.data ? defaults.data : "{}";
	}
	rc = api_snapshot_create(fs->client, repo, name, body, strlen(body), err);
	buf_free(&defaults);
	return rc;
}

/* mkdir /<repo>/<name>: a snapshot, with the repository's _defaults.json as its body. */
int mkdir_snapshot(struct esfs *fs, const struct node *dir, const char *name, struct esfs_error *err)
{
	return tree_take_snapshot(fs, dir->repo, name, NULL, err);
}

int tree_mkdir(struct esfs *fs, const char *path, struct esfs_error *err)
{
	char name[NAME_MAX_BYTES + 1];
	struct node parent;
	int rc;

	memset(err, 0, sizeof(*err));
	rc = path_parse_parent(path, &parent, name);
	if (rc)
		return rc;
	if (!node_type(parent.kind)->mkdir)
		return -EPERM;
	return node_type(parent.kind)->mkdir(fs, &parent, name, err);
}

int rmdir_snapshot(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = lookup_snapshot_exists(fs, n, err);

	if (!rc)
		rc = lookup_writable_repository(fs, n->repo, err);
	if (!rc)
		rc = api_snapshot_delete(fs->client, n->repo, n->snap, err);
	/* Its restore and clone records would otherwise pile up for as long as the mount lives. */
	if (!rc)
		state_forget_snapshot(fs->state, n->repo, n->snap);
	return rc;
}

/* rmdir /<repo>: unregisters it; its snapshots stay in the store. */
int rmdir_repository(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc == -ENOENT && !err->type[0] && state_pending_remove(fs->state, n->repo) == 0)
		return 0;
	return rc ? rc : api_repository_delete(fs->client, n->repo, err);
}

int tree_rmdir(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);

	memset(err, 0, sizeof(*err));
	if (!t->rmdir)
		return node_is_dir(n->kind) ? -EPERM : -ENOTDIR;
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	return t->rmdir(fs, n, err);
}

/*
 * The files of snapshots and repositories are views: removing one does
 * nothing, and it is there again. It must succeed all the same, or "rm -r"
 * would never get to the rmdir that deletes the snapshot.
 */
int tree_unlink(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);
	struct node_attr attr;

	memset(err, 0, sizeof(*err));
	if (node_is_dir(n->kind))
		return -EISDIR;
	if (t->unlink)
		return t->unlink(fs, n, err);
	if (!(t->flags & NF_VIEW))
		return -EPERM;
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	return tree_stat(fs, n, &attr, err);
}

/* Reading _verify runs the verification; its failure is returned at close, after the answer. */
int open_verify(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
		struct esfs_error *err)
{
	struct http_response resp = { 0 };
	int rc;

	/* A verification writes test blobs into the repository's store from every node. */
	if (fs->read_only)
		return lookup_refuse(err, EROFS, "mounted with -o ro: a verification writes into the repository");
	rc = lookup_repository_exists(fs, n->repo, err);
	if (rc)
		return rc;
	rc = api_repository_verify(fs->client, n->repo, &resp, err);
	if (resp.body.len) {
		cJSON *answer = cJSON_ParseWithLength(resp.body.data, resp.body.len);

		if (answer)
			render_json(out, answer);
		else
			buf_printf(out, "%s\n", resp.body.data);
		cJSON_Delete(answer);
	} else if (rc) {
		buf_printf(out, "%s: %s\n", err->type, err->reason);
	}
	http_response_free(&resp);
	/* The answer is read first; close then reports the failure, as cat does. */
	*close_rc = rc;
	return 0;
}

static int snapshot_state(struct esfs *fs, const struct node *n, struct buf *out,
			  struct esfs_error *err)
{
	buf_reset(out);
	memset(err, 0, sizeof(*err));
	return read_snap_state(fs, n, out, err);
}

/* Workers blocked right now (readers of wait, policy runs); at most ESFS_MAX_BLOCKED. */
static atomic_int blocked_workers;

int tree_block_begin(struct esfs_error *err)
{
	if (atomic_fetch_add(&blocked_workers, 1) < ESFS_MAX_BLOCKED)
		return 0;
	atomic_fetch_sub(&blocked_workers, 1);
	return lookup_refuse(err, EAGAIN, "too many operations are waiting already (at most "
			     ESFS_STRINGIFY(ESFS_MAX_BLOCKED) "): try again later");
}

void tree_block_end(void)
{
	atomic_fetch_sub(&blocked_workers, 1);
}

/* Polls every second, and every tenth of one whether the caller gave up. */
int tree_wait_snapshot(struct esfs *fs, const struct node *n, time_t deadline, struct buf *out,
		       struct esfs_error *err)
{
	int rc;

	while ((rc = snapshot_state(fs, n, out, err)) == 0 && !strcmp(out->data, "IN_PROGRESS\n")) {
		if (deadline && time(NULL) >= deadline)
			return lookup_refuse(err, ETIMEDOUT, "the snapshot is still running");
		for (int i = 0; i < 10; i++) {
			if (fs->interrupted && fs->interrupted())
				return -EINTR;
			usleep(100 * 1000);
		}
		/* Asked anew each second: with a long cache_ttl the cached state would lag the end. */
		api_snapshot_list_forget(fs->client, n->repo);
	}
	return rc;
}

/*
 * Blocks until the snapshot is no longer running. Each blocked reader holds
 * a worker thread, so only ESFS_MAX_BLOCKED may: the next gets EAGAIN, and
 * the mount keeps answering everyone else.
 */
int open_wait(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
	      struct esfs_error *err)
{
	int rc = snapshot_state(fs, n, out, err);

	(void)close_rc;
	if (rc || strcmp(out->data, "IN_PROGRESS\n"))
		return rc;
	rc = tree_block_begin(err);
	if (rc)
		return rc;
	rc = tree_wait_snapshot(fs, n, 0, out, err);
	tree_block_end();
	return rc;
}

int tree_open_read(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
		   struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);

	memset(err, 0, sizeof(*err));
	*close_rc = 0;
	return t->open ? t->open(fs, n, out, close_rc, err) : tree_read(fs, n, out, err);
}
