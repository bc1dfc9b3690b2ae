#include "fs/lookup.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "client/api.h"

int lookup_not_found(struct esfs_error *err)
{
	memset(err, 0, sizeof(*err));
	err->err = ENOENT;
	return -ENOENT;
}

int lookup_refuse(struct esfs_error *err, int errnum, const char *reason)
{
	errmap_set(err, errnum, "esfs_refused", "%s", reason);
	return -errnum;
}

int lookup_repository(struct esfs *fs, const char *repo, struct cached **answer,
		      const cJSON **entry, struct esfs_error *err)
{
	int rc = api_repositories(fs->client, answer, err);

	if (rc)
		return rc;
	*entry = cJSON_GetObjectItemCaseSensitive((*answer)->json, repo);
	if (!cJSON_IsObject(*entry)) {
		cached_release(*answer);
		*answer = NULL;
		return lookup_not_found(err);
	}
	return 0;
}

int lookup_snapshot(struct esfs *fs, const struct node *n, struct cached **answer,
		    struct snap_row **row, struct esfs_error *err)
{
	struct cached *repos;
	const cJSON *entry;
	int rc = lookup_repository(fs, n->repo, &repos, &entry, err);

	if (rc)
		return rc;
	cached_release(repos);
	rc = api_snapshot_list(fs->client, n->repo, answer, err);
	if (rc)
		return rc;
	*row = snaplist_find(api_snaplist(*answer), n->snap);
	if (!*row) {
		cached_release(*answer);
		*answer = NULL;
		return lookup_not_found(err);
	}
	return 0;
}

int lookup_repository_exists(struct esfs *fs, const char *repo, struct esfs_error *err)
{
	struct cached *answer;
	const cJSON *entry;
	int rc = lookup_repository(fs, repo, &answer, &entry, err);

	if (rc == 0)
		cached_release(answer);
	return rc;
}

int lookup_snapshot_exists(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	struct cached *list;
	struct snap_row *row;
	int rc = lookup_snapshot(fs, n, &list, &row, err);

	if (rc == 0)
		cached_release(list);
	return rc;
}

static int is_true(const cJSON *item)
{
	return cJSON_IsTrue(item) || (cJSON_IsString(item) && !strcmp(item->valuestring, "true"));
}

int repository_is_managed_by_aws(const char *name)
{
	return !strcmp(name, "cs-automated") || !strcmp(name, "cs-automated-enc");
}

int repository_is_readonly(const char *name, const cJSON *entry)
{
	const cJSON *settings = cJSON_GetObjectItemCaseSensitive(entry, "settings");

	if (repository_is_managed_by_aws(name))
		return 1;
	return is_true(cJSON_GetObjectItemCaseSensitive(settings, "readonly")) ||
	       is_true(cJSON_GetObjectItemCaseSensitive(settings, "read_only"));
}

int lookup_writable_repository(struct esfs *fs, const char *repo, struct esfs_error *err)
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
