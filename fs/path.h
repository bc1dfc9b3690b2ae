/*
 * What a path names in the tree, by its shape alone. Whether the repository
 * or snapshot exists is for tree.c to ask the cluster.
 *
 *   /_cluster/{health,info.json}   /_esfs/{stats,errors}
 *   /<repo>/_settings.json         /<repo>/<snapshot>/{state,info.json,...}
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
	NODE_REPO_DIR,
	NODE_REPO_SETTINGS,
	NODE_SNAP_DIR,
	NODE_SNAP_STATE,
	NODE_SNAP_INFO,
	NODE_SNAP_STATUS,
	NODE_SNAP_PROGRESS,
	NODE_SNAP_INDICES,
	NODE_SNAP_FAILURES,
};

#define NAME_MAX_BYTES 255

struct node {
	enum node_kind kind;
	char repo[NAME_MAX_BYTES + 1];
	char snap[NAME_MAX_BYTES + 1];
};

/* A file or directory that a directory of the given kind always holds. */
struct fixed_entry {
	const char *name;
	enum node_kind kind;
};

/* 0, or -ENOENT for a path no node can have, -ENAMETOOLONG for an overlong name. */
int path_parse(const char *path, struct node *n);
int node_is_dir(enum node_kind kind);
/* A file inside a snapshot's directory. */
int node_in_snapshot(enum node_kind kind);
/* The entries every directory of this kind holds, ending with a NULL name. */
const struct fixed_entry *node_fixed_entries(enum node_kind dir);

#endif
