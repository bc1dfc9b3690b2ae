#include "fs/path.h"

#include <errno.h>
#include <string.h>

#include "client/utf8.h"

static const struct fixed_entry root_entries[] = {
	{ "_cluster", NODE_CLUSTER_DIR, 0 },
	{ "_esfs", NODE_ESFS_DIR, 0 },
	{ "_recovery", NODE_RECOVERY_DIR, 0 },
	{ NULL, NODE_ROOT, 0 },
};

static const struct fixed_entry cluster_entries[] = {
	{ "health", NODE_CLUSTER_HEALTH, 0 },
	{ "info.json", NODE_CLUSTER_INFO, 0 },
	{ NULL, NODE_ROOT, 0 },
};

static const struct fixed_entry esfs_entries[] = {
	{ "stats", NODE_ESFS_STATS, 0 },
	{ "errors", NODE_ESFS_ERRORS, 0 },
	{ "aws", NODE_ESFS_AWS, 0 },
	{ NULL, NODE_ROOT, 0 },
};

static const struct fixed_entry repo_entries[] = {
	{ "_settings.json", NODE_REPO_SETTINGS, 0 },
	{ "_defaults.json", NODE_REPO_DEFAULTS, 0 },
	{ "_verify", NODE_REPO_VERIFY, FIXED_UNLISTED },
	{ NULL, NODE_ROOT, 0 },
};

static const struct fixed_entry snap_entries[] = {
	{ "state", NODE_SNAP_STATE, 0 },
	{ "info.json", NODE_SNAP_INFO, 0 },
	{ "status.json", NODE_SNAP_STATUS, 0 },
	{ "progress", NODE_SNAP_PROGRESS, 0 },
	{ "indices", NODE_SNAP_INDICES, 0 },
	{ "failures", NODE_SNAP_FAILURES, 0 },
	{ "restore.json", NODE_SNAP_RESTORE, 0 },
	{ "wait", NODE_SNAP_WAIT, FIXED_UNLISTED },
	{ NULL, NODE_ROOT, 0 },
};

static const struct fixed_entry no_entries[] = {
	{ NULL, NODE_ROOT, 0 },
};

const struct fixed_entry *node_fixed_entries(enum node_kind dir)
{
	switch (dir) {
	case NODE_ROOT:		return root_entries;
	case NODE_CLUSTER_DIR:	return cluster_entries;
	case NODE_ESFS_DIR:	return esfs_entries;
	case NODE_REPO_DIR:	return repo_entries;
	case NODE_SNAP_DIR:	return snap_entries;
	default:		return no_entries;
	}
}

int node_is_dir(enum node_kind kind)
{
	return kind == NODE_ROOT || kind == NODE_CLUSTER_DIR || kind == NODE_ESFS_DIR ||
	       kind == NODE_RECOVERY_DIR || kind == NODE_REPO_DIR || kind == NODE_SNAP_DIR;
}

int node_in_snapshot(enum node_kind kind)
{
	return kind >= NODE_SNAP_STATE && kind <= NODE_SNAP_WAIT;
}

int node_is_writable(enum node_kind kind)
{
	return kind == NODE_REPO_SETTINGS || kind == NODE_REPO_DEFAULTS || kind == NODE_SNAP_RESTORE;
}

static int fixed_lookup(enum node_kind dir, const char *name, enum node_kind *kind)
{
	for (const struct fixed_entry *e = node_fixed_entries(dir); e->name; e++) {
		if (!strcmp(e->name, name)) {
			*kind = e->kind;
			return 0;
		}
	}
	return -ENOENT;
}

/* Splits "/a/b/c" into at most three names; more is no node of ours. */
static int split_path(const char *path, char names[3][NAME_MAX_BYTES + 1], int *count)
{
	*count = 0;
	while (*path) {
		size_t len;

		while (*path == '/')
			path++;
		if (!*path)
			break;
		len = strcspn(path, "/");
		if (len > NAME_MAX_BYTES)
			return -ENAMETOOLONG;
		if (*count == 3)
			return -ENOENT;
		/* No repository, snapshot or index has such a name: the engine speaks UTF-8 only. */
		if (utf8_invalid_at(path, len) < len)
			return -EINVAL;
		memcpy(names[*count], path, len);
		names[*count][len] = '\0';
		(*count)++;
		path += len;
	}
	return 0;
}

/* Below the root: an esfs directory ("_cluster") or a repository. */
static int parse_top(char names[3][NAME_MAX_BYTES + 1], int count, struct node *n)
{
	enum node_kind top;

	if (names[0][0] == '_') {
		if (fixed_lookup(NODE_ROOT, names[0], &top) || count > 2)
			return -ENOENT;
		n->kind = top;
		if (count == 1)
			return 0;
		if (top != NODE_RECOVERY_DIR)
			return fixed_lookup(top, names[1], &n->kind);
		strcpy(n->entry, names[1]);
		n->kind = NODE_RECOVERY_ENTRY;
		return 0;
	}
	strcpy(n->repo, names[0]);
	n->kind = NODE_REPO_DIR;
	if (count == 1)
		return 0;
	if (names[1][0] == '_')
		return fixed_lookup(NODE_REPO_DIR, names[1], &n->kind);
	strcpy(n->snap, names[1]);
	n->kind = NODE_SNAP_DIR;
	return count == 3 ? fixed_lookup(NODE_SNAP_DIR, names[2], &n->kind) : 0;
}

int path_parse(const char *path, struct node *n)
{
	char names[3][NAME_MAX_BYTES + 1];
	int count, rc;

	memset(n, 0, sizeof(*n));
	rc = split_path(path, names, &count);
	if (rc)
		return rc;
	if (count == 0) {
		n->kind = NODE_ROOT;
		return 0;
	}
	return parse_top(names, count, n);
}

int path_parse_parent(const char *path, struct node *parent, char *name)
{
	const char *slash = strrchr(path, '/');
	char dir[3 * (NAME_MAX_BYTES + 1) + 1];
	size_t dir_len;

	if (!slash || !slash[1])
		return -ENOENT;
	if (strlen(slash + 1) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	dir_len = (size_t)(slash - path);
	if (dir_len >= sizeof(dir))
		return -ENOENT;
	memcpy(dir, path, dir_len);
	dir[dir_len] = '\0';
	strcpy(name, slash + 1);
	return path_parse(dir_len ? dir : "/", parent);
}
