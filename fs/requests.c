/*
 * Files that take a request body: restore.json starts a restore,
 * _settings.json registers or updates a repository, _defaults.json keeps the
 * body of the repository's next snapshots. A body is acted on by the write
 * that completes it, so the engine's refusal is that write's error.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/jsonscan.h"
#include "client/utf8.h"
#include "fs/lookup.h"
#include "fs/names.h"
#include "fs/nodes.h"
#include "fs/render.h"
#include "fs/tree.h"

/* Far beyond any restore or repository body; past it, nothing is kept or sent. */
#define REQUEST_MAX_BYTES (1u << 20)

/*
 * {"request": ..., "status": ..., "answer": ...} under key: what reading
 * restore.json, clone.json or _cleanup shows of the last request.
 */
static void remember_request(struct esfs *fs, const char *key, const char *body,
			     const struct http_response *resp, const struct esfs_error *err)
{
	cJSON *record = cJSON_CreateObject();
	cJSON *answer = resp->body.len ? cJSON_ParseWithLength(resp->body.data, resp->body.len) : NULL;
	struct buf text = BUF_INIT;

	if (body)
		cJSON_AddItemToObject(record, "request", cJSON_Parse(body));
	cJSON_AddNumberToObject(record, "status", (double)resp->status);
	if (answer)
		cJSON_AddItemToObject(record, "answer", answer);
	else if (err->err)
		cJSON_AddStringToObject(record, "error", err->reason);
	if (render_json(&text, record) == 0)
		state_set(fs->state, key, text.data);
	buf_free(&text);
	cJSON_Delete(record);
}

int body_restore(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];
	struct http_response resp = { 0 };
	int rc = lookup_snapshot_exists(fs, n, err);

	if (rc)
		return rc;
	rc = api_snapshot_restore(fs->client, n->repo, n->snap, body->data, body->len, &resp, err);
	tree_restore_key(n, key, sizeof(key));
	remember_request(fs, key, body->data, &resp, err);
	http_response_free(&resp);
	return rc;
}

static void clone_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "clone/%s/%s", n->repo, n->snap);
}

/* The body the engine takes: the user's without "target", with every index when none are named. */
static cJSON *clone_request(const cJSON *json)
{
	cJSON *request = cJSON_Duplicate(json, 1);

	if (!request)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(request, "target");
	if (!cJSON_GetObjectItemCaseSensitive(request, "indices"))
		cJSON_AddStringToObject(request, "indices", "*");
	return request;
}

/* The new snapshot: named as mkdir would take it, and not there yet (EEXIST without a request). */
static int check_clone_target(struct esfs *fs, const struct node *n, const char *target,
			      struct esfs_error *err)
{
	struct node other = *n;
	char why[300];
	int rc;

	if (!target)
		return lookup_refuse(err, EINVAL, "clone.json takes {\"target\": NAME, \"indices\": ...}: "
				     "no target");
	if (name_check_snapshot(target, why, sizeof(why)))
		return lookup_refuse(err, EINVAL, why);
	snprintf(other.snap, sizeof(other.snap), "%s", target);
	rc = lookup_snapshot_exists(fs, &other, err);
	if (rc == 0)
		return lookup_refuse(err, EEXIST, "a snapshot of the target's name exists");
	if (rc != -ENOENT || err->type[0])
		return rc;
	memset(err, 0, sizeof(*err));
	return lookup_writable_repository(fs, n->repo, err);
}

/* clone.json: {"target": NAME, "indices": ...} clones the snapshot, its answer kept for reading. */
int body_clone(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];
	struct http_response resp = { 0 };
	cJSON *json = cJSON_Parse(body->data), *request = NULL;
	const char *target = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "target"));
	char *text = NULL;
	int rc = lookup_snapshot_exists(fs, n, err);

	if (!rc)
		rc = check_clone_target(fs, n, target, err);
	if (!rc && (!(request = clone_request(json)) || !(text = cJSON_PrintUnformatted(request))))
		rc = -ENOMEM;
	if (!rc) {
		rc = api_snapshot_clone(fs->client, n->repo, n->snap, target, text, strlen(text), &resp, err);
		clone_key(n, key, sizeof(key));
		remember_request(fs, key, body->data, &resp, err);
	}
	http_response_free(&resp);
	free(text);
	cJSON_Delete(request);
	cJSON_Delete(json);
	return rc;
}

int read_snap_clone(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];

	clone_key(n, key, sizeof(key));
	return tree_read_snapshot_kept(fs, n, key, out, err);
}

static void cleanup_key(const char *repo, char *key, size_t size)
{
	snprintf(key, size, "cleanup/%s", repo);
}

/* echo run > _cleanup: the engine deletes the blobs no snapshot refers to any more. */
int body_cleanup(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];
	struct http_response resp = { 0 };
	int rc;

	if (!tree_command_is(body, "run"))
		return lookup_refuse(err, EINVAL, "write run to clean the repository up");
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete: a cleanup deletes blobs");
	rc = lookup_writable_repository(fs, n->repo, err);
	if (rc)
		return rc;
	rc = api_repository_cleanup(fs->client, n->repo, &resp, err);
	cleanup_key(n->repo, key, sizeof(key));
	remember_request(fs, key, NULL, &resp, err);
	http_response_free(&resp);
	return rc;
}

int read_repo_cleanup(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];

	cleanup_key(n->repo, key, sizeof(key));
	return tree_read_kept(fs, n->repo, key, "{}\n", out, err);
}

int body_settings(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	int rc;

	if (repository_is_managed_by_aws(n->repo))
		return lookup_refuse(err, EROFS, "Amazon OpenSearch Service manages this repository");
	rc = api_repository_put(fs->client, n->repo, body->data, body->len, err);
	if (rc == 0)
		state_pending_remove(fs->state, n->repo);
	return rc;
}

int tree_keep_json(struct esfs *fs, const char *key, const struct buf *body, struct esfs_error *err)
{
	cJSON *json = cJSON_Parse(body->data);
	struct buf text = BUF_INIT;
	int rc = json ? render_json(&text, json) : lookup_refuse(err, EINVAL, "invalid JSON");

	if (rc == 0)
		rc = state_set(fs->state, key, text.data);
	buf_free(&text);
	cJSON_Delete(json);
	return rc;
}

/* _defaults.json is kept in the mount, indented, for the snapshots mkdir takes. */
int body_defaults(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	char key[NAME_MAX_BYTES + 16];

	tree_defaults_key(n->repo, key, sizeof(key));
	return tree_keep_json(fs, key, body, err);
}

static int act_on_body(struct esfs *fs, const struct node *n, const struct buf *body,
		       struct esfs_error *err)
{
	const struct node_type *t = node_type(n->kind);

	return t->take_body ? t->take_body(fs, n, body, err) : -EACCES;
}

static int only_space(const char *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!strchr(" \t\r\n", data[i]) || !data[i])
			return 0;
	return 1;
}

/* A body refused for its bytes: what is wrong, and where. */
static int refuse_body(struct esfs_error *err, const char *what, size_t at)
{
	char why[96];

	snprintf(why, sizeof(why), "%s at byte %zu: nothing was sent", what, at);
	return lookup_refuse(err, EINVAL, why);
}

/* Acts on the body once the new bytes complete it: 0, or a negative errno. */
static int take_bytes(struct esfs *fs, const struct node *n, struct request_body *rb,
		      const char *data, size_t size, struct esfs_error *err)
{
	size_t at;

	switch (json_scanner_feed(&rb->scan, data, size, &at)) {
	case JSON_INCOMPLETE:
		return 0;
	case JSON_INVALID:
		return refuse_body(err, "invalid JSON", at);
	default:
		rb->done = 1;
		/* JSON is UTF-8; the engine would turn other bytes into U+FFFD, in names too. */
		at = utf8_invalid_at(rb->text.data, rb->text.len);
		if (at < rb->text.len)
			return refuse_body(err, "not UTF-8", at);
		return act_on_body(fs, n, &rb->text, err);
	}
}

int tree_command_is(const struct buf *command, const char *want)
{
	size_t start = 0, end = command->len, len = strlen(want);

	while (start < end && strchr(" \t\r\n", command->data[start]))
		start++;
	while (end > start && strchr(" \t\r\n", command->data[end - 1]))
		end--;
	return end - start == len && !memcmp(command->data + start, want, len);
}

/* A write to a command file (/_esfs/flush) is one command, acted on at once: no JSON, no body. */
static int take_command(struct esfs *fs, const struct node *n, const char *data, size_t size,
			struct esfs_error *err)
{
	struct buf command = BUF_INIT;
	int rc = size > 64 ? lookup_refuse(err, EINVAL, "a command is one short line") : 0;

	if (!rc && buf_append(&command, data, size))
		rc = -ENOMEM;
	if (!rc)
		rc = act_on_body(fs, n, &command, err);
	buf_free(&command);
	return rc < 0 ? rc : (int)size;
}

/* A body is the bytes written since open, in order, as a pipe's: a seek or pwrite back is refused. */
int tree_write(struct esfs *fs, const struct node *n, struct request_body *rb, const char *data,
	       size_t size, off_t offset, struct esfs_error *err)
{
	int started = rb->text.len > 0 || rb->done;
	int rc;

	memset(err, 0, sizeof(*err));
	if (node_type(n->kind)->flags & NF_COMMAND)
		return take_command(fs, n, data, size, err);
	if (!started)
		json_scanner_init(&rb->scan);
	if (rb->refused)
		return rb->refused;	/* the rest of a refused body: said once already */
	if (started && offset != rb->next_offset)
		rc = lookup_refuse(err, ESPIPE, "a request body is written in order, as to a pipe: "
					       "no seek, no pwrite");
	else if (rb->done) {
		rb->next_offset = offset + (off_t)size;
		if (only_space(data, size))
			return (int)size;
		return lookup_refuse(err, EINVAL, "one JSON document per open: open the file again for the next");
	} else if (rb->text.len + size > REQUEST_MAX_BYTES)
		rc = lookup_refuse(err, EFBIG, "a request body is at most 1 MiB: nothing was sent");
	else if (buf_append(&rb->text, data, size))
		return -ENOMEM;
	else
		rc = take_bytes(fs, n, rb, data, size, err);
	if (rc < 0) {
		rb->done = 1;
		rb->refused = rc;
		return rc;
	}
	rb->next_offset = offset + (off_t)size;
	return (int)size;
}

int tree_write_end(struct esfs *fs, const struct node *n, struct request_body *rb,
		   struct esfs_error *err)
{
	(void)fs;
	(void)n;
	memset(err, 0, sizeof(*err));
	if (rb->done || only_space(rb->text.data ? rb->text.data : "", rb->text.len))
		return 0;
	rb->done = 1;
	return lookup_refuse(err, EINVAL, "the JSON document ends before it is complete: nothing was sent");
}
