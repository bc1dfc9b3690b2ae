/* The changes a shell makes with mkdir, rmdir and rm, and the files whose reading acts. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/api.h"
#include "fs/lookup.h"
#include "fs/names.h"
#include "fs/recovery.h"
#include "fs/render.h"
#include "fs/tree.h"

static int refuse_name(struct esfs_error *err, int rc, const char *why)
{
	return rc ? lookup_refuse(err, -rc, why) : 0;
}

/* The registered repository, refused with EROFS when it is read-only. */
static int writable_repository(struct esfs *fs, const char *repo, struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *entry;
	int rc = lookup_repository(fs, repo, &answer, &entry, err);

	if (rc)
		return rc;
	if (repository_is_readonly(repo, entry))
		rc = lookup_refuse(err, EROFS, "the repository is read-only");
	cached_release(answer);
	return rc;
}

/* mkdir /<repo>: a folder that holds _settings.json until that is written. */
static int make_pending_repository(struct esfs *fs, const char *name, struct esfs_error *err)
{
	char why[300];
	int rc = refuse_name(err, name_check_repository(name, why, sizeof(why)), why);

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

	snprintf(key, sizeof(key), "defaults/%s", repo);
	if (state_get(fs->state, key, body) == -ENOENT)
		buf_puts(body, "{}");
}

/* mkdir /<repo>/<name>: a snapshot, with the repository's _defaults.json as its body. */
static int take_snapshot(struct esfs *fs, const char *repo, const char *name, struct esfs_error *err)
{
	struct buf body = BUF_INIT;
	char why[300];
	int rc = refuse_name(err, name_check_snapshot(name, why, sizeof(why)), why);

	if (!rc)
		rc = writable_repository(fs, repo, err);
	if (rc)
		return rc;
	defaults_of(fs, repo, &body);
	rc = api_snapshot_create(fs->client, repo, name, body.data, body.len, err);
	buf_free(&body);
	return rc;
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
	if (parent.kind == NODE_ROOT)
		return make_pending_repository(fs, name, err);
	if (parent.kind == NODE_REPO_DIR) {
		if (state_pending_has(fs->state, parent.repo))
			return lookup_refuse(err, ENOENT, "the repository is not registered yet: write its _settings.json");
		return take_snapshot(fs, parent.repo, name, err);
	}
	return -EPERM;
}

static int delete_snapshot(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = lookup_snapshot_exists(fs, n, err);

	if (!rc)
		rc = writable_repository(fs, n->repo, err);
	return rc ? rc : api_snapshot_delete(fs->client, n->repo, n->snap, err);
}

/* rmdir /<repo>: unregisters it; its snapshots stay in the store. */
static int remove_repository(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc == -ENOENT && !err->type[0] && state_pending_remove(fs->state, n->repo) == 0)
		return 0;
	return rc ? rc : api_repository_delete(fs->client, n->repo, err);
}

int tree_rmdir(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	if (n->kind != NODE_SNAP_DIR && n->kind != NODE_REPO_DIR)
		return node_is_dir(n->kind) ? -EPERM : -ENOTDIR;
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	if (n->kind == NODE_SNAP_DIR)
		return delete_snapshot(fs, n, err);
	return remove_repository(fs, n, err);
}

/*
 * The files of snapshots and repositories are views: removing one does
 * nothing, and it is there again. It must succeed all the same, or "rm -r"
 * would never get to the rmdir that deletes the snapshot.
 */
int tree_unlink(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	struct node_attr attr;
	int rc;

	memset(err, 0, sizeof(*err));
	if (node_is_dir(n->kind))
		return -EISDIR;
	if (n->kind == NODE_RECOVERY_ENTRY)
		return recovery_cancel(fs, n->entry, err);
	if (!node_in_snapshot(n->kind) && n->kind != NODE_REPO_SETTINGS &&
	    n->kind != NODE_REPO_DEFAULTS && n->kind != NODE_REPO_VERIFY)
		return -EPERM;
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	rc = tree_stat(fs, n, &attr, err);
	return rc;
}

static int verify_repository(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
			     struct esfs_error *err)
{
	struct http_response resp = { 0 };
	int rc = lookup_repository_exists(fs, n->repo, err);

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
	struct node state = *n;

	state.kind = NODE_SNAP_STATE;
	buf_reset(out);
	return tree_read(fs, &state, out, err);
}

/* Polls every second, and every tenth of one whether the reader gave up. */
static int wait_for_snapshot(struct esfs *fs, const struct node *n, struct buf *out,
			     struct esfs_error *err)
{
	int rc;

	while ((rc = snapshot_state(fs, n, out, err)) == 0 && !strcmp(out->data, "IN_PROGRESS\n")) {
		for (int i = 0; i < 10; i++) {
			if (fs->interrupted && fs->interrupted())
				return -EINTR;
			usleep(100 * 1000);
		}
	}
	return rc;
}

int tree_open_read(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
		   struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	*close_rc = 0;
	if (n->kind == NODE_REPO_VERIFY)
		return verify_repository(fs, n, out, close_rc, err);
	if (n->kind == NODE_SNAP_WAIT)
		return wait_for_snapshot(fs, n, out, err);
	return tree_read(fs, n, out, err);
}
