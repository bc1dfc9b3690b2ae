#include "fs/nodes.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/api.h"
#include "fs/lookup.h"
#include "fs/render.h"

static const char *row_field(const cJSON *row, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, name));

	return s ? s : "";
}

static int row_is_from_snapshot(const cJSON *row)
{
	return !strcmp(row_field(row, "type"), "snapshot");
}

static int index_in_rows(const cJSON *rows, const char *index)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, rows) {
		if (row_is_from_snapshot(row) && !strcmp(row_field(row, "index"), index))
			return 1;
	}
	return 0;
}

int list_recovery(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
		  struct esfs_error *err)
{
	const char *listed = NULL;	/* the index listed last */
	struct cached *answer;
	const cJSON *row;
	int rc = tree_list_fixed(fs, n, fn, ctx, err);

	if (rc || (rc = api_recoveries(fs->client, &answer, err)))
		return rc;
	cJSON_ArrayForEach(row, answer->json) {
		const char *index = row_field(row, "index");
		struct node_attr attr = { .mtime = time(NULL) };
		char json_name[NAME_MAX_BYTES + 8];

		/*
		 * An index appears once, whatever its number of shards. _cat/recovery
		 * gives an index's shards one after another (the engines walk a map of
		 * index to shards), so comparing with the last one listed is enough,
		 * and a listing stays linear in the number of shards.
		 */
		if (!row_is_from_snapshot(row) || (listed && !strcmp(listed, index)))
			continue;
		listed = index;
		snprintf(json_name, sizeof(json_name), "%s.json", index);
		if ((rc = fn(ctx, index, &attr)) || (rc = fn(ctx, json_name, &attr)))
			break;
	}
	cached_release(answer);
	return rc;
}

/*
 * Which index an entry names, and whether it is the .json one. An index may
 * itself end in ".json": the listing decides, the plain name first.
 */
static int resolve_entry(const cJSON *rows, const char *entry, char *index, int *is_json)
{
	size_t len = strlen(entry);

	*is_json = 0;
	if (index_in_rows(rows, entry)) {
		strcpy(index, entry);
		return 0;
	}
	if (len > 5 && !strcmp(entry + len - 5, ".json")) {
		memcpy(index, entry, len - 5);
		index[len - 5] = '\0';
		*is_json = 1;
		if (index_in_rows(rows, index))
			return 0;
	}
	return -ENOENT;
}

static int find_entry(struct esfs *fs, const char *entry, struct cached **answer, char *index,
		      int *is_json, struct esfs_error *err)
{
	int rc = api_recoveries(fs->client, answer, err);

	if (rc)
		return rc;
	if (resolve_entry((*answer)->json, entry, index, is_json)) {
		cached_release(*answer);
		return lookup_not_found(err);
	}
	return 0;
}

static int read_index_json(struct esfs *fs, const char *index, struct buf *out,
			   struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *recovery;
	int rc = api_index_recovery(fs->client, index, 0, &answer, err);

	if (rc)
		return rc;
	/*
	 * {} when the index was deleted and made again since the listing (a
	 * restore of it started over), its shards not assigned yet: no recovery
	 * of that name now, as for an entry that went.
	 */
	recovery = cJSON_GetObjectItemCaseSensitive(answer->json, index);
	rc = recovery ? render_json(out, recovery) : -ENOENT;
	cached_release(answer);
	return rc;
}

int read_recovery_entry(struct esfs *fs, const struct node *n, struct buf *out,
			struct esfs_error *err)
{
	const char *entry = n->entry;
	char index[NAME_MAX_BYTES + 1];
	struct cached *answer;
	int is_json, rc;

	rc = find_entry(fs, entry, &answer, index, &is_json, err);
	if (rc)
		return rc;
	if (!is_json)
		rc = render_recovery(out, answer->json, index);
	cached_release(answer);
	return is_json && !rc ? read_index_json(fs, index, out, err) : rc;
}

/* Some shard of the index still coming from a snapshot, by a fresh answer, not a cached one. */
static int restore_under_way(struct esfs *fs, const char *index, struct esfs_error *err)
{
	const cJSON *shards, *shard;
	struct cached *answer;
	int running = 0;
	int rc = api_index_recovery(fs->client, index, 1, &answer, err);

	if (rc)
		return rc;
	shards = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer->json, index),
						  "shards");
	cJSON_ArrayForEach(shard, shards) {
		const char *type = row_field(shard, "type");
		const char *stage = row_field(shard, "stage");

		if (!strcmp(type, "SNAPSHOT") && strcmp(stage, "DONE"))
			running = 1;
	}
	cached_release(answer);
	return running;
}

/* rm /_recovery/<index>: cancels its restore by deleting the index, as the engines do. */
int unlink_recovery_entry(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	const char *entry = n->entry;
	char index[NAME_MAX_BYTES + 1];
	struct cached *answer;
	int is_json, rc;

	rc = find_entry(fs, entry, &answer, index, &is_json, err);
	if (rc)
		return rc;
	cached_release(answer);
	if (is_json)
		return lookup_refuse(err, EPERM, "remove the index's status file, not its .json, to cancel");
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	rc = restore_under_way(fs, index, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return lookup_refuse(err, EPERM, "the index is not being restored from a snapshot: "
					       "esfs deletes no live index");
	return api_index_delete(fs->client, index, err);
}
