#include <errno.h>

#include "fs/nodes.h"
#include "fs/path.h"
#include "unit.h"

static struct node parsed(const char *path, int want_rc)
{
	struct node n;

	CHECK_INT(path_parse(path, &n), want_rc);
	return n;
}

static void esfs_own_entries(void)
{
	CHECK_INT(parsed("/", 0).kind, NODE_ROOT);
	CHECK_INT(parsed("/_cluster", 0).kind, NODE_CLUSTER_DIR);
	CHECK_INT(parsed("/_cluster/health", 0).kind, NODE_CLUSTER_HEALTH);
	CHECK_INT(parsed("/_cluster/info.json", 0).kind, NODE_CLUSTER_INFO);
	CHECK_INT(parsed("/_esfs/stats", 0).kind, NODE_ESFS_STATS);
	CHECK_INT(parsed("/_esfs/errors", 0).kind, NODE_ESFS_ERRORS);
	parsed("/_nope", -ENOENT);
	parsed("/_cluster/nope", -ENOENT);
	parsed("/_cluster/health/x", -ENOENT);
}

static void repositories_and_snapshots(void)
{
	struct node n = parsed("/backups", 0);

	CHECK_INT(n.kind, NODE_REPO_DIR);
	CHECK_STR(n.repo, "backups");
	n = parsed("/backups/_settings.json", 0);
	CHECK_INT(n.kind, NODE_REPO_SETTINGS);
	n = parsed("/backups/nightly-1", 0);
	CHECK_INT(n.kind, NODE_SNAP_DIR);
	CHECK_STR(n.snap, "nightly-1");
	n = parsed("/backups/nightly-1/info.json", 0);
	CHECK_INT(n.kind, NODE_SNAP_INFO);
	CHECK(node_in_snapshot(n.kind));
	CHECK_INT(parsed("/b/s/state", 0).kind, NODE_SNAP_STATE);
	CHECK_INT(parsed("/b/s/failures", 0).kind, NODE_SNAP_FAILURES);
	parsed("/b/_nope", -ENOENT);
	parsed("/b/s/nope", -ENOENT);
	parsed("/b/s/state/deeper", -ENOENT);
}

/* /_indices/<index>/<repo>,<snapshot>: the link's name holds both, split at the one comma. */
static void views_across_snapshots(void)
{
	struct node n = parsed("/_indices/orders/backups,nightly-1", 0);

	CHECK_INT(n.kind, NODE_INDEX_LINK);
	CHECK_STR(n.entry, "orders");
	CHECK_STR(n.repo, "backups");
	CHECK_STR(n.snap, "nightly-1");
	CHECK_INT(parsed("/_indices", 0).kind, NODE_INDICES_DIR);
	CHECK_INT(parsed("/_indices/.kibana_1", 0).kind, NODE_INDEX_DIR);
	parsed("/_indices/orders/no-comma", -ENOENT);
	parsed("/_indices/orders/,snap", -ENOENT);
	parsed("/_indices/orders/repo,", -ENOENT);
	parsed("/_indices/orders/a,b,c", -ENOENT);
	CHECK_INT(parsed("/b/_latest", 0).kind, NODE_REPO_LATEST);
	CHECK_INT(parsed("/b/_cleanup", 0).kind, NODE_REPO_CLEANUP);
	CHECK_INT(parsed("/b/_policy/plan", 0).kind, NODE_POLICY_PLAN);
	CHECK_INT(parsed("/b/s/size", 0).kind, NODE_SNAP_SIZE);
	CHECK_INT(parsed("/b/s/drill", 0).kind, NODE_SNAP_DRILL);
	CHECK_INT(parsed("/b/s/drill-wait", 0).kind, NODE_SNAP_DRILL_WAIT);
	CHECK_INT(parsed("/b/s/clone.json", 0).kind, NODE_SNAP_CLONE);
}

static void odd_names_stay_whole(void)
{
	struct node n = parsed("/a%2fb/x?y#z %3f", 0);

	CHECK_STR(n.repo, "a%2fb");
	CHECK_STR(n.snap, "x?y#z %3f");
}

/* The engine would decode these into other names: no path may carry one to a request. */
static void names_that_are_not_utf8(void)
{
	parsed("/zz\xff", -EINVAL);
	parsed("/repo/snap\xc0\xaf", -EINVAL);
	parsed("/repo/snap/st\xed\xa0\x80", -EINVAL);
	parsed("/_recovery/\x80", -EINVAL);
	CHECK_STR(parsed("/caf\xc3\xa9/\xe2\x82\xac", 0).snap, "\xe2\x82\xac");
}

static void overlong_names(void)
{
	char path[600] = "/";

	memset(path + 1, 'a', 300);
	path[301] = '\0';
	parsed(path, -ENAMETOOLONG);
	memset(path + 1, 'a', 255);
	path[256] = '\0';
	CHECK_INT(parsed(path, 0).kind, NODE_REPO_DIR);
}

static int count_fixed(void *ctx, enum node_kind kind)
{
	(void)kind;
	(*(int *)ctx)++;
	return 0;
}

static void fixed_entries_come_from_the_table(void)
{
	int n = 0;

	node_each_fixed(NODE_SNAP_DIR, count_fixed, &n);
	CHECK_INT(n, 13);	/* state info.json status.json progress indices failures restore.json restore.plan wait clone.json size
				   drill drill-wait */
	n = 0;
	node_each_fixed(NODE_SNAP_STATE, count_fixed, &n);
	CHECK_INT(n, 0);
	CHECK_STR(node_type(NODE_SNAP_WAIT)->name, "wait");
	CHECK(node_type(NODE_SNAP_WAIT)->flags & NF_UNLISTED);
	CHECK(node_type(NODE_REPO_VERIFY)->flags & NF_UNLISTED);
	CHECK(node_type(NODE_SNAP_DRILL_WAIT)->flags & NF_UNLISTED);
	CHECK(!(node_type(NODE_SNAP_DRILL)->flags & NF_UNLISTED));
	CHECK(!(node_type(NODE_SNAP_STATE)->flags & NF_UNLISTED));
}

/* Every kind but the root has a directory, and every directory holds only what names it. */
static void every_kind_has_a_place(void)
{
	for (enum node_kind k = 0; k < NODE_KIND_COUNT; k++) {
		const struct node_type *t = node_type(k);
		enum node_kind found;

		if (k == NODE_ROOT)
			continue;
		CHECK(node_is_dir(t->parent));
		CHECK(t->read || node_is_dir(k));
		if (t->name) {
			CHECK_INT(node_child(t->parent, t->name, &found), 0);
			CHECK_INT(found, k);
		} else {
			CHECK(t->slot != SLOT_NONE);
		}
	}
}

static void recovery_entries(void)
{
	struct node n = parsed("/_recovery", 0);

	CHECK_INT(n.kind, NODE_RECOVERY_DIR);
	n = parsed("/_recovery/restored-logs.json", 0);
	CHECK_INT(n.kind, NODE_RECOVERY_ENTRY);
	CHECK_STR(n.entry, "restored-logs.json");
	parsed("/_recovery/a/b", -ENOENT);
}

static void writable_files(void)
{
	CHECK(node_is_writable(parsed("/r/_settings.json", 0).kind));
	CHECK(node_is_writable(parsed("/r/_defaults.json", 0).kind));
	CHECK(node_is_writable(parsed("/r/s/restore.json", 0).kind));
	CHECK(!node_is_writable(parsed("/r/s/state", 0).kind));
	CHECK(!node_is_writable(parsed("/r/_verify", 0).kind));
	CHECK(node_in_snapshot(parsed("/r/s/wait", 0).kind));
}

static void parent_of_a_new_name(void)
{
	char name[NAME_MAX_BYTES + 1];
	struct node parent;

	CHECK_INT(path_parse_parent("/backups/nightly-7", &parent, name), 0);
	CHECK_INT(parent.kind, NODE_REPO_DIR);
	CHECK_STR(parent.repo, "backups");
	CHECK_STR(name, "nightly-7");
	CHECK_INT(path_parse_parent("/newrepo", &parent, name), 0);
	CHECK_INT(parent.kind, NODE_ROOT);
	CHECK_STR(name, "newrepo");
	CHECK_INT(path_parse_parent("/_x", &parent, name), 0);
	CHECK_STR(name, "_x");
	CHECK_INT(path_parse_parent("/b/_nope/x", &parent, name), -ENOENT);
}

static const struct unit_case cases[] = {
	{ "esfs_own_entries", esfs_own_entries },
	{ "repositories_and_snapshots", repositories_and_snapshots },
	{ "views_across_snapshots", views_across_snapshots },
	{ "odd_names_stay_whole", odd_names_stay_whole },
	{ "names_that_are_not_utf8", names_that_are_not_utf8 },
	{ "overlong_names", overlong_names },
	{ "fixed_entries_come_from_the_table", fixed_entries_come_from_the_table },
	{ "every_kind_has_a_place", every_kind_has_a_place },
	{ "recovery_entries", recovery_entries },
	{ "writable_files", writable_files },
	{ "parent_of_a_new_name", parent_of_a_new_name },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
