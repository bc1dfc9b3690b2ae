#include "fs/path.h"

#include <errno.h>
#include <string.h>

#include "client/utf8.h"
#include "fs/nodes.h"

int node_is_dir(enum node_kind kind)
{
	return (node_type(kind)->flags & NF_DIR) != 0;
}

int node_in_snapshot(enum node_kind kind)
{
	return (node_type(kind)->flags & NF_SNAPSHOT_TIME) != 0;
}

int node_is_writable(enum node_kind kind)
{
	return (node_type(kind)->flags & NF_WRITABLE) != 0;
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

/* Where a node the cluster names keeps its name. */
static char *name_slot(struct node *n, enum node_slot slot)
{
	switch (slot) {
	case SLOT_REPO:		return n->repo;
	case SLOT_SNAP:		return n->snap;
	case SLOT_ENTRY:	return n->entry;
	default:		return NULL;
	}
}

/*
 * "<repo>,<snapshot>" into both slots: the engines allow a comma in neither
 * name, nor a "_" at the start of one, where it would name _all or _current
 * in the request (the fuzzer's "/_indices/a/h,_").
 */
static int split_repo_snap(const char *name, struct node *n)
{
	const char *comma = strchr(name, ',');

	if (!comma || comma == name || !comma[1] || strchr(comma + 1, ','))
		return -ENOENT;
	if (name[0] == '_' || comma[1] == '_')
		return -ENOENT;
	memcpy(n->repo, name, (size_t)(comma - name));
	n->repo[comma - name] = '\0';
	strcpy(n->snap, comma + 1);
	return 0;
}

/* Walks the names down from the root, each one a child of the directory before it. */
static int walk(char names[3][NAME_MAX_BYTES + 1], int count, struct node *n)
{
	n->kind = NODE_ROOT;
	for (int i = 0; i < count; i++) {
		enum node_slot kind_slot;
		char *slot;

		if (!node_is_dir(n->kind) || node_child(n->kind, names[i], &n->kind))
			return -ENOENT;
		kind_slot = node_type(n->kind)->slot;
		if (kind_slot == SLOT_REPO_SNAP && split_repo_snap(names[i], n))
			return -ENOENT;
		slot = name_slot(n, kind_slot);
		if (slot)
			strcpy(slot, names[i]);
	}
	return 0;
}

int path_parse(const char *path, struct node *n)
{
	char names[3][NAME_MAX_BYTES + 1];
	int count, rc;

	memset(n, 0, sizeof(*n));
	rc = split_path(path, names, &count);
	return rc ? rc : walk(names, count, n);
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
