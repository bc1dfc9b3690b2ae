/*
 * Every kind of node in the tree, in one table (fs/nodes.c): its name, its
 * directory, what it allows, and the handlers that make it. Path parsing,
 * the fixed entries of each directory and the dispatch of stat, read, open,
 * write, unlink, mkdir, rmdir and readdir all come from the table, so adding
 * a kind of file is a row there and a handler in the file it belongs to.
 */
#ifndef ESFS_NODES_H
#define ESFS_NODES_H

#include "fs/tree.h"

enum node_flag {
	NF_DIR = 1 << 0,
	NF_MUTABLE = 1 << 1,		/* a directory where mkdir, rmdir or rm act: shown 0755 */
	NF_WRITABLE = 1 << 2,		/* a file that takes a request body: shown 0644 */
	NF_UNLISTED = 1 << 3,		/* readdir leaves it out: its read acts (see FIXED_UNLISTED) */
	NF_SIZE_UNKNOWN = 1 << 4,	/* stat says 0, as /proc does: the bytes are known once read */
	NF_VIEW = 1 << 5,		/* unlink does nothing and succeeds, so that rm -r reaches rmdir */
	NF_SNAPSHOT_TIME = 1 << 6,	/* mtime is the snapshot's start time */
	NF_WHEN_SIGNING = 1 << 7,	/* there only when esfs signs for AWS */
	NF_FIXED_WHEN_DONE = 1 << 8,	/* its bytes never change once the snapshot has ended */
	NF_WRITE_ONLY = 1 << 9,		/* a read gives nothing; shown 0200 */
	NF_SYMLINK = 1 << 10,		/* a symbolic link: its read is the target */
	NF_COMMAND = 1 << 11,		/* with NF_WRITABLE: each write is a command acted on at once
					   (a word, not JSON) */
};

/* Where a node named by the cluster keeps its name in struct node. */
enum node_slot {
	SLOT_NONE, SLOT_REPO, SLOT_SNAP, SLOT_ENTRY,
	SLOT_REPO_SNAP,	/* "<repo>,<snapshot>": neither name may hold a comma */
};

typedef int node_read_fn(struct esfs *fs, const struct node *n, struct buf *out,
			 struct esfs_error *err);
typedef int node_open_fn(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
			 struct esfs_error *err);
typedef int node_stat_fn(struct esfs *fs, const struct node *n, struct node_attr *attr,
			 struct esfs_error *err);
typedef int node_list_fn(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
			 struct esfs_error *err);
typedef int node_body_fn(struct esfs *fs, const struct node *n, const struct buf *body,
			 struct esfs_error *err);
typedef int node_change_fn(struct esfs *fs, const struct node *n, struct esfs_error *err);
typedef int node_mkdir_fn(struct esfs *fs, const struct node *dir, const char *name,
			  struct esfs_error *err);

struct node_type {
	const char *name;	/* its fixed name, or NULL for one the cluster names */
	enum node_kind parent;
	unsigned flags;		/* NF_* */
	enum node_slot slot;	/* for a node the cluster names: where its name goes */
	node_read_fn *read;	/* a file's bytes, for read and stat */
	node_open_fn *open;	/* an open for reading that does more than read (blocks, acts) */
	node_body_fn *take_body;	/* a complete request body written to it */
	node_change_fn *unlink;	/* what rm does, when it is more than a view's nothing */
	node_stat_fn *stat;	/* whether it exists (a directory: and its times) */
	node_list_fn *list;	/* a directory: all its entries (default: the fixed ones) */
	node_mkdir_fn *mkdir;	/* a directory: what mkdir of a new name in it does */
	node_change_fn *rmdir;	/* what rmdir of it does */
};

const struct node_type *node_type(enum node_kind kind);
/*
 * The kind of the entry called name in a directory of kind dir: a fixed
 * entry, or else one the cluster names (never starting with '_'). -ENOENT
 * when there is none.
 */
int node_child(enum node_kind dir, const char *name, enum node_kind *kind);
/* Calls fn for each kind whose parent is dir and that has a fixed name, in table order. */
int node_each_fixed(enum node_kind dir, int (*fn)(void *ctx, enum node_kind kind), void *ctx);

/* The handlers, each in the file of its concern. */
/* fs/tree.c */
node_read_fn read_cluster_health, read_cluster_info, read_esfs_stats, read_esfs_errors,
	read_esfs_metrics, read_esfs_aws, read_repo_settings, read_repo_defaults, read_repo_exists,
	read_snap_state, read_snap_info, read_snap_status, read_snap_progress, read_snap_indices,
	read_snap_failures, read_snap_restore, read_snap_size, read_snap_restore_plan;
node_stat_fn stat_repo_dir, stat_snap_dir;
node_list_fn list_root, list_repo_dir;
/* fs/actions.c */
node_open_fn open_verify, open_wait;
node_mkdir_fn mkdir_repository, mkdir_snapshot;
node_change_fn rmdir_repository, rmdir_snapshot;
/* fs/requests.c */
node_body_fn body_restore, body_restore_plan, body_settings, body_defaults, body_clone, body_cleanup;
node_read_fn read_snap_clone, read_repo_cleanup;
/* fs/service.c */
node_read_fn read_nothing;
node_body_fn body_flush;
/* fs/views.c */
node_list_fn list_indices, list_index_dir;
node_stat_fn stat_index_dir, stat_repo_latest;
node_read_fn read_index_link, read_repo_latest;
/* fs/policy.c */
node_read_fn read_repo_policy, read_policy_plan, read_policy_last;
node_body_fn body_policy, body_policy_run;
node_change_fn unlink_repo_policy, rmdir_policy_dir;
/* fs/drill.c */
node_read_fn read_snap_drill;
node_open_fn open_drill_wait;
node_body_fn body_drill;
node_change_fn unlink_snap_drill;
/* fs/recovery.c */
node_list_fn list_recovery;
node_read_fn read_recovery_entry;
node_change_fn unlink_recovery_entry;

#endif
