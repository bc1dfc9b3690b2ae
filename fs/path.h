/*
 * What a path names in the tree, by its shape alone (the table of kinds is
 * fs/nodes.c). Whether the repository or snapshot exists is for tree.c to
 * ask the cluster.
 *
 *   /_cluster/{health,info.json}   /_esfs/{stats,errors,metrics,flush}   /_recovery/<index>[.json]
 *   /<repo>/{_settings.json,_defaults.json,_policy.json}, and _verify by name
 *   /<repo>/_policy/{plan,run,last}   /<repo>/_latest (a link)
 *   /_indices/<index>/<repo>,<snapshot> (links to /<repo>/<snapshot>)
 *   /<repo>/<snapshot>/{state,info.json,...,restore.json}, and wait by name
 *
 * Names starting with "_" are esfs's own: the engines refuse them for
 * repositories and snapshots, so they never clash.
 */
#ifndef ESFS_PATH_H
#define ESFS_PATH_H

#include <stddef.h>

enum node_kind {
	NODE_ROOT,
	NODE_CLUSTER_DIR,
	NODE_CLUSTER_HEALTH,
	NODE_CLUSTER_INFO,
	NODE_ESFS_DIR,
	NODE_ESFS_STATS,
	NODE_ESFS_ERRORS,
	NODE_ESFS_AWS,		/* only when signing for AWS */
	NODE_ESFS_METRICS,
	NODE_ESFS_FLUSH,	/* write-only: a write of 1 drops the cache */
	NODE_RECOVERY_DIR,
	NODE_RECOVERY_ENTRY,	/* <index> or <index>.json: which one, only the listing says */
	NODE_INDICES_DIR,	/* /_indices: every index some snapshot holds */
	NODE_INDEX_DIR,		/* /_indices/<index>: the snapshots that hold it */
	NODE_INDEX_LINK,	/* /_indices/<index>/<repo>,<snapshot> -> ../../<repo>/<snapshot> */
	NODE_REPO_DIR,
	NODE_REPO_SETTINGS,
	NODE_REPO_DEFAULTS,
	NODE_REPO_CLEANUP,	/* _cleanup: "run" cleans the repository up; read: the last result */
	NODE_REPO_VERIFY,
	NODE_REPO_LATEST,	/* _latest -> the newest snapshot that succeeded */
	NODE_REPO_POLICY,	/* _policy.json: the repository's snapshot policy */
	NODE_POLICY_DIR,	/* _policy/: what the policy would do, and doing it */
	NODE_POLICY_PLAN,
	NODE_POLICY_RUN,	/* write-only: "run" runs the policy */
	NODE_POLICY_LAST,
	NODE_SNAP_DIR,
	NODE_SNAP_STATE,
	NODE_SNAP_INFO,
	NODE_SNAP_STATUS,
	NODE_SNAP_PROGRESS,
	NODE_SNAP_INDICES,
	NODE_SNAP_FAILURES,
	NODE_SNAP_RESTORE,
	NODE_SNAP_RESTORE_PLAN,	/* restore.plan: a restore body checked, nothing restored */
	NODE_SNAP_WAIT,
	NODE_SNAP_CLONE,	/* clone.json: {"target": NAME, "indices": ...} clones the snapshot */
	NODE_SNAP_SIZE,
	NODE_SNAP_DRILL,	/* drill: a write restores, counts and deletes the indices (fs/drill.c) */
	NODE_SNAP_DRILL_WAIT,	/* drill-wait: blocks while the drill runs, then its report */
	NODE_KIND_COUNT,	/* not a kind: how many there are */
};

#define NAME_MAX_BYTES 255

struct node {
	enum node_kind kind;
	char repo[NAME_MAX_BYTES + 1];
	char snap[NAME_MAX_BYTES + 1];
	char entry[NAME_MAX_BYTES + 1];	/* a /_recovery entry, or the index of /_indices/<index> */
};

/*
 * 0, or -ENOENT for a path no node can have, -ENAMETOOLONG for an overlong
 * name, -EINVAL for a name that is not valid UTF-8 (the engine would decode
 * it into another name, so it must never reach a request).
 */
int path_parse(const char *path, struct node *n);
int node_is_dir(enum node_kind kind);
/* A file inside a snapshot's directory. */
int node_in_snapshot(enum node_kind kind);
/* A file that takes writes: a request body, or _defaults.json. */
int node_is_writable(enum node_kind kind);
/*
 * Splits "/a/b/name" into the parent's node and the last name, for mkdir,
 * which names what does not exist yet. -ENOENT when there is no parent.
 */
int path_parse_parent(const char *path, struct node *parent, char *name);

#endif
