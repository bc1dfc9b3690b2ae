/*
 * Automated backups as files: /<repo>/_policy.json holds the repository's
 * snapshot policy (kept in the mount's state), _policy/plan shows what a run
 * would do now, a write of "run" to _policy/run does it, and _policy/last
 * says how the last run went. The rules themselves are fs/retention.c's.
 *
 * Reading the plan costs the repository's listing and changes nothing; a
 * run takes at most the one due snapshot (a name each period gives once, so
 * two runners or a repeated run never take two) and deletes only what the
 * plan computed after it condemns.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/log.h"
#include "client/snaplist.h"
#include "fs/lookup.h"
#include "fs/nodes.h"
#include "fs/render.h"
#include "fs/retention.h"
#include "fs/tree.h"

/* Keeps each DELETE's path well under the engines' 4 kB request line. */
#define DELETE_NAMES_MAX_BYTES 2048

static void policy_key(const char *repo, char *key, size_t size)
{
	snprintf(key, size, "policy/%s", repo);
}

static void run_key(const char *repo, char *key, size_t size)
{
	snprintf(key, size, "policy-run/%s", repo);
}

/* The repository's policy: 0, -ENOENT when it has none. */
static int load_policy(struct esfs *fs, const char *repo, struct policy *p, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16], why[300];
	struct buf text = BUF_INIT;
	int rc;

	policy_key(repo, key, sizeof(key));
	rc = state_get(fs->state, key, &text);
	if (!rc && policy_parse(text.data, text.len, p, why, sizeof(why)))
		rc = lookup_refuse(err, EINVAL, why);	/* kept by an esfs whose rules were other */
	buf_free(&text);
	return rc;
}

int read_repo_policy(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];

	policy_key(n->repo, key, sizeof(key));
	return tree_read_kept(fs, n->repo, key, "", out, err);
}

/* Checked whole before it is kept: a policy refused leaves the one before in place. */
int body_policy(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16], why[300];
	struct policy p;
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc)
		return rc;
	if (policy_parse(body->data, body->len, &p, why, sizeof(why)))
		return lookup_refuse(err, EINVAL, why);
	policy_free(&p);
	policy_key(n->repo, key, sizeof(key));
	return tree_keep_json(fs, key, body, err);
}

/* rm _policy.json: the repository has no policy from now on; its snapshots stay. */
int unlink_repo_policy(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];
	int rc = lookup_repository_exists(fs, n->repo, err);

	policy_key(n->repo, key, sizeof(key));
	if (!rc)
		state_unset(fs->state, key);
	return rc;
}

/* rmdir _policy, as rm -r of the repository does: it is a view, and stays. */
int rmdir_policy_dir(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	return lookup_repository_exists(fs, n->repo, err);
}

/* Why nothing may be deleted in repo, or NULL. */
static const char *deletion_blocked(struct esfs *fs, const char *repo, struct esfs_error *err, int *rc)
{
	const char *why = NULL;
	struct cached *answer;
	const cJSON *entry;

	*rc = lookup_repository(fs, repo, &answer, &entry, err);
	if (*rc)
		return NULL;
	if (fs->nodelete)
		why = "mounted with -o nodelete";
	else if (fs->read_only)
		why = "mounted with -o ro";
	else if (repository_is_readonly(repo, entry))
		why = "the repository is read-only";
	cached_release(answer);
	return why;
}

/* A plan with the listing it borrows its names from. */
struct planned {
	struct cached *listing;
	struct plan_row *rows;
	struct plan plan;
};

static void planned_free(struct planned *pl)
{
	plan_free(&pl->plan);
	free(pl->rows);
	cached_release(pl->listing);
	memset(pl, 0, sizeof(*pl));
}

/* Made in place, as plans are (fs/retention.h); planned_free it when this returns 0. */
static int plan_now(struct esfs *fs, const char *repo, const struct policy *p, time_t now,
		    struct planned *pl, struct esfs_error *err)
{
	const char *blocked;
	struct snaplist *l;
	size_t count;
	int rc;

	memset(pl, 0, sizeof(*pl));
	blocked = deletion_blocked(fs, repo, err, &rc);
	if (!rc)
		rc = api_snapshot_list(fs->client, repo, &pl->listing, err);
	if (rc)
		return rc;
	l = api_snaplist(pl->listing);
	count = snaplist_count(l);
	pl->rows = calloc(count + 1, sizeof(*pl->rows));
	for (size_t i = 0; pl->rows && i < count; i++)
		pl->rows[i] = (struct plan_row){ snaplist_row(l, i)->name, snaplist_row(l, i)->state };
	rc = pl->rows ? plan_make(p, pl->rows, count, now, blocked, &pl->plan) : -ENOMEM;
	if (rc)
		planned_free(pl);
	return rc;
}

int read_policy_plan(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	struct planned pl;
	struct policy p;
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (rc)
		return rc;
	rc = load_policy(fs, n->repo, &p, err);
	if (rc == -ENOENT)
		return buf_puts(out, "# no policy: write one to the repository's _policy.json\n");
	if (rc)
		return rc;
	rc = plan_now(fs, n->repo, &p, time(NULL), &pl, err);
	if (!rc) {
		rc = plan_render(&pl.plan, &p, out);
		planned_free(&pl);
	}
	policy_free(&p);
	return rc;
}

int read_policy_last(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];

	run_key(n->repo, key, sizeof(key));
	return tree_read_kept(fs, n->repo, key, "{}\n", out, err);
}

/* ---------------------------------------------------------------- a run */

static void forget_snapshot(struct esfs *fs, const char *repo, const char *snap)
{
	char path[2 * NAME_MAX_BYTES + 3];

	if (!fs->forget_path)
		return;
	snprintf(path, sizeof(path), "/%s/%s", repo, snap);
	fs->forget_path(fs, path);
}

/* One DELETE for many names; one at a time when some name is gone already (another runner). */
static int delete_batch(struct esfs *fs, const char *repo, const char *const *names, size_t count,
			const char *joined, struct esfs_error *err)
{
	int rc = api_snapshot_delete(fs->client, repo, joined, err);

	if (rc != -ENOENT || count == 1)
		return rc == -ENOENT ? 0 : rc;
	for (size_t i = 0; i < count && (rc == 0 || rc == -ENOENT); i++) {
		memset(err, 0, sizeof(*err));
		rc = api_snapshot_delete(fs->client, repo, names[i], err);
	}
	return rc == -ENOENT ? 0 : rc;
}

static int delete_condemned(struct esfs *fs, const char *repo, const struct plan *plan, cJSON *deleted,
			    struct esfs_error *err)
{
	const char *names[64];
	struct buf joined = BUF_INIT;
	size_t count = 0;
	int rc = 0;

	for (size_t i = 0; i <= plan->count && !rc; i++) {
		const struct plan_item *it = i < plan->count ? &plan->items[i] : NULL;

		if (it && it->action != PLAN_DELETE)
			continue;
		if (count && (!it || count == 64 || joined.len + strlen(it->name) > DELETE_NAMES_MAX_BYTES)) {
			rc = delete_batch(fs, repo, names, count, joined.data, err);
			for (size_t k = 0; k < count && !rc; k++) {
				cJSON_AddItemToArray(deleted, cJSON_CreateString(names[k]));
				forget_snapshot(fs, repo, names[k]);
				state_forget_snapshot(fs->state, repo, names[k]);
			}
			buf_reset(&joined);
			count = 0;
		}
		if (it && !rc) {
			rc = buf_printf(&joined, "%s%s", count ? "," : "", it->name);
			names[count++] = it->name;
		}
	}
	buf_free(&joined);
	return rc;
}

static void note_blocked(const struct plan *plan, cJSON *record)
{
	cJSON *blocked = cJSON_AddArrayToObject(record, "blocked");

	for (size_t i = 0; i < plan->count; i++)
		if (plan->items[i].action == PLAN_BLOCKED)
			cJSON_AddItemToArray(blocked, cJSON_CreateString(plan->items[i].name));
}

/* The due snapshot: taken when missing, then waited for while it runs; it must succeed. */
static int take_due(struct esfs *fs, const char *repo, const struct policy *p, const struct plan *plan,
		    cJSON *record, struct esfs_error *err)
{
	struct node n = { .kind = NODE_SNAP_DIR };
	struct buf state = BUF_INIT;
	int rc = 0;

	snprintf(n.repo, sizeof(n.repo), "%s", repo);
	snprintf(n.snap, sizeof(n.snap), "%s", plan->due);
	if (!plan->due_state) {
		rc = tree_take_snapshot(fs, repo, plan->due, p->body, err);
		if (rc == -EEXIST)	/* another runner took it this very moment: it is the same one */
			rc = 0;
		if (rc)
			return rc;
		cJSON_AddStringToObject(record, "took", plan->due);
		forget_snapshot(fs, repo, plan->due);
	} else if (strcmp(plan->due_state, "IN_PROGRESS")) {
		return 0;	/* ended already: retention knows what to make of it */
	}
	rc = tree_wait_snapshot(fs, &n, time(NULL) + (time_t)p->wait, &state, err);
	if (rc) {
		buf_free(&state);
		return rc;
	}
	if (state.len)
		state.data[--state.len] = '\0';
	cJSON_AddStringToObject(record, "state", state.data);
	if (strcmp(state.data, "SUCCESS")) {
		char why[400];

		snprintf(why, sizeof(why), "the snapshot %s ended %s: nothing was deleted", plan->due, state.data);
		rc = lookup_refuse(err, EIO, why);
	}
	buf_free(&state);
	return rc;
}

/*
 * A run at one instant: both plans use the same now, so the period cannot
 * change between the take and the deletions. The second plan sees the new
 * snapshot as the engine has it.
 */
static int run_policy(struct esfs *fs, const char *repo, const struct policy *p, cJSON *record,
		      struct esfs_error *err)
{
	time_t now = time(NULL);
	struct planned pl;
	int rc = plan_now(fs, repo, p, now, &pl, err);

	if (!rc) {
		rc = take_due(fs, repo, p, &pl.plan, record, err);
		planned_free(&pl);
	}
	if (rc)
		return rc;
	api_snapshot_list_forget(fs->client, repo);
	rc = plan_now(fs, repo, p, now, &pl, err);
	if (rc)
		return rc;
	note_blocked(&pl.plan, record);
	rc = delete_condemned(fs, repo, &pl.plan, cJSON_AddArrayToObject(record, "deleted"), err);
	planned_free(&pl);
	if (fs->forget_path) {
		char path[NAME_MAX_BYTES + 2];

		snprintf(path, sizeof(path), "/%s", repo);
		fs->forget_path(fs, path);
	}
	return rc;
}

static void remember_run(struct esfs *fs, const char *repo, cJSON *record, int rc,
			 const struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16], at[32];
	struct buf text = BUF_INIT;

	policy_iso_time(time(NULL), at, sizeof(at));
	cJSON_AddStringToObject(record, "ended", at);
	cJSON_AddStringToObject(record, "result", rc ? "failed" : "done");
	if (rc) {
		cJSON_AddStringToObject(record, "errno", errmap_errno_name(-rc));
		cJSON_AddStringToObject(record, "error", err->reason[0] ? err->reason : "");
	}
	run_key(repo, key, sizeof(key));
	if (render_json(&text, record) == 0)
		state_set(fs->state, key, text.data);
	buf_free(&text);
}

/* echo run > /<repo>/_policy/run: holds its worker while the snapshot runs, as wait does. */
int body_policy_run(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char at[32];
	struct policy p;
	cJSON *record;
	int rc;

	if (!tree_command_is(body, "run"))
		return lookup_refuse(err, EINVAL, "write run to run the policy");
	rc = lookup_repository_exists(fs, n->repo, err);
	if (rc)
		return rc;
	rc = load_policy(fs, n->repo, &p, err);
	if (rc == -ENOENT)
		return lookup_refuse(err, ENOENT, "the repository has no policy: write its _policy.json");
	if (rc)
		return rc;
	rc = tree_block_begin(err);
	if (rc) {
		policy_free(&p);
		return rc;
	}
	record = cJSON_CreateObject();
	policy_iso_time(time(NULL), at, sizeof(at));
	cJSON_AddStringToObject(record, "started", at);
	rc = run_policy(fs, n->repo, &p, record, err);
	tree_block_end();
	remember_run(fs, n->repo, record, rc, err);
	log_info("policy run of %s: %s", n->repo, rc ? err->reason : "done");
	cJSON_Delete(record);
	policy_free(&p);
	return rc;
}
