/*
 * <snapshot>/restore.plan: a write takes a restore body, as restore.json
 * does, and restores nothing. It reads the snapshot (its indices and, from
 * _status, their sizes and shard counts) and the live cluster's indices and
 * aliases, and fs/restoreplan.c works out what the engine would do. The
 * write's errno is the plan's verdict; a read shows the last plan.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "fs/lookup.h"
#include "fs/nodes.h"
#include "fs/render.h"
#include "fs/restoreplan.h"
#include "fs/tree.h"

static void plan_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "restore-plan/%s/%s", n->repo, n->snap);
}

/* The mount's state keeps JSON: the plan's text goes in as a string. */
static void keep_plan(struct esfs *fs, const struct node *n, const struct buf *plan)
{
	char key[2 * NAME_MAX_BYTES + 24];
	cJSON *record = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(record, "plan", plan->data ? plan->data : "");
	text = cJSON_PrintUnformatted(record);
	plan_key(n, key, sizeof(key));
	if (text)
		state_set(fs->state, key, text);
	cJSON_free(text);
	cJSON_Delete(record);
}

struct preflight_answers {
	struct cached *info, *status, *aliases;
	cJSON *indices;		/* _cat/indices of every index, past the cache */
};

static void answers_release(struct preflight_answers *a)
{
	cached_release(a->info);
	cached_release(a->status);
	cJSON_Delete(a->indices);
	cached_release(a->aliases);
}

/* Every live index, closed and hidden ones too (the drill's call): the names a restore would run into. */
static int live_indices(struct esfs *fs, cJSON **out, struct esfs_error *err)
{
	struct buf body = BUF_INIT;
	int rc = api_cat_indices(fs->client, "*", &body, err);

	if (rc == 0 && !(*out = cJSON_ParseWithLength(body.data, body.len)))
		rc = lookup_refuse(err, EPROTO, "_cat/indices answered something that is not JSON");
	buf_free(&body);
	return rc;
}

/* Four reads: the snapshot, its _status, the live indices and aliases; nothing that changes anything. */
static int gather(struct esfs *fs, const struct node *n, struct preflight_answers *a, struct esfs_error *err)
{
	int rc = api_snapshot_info(fs->client, n->repo, n->snap, &a->info, err);

	if (!rc)
		rc = api_snapshot_status(fs->client, n->repo, n->snap, &a->status, err);
	if (!rc)
		rc = live_indices(fs, &a->indices, err);
	if (!rc)
		rc = api_live_aliases(fs->client, &a->aliases, err);
	return rc;
}

int body_restore_plan(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	struct preflight_answers a = { 0 };
	cJSON *json = cJSON_Parse(body->data);
	struct buf plan = BUF_INIT;
	char why[1000] = "";
	int rc = lookup_snapshot_exists(fs, n, err);

	if (!rc)
		rc = gather(fs, n, &a, err);
	if (!rc) {
		struct restore_inputs in = {
			.body = json,
			.snapshot = api_single_snapshot(a.info->json),
			.status = api_single_snapshot(a.status->json),
			.indices = a.indices,
			.aliases = a.aliases->json,
			/* A managed domain is reached with SigV4; esfs signs for no one else. */
			.managed = fs->signer != NULL,
		};

		rc = restore_plan_make(&in, &plan, why, sizeof(why));
		if (rc != -ENOMEM)
			keep_plan(fs, n, &plan);
		if (rc && rc != -ENOMEM)
			rc = lookup_refuse(err, -rc, why);
	}
	buf_free(&plan);
	cJSON_Delete(json);
	answers_release(&a);
	return rc;
}

int read_snap_restore_plan(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	static const char hint[] = "# write a restore body here, as to restore.json: esfs checks it against "
				   "the cluster and restores nothing\n";
	char key[2 * NAME_MAX_BYTES + 24];
	struct buf kept = BUF_INIT;
	cJSON *record;
	const char *text;
	int rc = lookup_snapshot_exists(fs, n, err);

	if (rc)
		return rc;
	plan_key(n, key, sizeof(key));
	if (state_get(fs->state, key, &kept) != 0)
		return buf_puts(out, hint);
	record = cJSON_Parse(kept.data);
	text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(record, "plan"));
	rc = buf_puts(out, text ? text : hint);
	cJSON_Delete(record);
	buf_free(&kept);
	return rc;
}
