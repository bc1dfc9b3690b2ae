/*
 * A restore's preflight (<snapshot>/restore.plan): which indices a restore
 * body selects from the snapshot, the name each gets after rename_pattern
 * and rename_replacement, and every reason the engine would refuse it that
 * can be known before asking. Pure: the body, the snapshot's answers and the
 * live cluster's indices come in, the plan goes out; fs/preflight.c gathers
 * them and keeps the plan.
 */
#ifndef ESFS_RESTOREPLAN_H
#define ESFS_RESTOREPLAN_H

#include <stddef.h>

#include "client/buf.h"

struct cJSON;

struct restore_inputs {
	const struct cJSON *body;	/* the restore body: a JSON object */
	const struct cJSON *snapshot;	/* one snapshot of GET _snapshot/<repo>/<snap> */
	const struct cJSON *status;	/* one snapshot of its _status, or NULL: sizes and shard counts */
	const struct cJSON *indices;	/* _cat/indices rows: index, status, pri */
	const struct cJSON *aliases;	/* _cat/aliases rows: alias */
	int managed;			/* Amazon OpenSearch Service: its own indices are refused */
};

/*
 * Renders the plan into out: a header, then one tab-separated line per
 * selected index (verdict, snapshot index, target, bytes, reason). Returns
 * 0 when the engine should take the restore, or the errno of its first
 * refusal with why saying it (ENOENT: an index not in the snapshot; EINVAL:
 * a body or a rename the engine refuses; EEXIST: a live index or alias in
 * the way; EPERM: an index the engine or service keeps to itself;
 * EOPNOTSUPP: a rename_pattern esfs cannot work out as Java does).
 */
int restore_plan_make(const struct restore_inputs *in, struct buf *out, char *why, size_t why_len);
/*
 * The selection alone, for the drill: selected[i] (room for every string of
 * the snapshot's "indices", in their order) says whether body's "indices"
 * and "ignore_unavailable" pick the i-th. 0, or -ENOENT / -EOPNOTSUPP with why.
 */
int restore_select(const struct cJSON *body, const struct cJSON *snapshot, unsigned char *selected,
		   char *why, size_t why_len);

#endif
