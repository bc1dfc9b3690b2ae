/* The table of node kinds (see fs/nodes.h): one row per kind, indexed by kind. */
#include "fs/nodes.h"

#include <errno.h>
#include <string.h>

#define SNAP_FILE (NF_VIEW | NF_SNAPSHOT_TIME)
/* What the engine said of a snapshot that has ended: the kernel may keep it in its page cache. */
#define SNAP_DETAIL (SNAP_FILE | NF_FIXED_WHEN_DONE)

/* Where a row starts: its name (NULL: the cluster names it) and its directory. */
#define IN(name_, parent_) .name = (name_), .parent = (parent_)

static const struct node_type types[] = {
	[NODE_ROOT] = { IN(NULL, NODE_ROOT), .flags = NF_DIR | NF_MUTABLE,
			.list = list_root, .mkdir = mkdir_repository },

	[NODE_CLUSTER_DIR] = { IN("_cluster", NODE_ROOT), .flags = NF_DIR },
	[NODE_CLUSTER_HEALTH] = { IN("health", NODE_CLUSTER_DIR), .read = read_cluster_health },
	[NODE_CLUSTER_INFO] = { IN("info.json", NODE_CLUSTER_DIR), .read = read_cluster_info },

	[NODE_ESFS_DIR] = { IN("_esfs", NODE_ROOT), .flags = NF_DIR },
	[NODE_ESFS_STATS] = { IN("stats", NODE_ESFS_DIR), .read = read_esfs_stats },
	[NODE_ESFS_ERRORS] = { IN("errors", NODE_ESFS_DIR), .read = read_esfs_errors },
	[NODE_ESFS_AWS] = { IN("aws", NODE_ESFS_DIR), .flags = NF_WHEN_SIGNING, .read = read_esfs_aws },
	[NODE_ESFS_METRICS] = { IN("metrics", NODE_ESFS_DIR), .read = read_esfs_metrics },
	/* Listed: reading it does nothing, so a crawler that reads every file flushes nothing. */
	[NODE_ESFS_FLUSH] = { IN("flush", NODE_ESFS_DIR), .flags = NF_WRITABLE | NF_COMMAND | NF_WRITE_ONLY,
			      .read = read_nothing, .take_body = body_flush },

	[NODE_RECOVERY_DIR] = { IN("_recovery", NODE_ROOT), .flags = NF_DIR | NF_MUTABLE,
				.list = list_recovery },
	[NODE_RECOVERY_ENTRY] = { IN(NULL, NODE_RECOVERY_DIR), .slot = SLOT_ENTRY,
				  .read = read_recovery_entry, .unlink = unlink_recovery_entry },

	/* Views across repositories, from their listings alone. */
	[NODE_INDICES_DIR] = { IN("_indices", NODE_ROOT), .flags = NF_DIR, .list = list_indices },
	[NODE_INDEX_DIR] = { IN(NULL, NODE_INDICES_DIR), .flags = NF_DIR, .slot = SLOT_ENTRY,
			     .stat = stat_index_dir, .list = list_index_dir },
	[NODE_INDEX_LINK] = { IN(NULL, NODE_INDEX_DIR), .flags = NF_SYMLINK | NF_SNAPSHOT_TIME | NF_VIEW,
			      .slot = SLOT_REPO_SNAP, .read = read_index_link },

	[NODE_REPO_DIR] = { IN(NULL, NODE_ROOT), .flags = NF_DIR | NF_MUTABLE, .slot = SLOT_REPO,
			    .stat = stat_repo_dir, .list = list_repo_dir, .mkdir = mkdir_snapshot,
			    .rmdir = rmdir_repository },
	[NODE_REPO_SETTINGS] = { IN("_settings.json", NODE_REPO_DIR), .flags = NF_WRITABLE | NF_VIEW,
				 .read = read_repo_settings, .take_body = body_settings },
	[NODE_REPO_DEFAULTS] = { IN("_defaults.json", NODE_REPO_DIR), .flags = NF_WRITABLE | NF_VIEW,
				 .read = read_repo_defaults, .take_body = body_defaults },
	/* Listed: a read shows the last cleanup; only a write of "run" starts one. */
	[NODE_REPO_CLEANUP] = { IN("_cleanup", NODE_REPO_DIR), .flags = NF_WRITABLE | NF_COMMAND | NF_VIEW,
				.read = read_repo_cleanup, .take_body = body_cleanup },
	[NODE_REPO_VERIFY] = { IN("_verify", NODE_REPO_DIR),
			       .flags = NF_UNLISTED | NF_SIZE_UNKNOWN | NF_VIEW,
			       .read = read_repo_exists, .open = open_verify },
	/* Listed only when the repository has a snapshot that succeeded. */
	[NODE_REPO_LATEST] = { IN("_latest", NODE_REPO_DIR), .flags = NF_SYMLINK | NF_VIEW,
			       .stat = stat_repo_latest, .read = read_repo_latest },
	[NODE_REPO_POLICY] = { IN("_policy.json", NODE_REPO_DIR), .flags = NF_WRITABLE,
			       .read = read_repo_policy, .take_body = body_policy,
			       .unlink = unlink_repo_policy },
	[NODE_POLICY_DIR] = { IN("_policy", NODE_REPO_DIR), .flags = NF_DIR, .stat = stat_repo_dir,
			      .rmdir = rmdir_policy_dir },
	/* Reading the plan changes nothing; only a write of "run" to run acts. */
	[NODE_POLICY_PLAN] = { IN("plan", NODE_POLICY_DIR), .flags = NF_VIEW, .read = read_policy_plan },
	[NODE_POLICY_RUN] = { IN("run", NODE_POLICY_DIR), .flags = NF_WRITABLE | NF_COMMAND | NF_WRITE_ONLY | NF_VIEW,
			      .read = read_nothing, .take_body = body_policy_run },
	[NODE_POLICY_LAST] = { IN("last", NODE_POLICY_DIR), .flags = NF_VIEW, .read = read_policy_last },

	[NODE_SNAP_DIR] = { IN(NULL, NODE_REPO_DIR), .flags = NF_DIR | NF_MUTABLE, .slot = SLOT_SNAP,
			    .stat = stat_snap_dir, .rmdir = rmdir_snapshot },
	[NODE_SNAP_STATE] = { IN("state", NODE_SNAP_DIR), .flags = SNAP_DETAIL, .read = read_snap_state },
	[NODE_SNAP_INFO] = { IN("info.json", NODE_SNAP_DIR), .flags = SNAP_DETAIL, .read = read_snap_info },
	[NODE_SNAP_STATUS] = { IN("status.json", NODE_SNAP_DIR), .flags = SNAP_DETAIL,
			       .read = read_snap_status },
	[NODE_SNAP_PROGRESS] = { IN("progress", NODE_SNAP_DIR), .flags = SNAP_DETAIL,
				 .read = read_snap_progress },
	[NODE_SNAP_INDICES] = { IN("indices", NODE_SNAP_DIR), .flags = SNAP_DETAIL,
				.read = read_snap_indices },
	[NODE_SNAP_FAILURES] = { IN("failures", NODE_SNAP_DIR), .flags = SNAP_DETAIL,
				 .read = read_snap_failures },
	[NODE_SNAP_RESTORE] = { IN("restore.json", NODE_SNAP_DIR), .flags = SNAP_FILE | NF_WRITABLE,
				.read = read_snap_restore, .take_body = body_restore },
	/* Its write checks a restore body against the cluster and restores nothing; a read shows the plan. */
	[NODE_SNAP_RESTORE_PLAN] = { IN("restore.plan", NODE_SNAP_DIR), .flags = SNAP_FILE | NF_WRITABLE,
				     .read = read_snap_restore_plan, .take_body = body_restore_plan },
	[NODE_SNAP_WAIT] = { IN("wait", NODE_SNAP_DIR), .flags = SNAP_FILE | NF_UNLISTED | NF_SIZE_UNKNOWN,
			     .read = read_snap_state, .open = open_wait },
	[NODE_SNAP_CLONE] = { IN("clone.json", NODE_SNAP_DIR), .flags = SNAP_FILE | NF_WRITABLE,
			       .read = read_snap_clone, .take_body = body_clone },
	[NODE_SNAP_SIZE] = { IN("size", NODE_SNAP_DIR), .flags = SNAP_DETAIL, .read = read_snap_size },
	/* Listed: a read shows the last drill; only a write runs one, rm cancels it. */
	[NODE_SNAP_DRILL] = { IN("drill", NODE_SNAP_DIR), .flags = SNAP_FILE | NF_WRITABLE,
			      .read = read_snap_drill, .take_body = body_drill, .unlink = unlink_snap_drill },
	[NODE_SNAP_DRILL_WAIT] = { IN("drill-wait", NODE_SNAP_DIR),
				   .flags = SNAP_FILE | NF_UNLISTED | NF_SIZE_UNKNOWN,
				   .read = read_snap_drill, .open = open_drill_wait },
};

#define NODE_KINDS (sizeof(types) / sizeof(types[0]))
_Static_assert(NODE_KINDS == NODE_KIND_COUNT, "fs/nodes.c needs a row for every kind");

const struct node_type *node_type(enum node_kind kind)
{
	return &types[kind];
}

/* Whether kind sits in dir: the root is nobody's child. */
static int is_child(enum node_kind kind, enum node_kind dir)
{
	return kind != NODE_ROOT && types[kind].parent == dir;
}

int node_child(enum node_kind dir, const char *name, enum node_kind *kind)
{
	int named = -1;

	for (size_t k = 0; k < NODE_KINDS; k++) {
		if (!is_child((enum node_kind)k, dir))
			continue;
		if (types[k].name && !strcmp(types[k].name, name)) {
			*kind = (enum node_kind)k;
			return 0;
		}
		if (!types[k].name)
			named = (int)k;
	}
	/* The engines refuse '_' at the start of a name, so esfs's own names never clash. */
	if (named < 0 || name[0] == '_')
		return -ENOENT;
	*kind = (enum node_kind)named;
	return 0;
}

int node_each_fixed(enum node_kind dir, int (*fn)(void *ctx, enum node_kind kind), void *ctx)
{
	int rc = 0;

	for (size_t k = 0; k < NODE_KINDS && !rc; k++)
		if (is_child((enum node_kind)k, dir) && types[k].name)
			rc = fn(ctx, (enum node_kind)k);
	return rc;
}
