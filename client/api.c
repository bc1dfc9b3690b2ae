#include "client/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/urlenc.h"

/*
 * _cat/snapshots gives, for every snapshot, its state and start time in a few
 * dozen bytes, where GET _snapshot would send each one's index list too; and
 * verbose=false, the lighter form of the latter, drops the start time that
 * "ls -lt" needs. It has the same columns on every Elasticsearch and
 * OpenSearch version esfs supports.
 */
#define SNAPSHOT_LIST_QUERY "?format=json&h=id,status,start_epoch,end_epoch"

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

static int get_target(struct client *cl, char *target, struct cached **out, struct esfs_error *err)
{
	int rc;

	if (!target) {
		errmap_set(err, ENOMEM, "out_of_memory", "request target");
		return -ENOMEM;
	}
	rc = client_get(cl, target, out, err);
	free(target);
	return rc;
}

int api_cluster_info(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return client_get(cl, "/", out, err);
}

int api_cluster_health(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return client_get(cl, "/_cluster/health", out, err);
}

int api_repositories(struct client *cl, struct cached **out, struct esfs_error *err)
{
	return client_get(cl, "/_snapshot", out, err);
}

int api_snapshot_list(struct client *cl, const char *repo, struct cached **out, struct esfs_error *err)
{
	return get_target(cl, api_target("/_cat/snapshots", repo, NULL, SNAPSHOT_LIST_QUERY), out, err);
}

int api_snapshot_info(struct client *cl, const char *repo, const char *snap, struct cached **out,
		      struct esfs_error *err)
{
	return get_target(cl, api_target("/_snapshot", repo, snap, NULL), out, err);
}

int api_snapshot_status(struct client *cl, const char *repo, const char *snap, struct cached **out,
			struct esfs_error *err)
{
	return get_target(cl, api_target("/_snapshot", repo, snap, "/_status"), out, err);
}

const cJSON *api_list_find(const cJSON *list, const char *name)
{
	const cJSON *row;

	cJSON_ArrayForEach(row, list) {
		const char *id = api_list_name(row);

		if (id && !strcmp(id, name))
			return row;
	}
	return NULL;
}

const char *api_list_name(const cJSON *row)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "id"));
}

const char *api_list_state(const cJSON *row)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "status"));
}

long long api_list_start_epoch(const cJSON *row)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "start_epoch"));

	return s ? strtoll(s, NULL, 10) : 0;
}

const cJSON *api_single_snapshot(const cJSON *answer)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(answer, "snapshots"), 0);
}
