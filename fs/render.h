/*
 * The plain files of the tree, made from the engine's JSON answers. Pure
 * functions of their input, so that unit tests can feed them answers
 * recorded from real engines.
 */
#ifndef ESFS_RENDER_H
#define ESFS_RENDER_H

#include "client/buf.h"

struct cJSON;

/* Pretty JSON and a final newline, as jq and editors expect. */
int render_json(struct buf *out, const struct cJSON *json);
/*
 * A repository as GET _snapshot gives it, with the values of settings that
 * hold secrets (secret_access_key, password, session_token, sas_token, key,
 * ...) shown as "<redacted>": a file of the tree may be read by anyone the
 * mount lets in, and by every backup program that walks it.
 */
int render_repository(struct buf *out, const struct cJSON *entry);
/* A string member as one line; -ENODATA when absent. */
int render_line(struct buf *out, const struct cJSON *obj, const char *member);
/* "<percent>% shards <done>/<total> bytes <done>/<total>" from a _status snapshot. */
int render_progress(struct buf *out, const struct cJSON *status);
/* "total_bytes N", "total_files N", "incremental_bytes N", "incremental_files N", from _status. */
int render_size(struct buf *out, const struct cJSON *status);
/* "<index> <shard> <status> <reason>" per shard failure; nothing when there are none. */
int render_failures(struct buf *out, const struct cJSON *snapshot);

/*
 * One index's restore, from its _cat/recovery rows of type snapshot:
 * "<STAGE> files <pct>% <done>/<total> bytes <pct>% <done>/<total> shards <done>/<n> snapshot <repo>/<snap>".
 * The stage is that of the least advanced shard.
 */
int render_recovery(struct buf *out, const struct cJSON *rows, const char *index);

#endif
