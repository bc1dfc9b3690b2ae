/*
 * The tree's contents: whether a node exists, its attributes, its bytes and
 * its entries, all from the client's (cached) answers. The FUSE glue in ops.c
 * only translates.
 */
#ifndef ESFS_TREE_H
#define ESFS_TREE_H

#include <sys/types.h>
#include <time.h>

#include "client/client.h"
#include "fs/path.h"

struct esfs {
	struct client *client;
	time_t mounted_at;
	uid_t uid;
	gid_t gid;
};

struct node_attr {
	int is_dir;
	size_t size;
	time_t mtime;
};

typedef int (*tree_entry_fn)(void *ctx, const char *name, const struct node_attr *attr);

/*
 * Each returns 0 or a negative errno. A failure that came from the cluster
 * (refused or unanswered) has err->type set; one found locally (no such
 * snapshot in the listing) leaves err->type empty.
 */
int tree_stat(struct esfs *fs, const struct node *n, struct node_attr *attr, struct esfs_error *err);
int tree_read(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err);
int tree_list(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err);

#endif
