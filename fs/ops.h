/* The FUSE operations: translation between the kernel's calls and tree.c. */
#ifndef ESFS_OPS_H
#define ESFS_OPS_H

#define FUSE_USE_VERSION 35
#include <fuse.h>

#include "client/engine.h"
#include "client/http.h"

struct esfs_ctx;

/* What main.c hands to the mount. */
struct esfs_mount {
	struct http_config http;
	double cache_ttl;
	int read_only;
	int nodelete;
	/* The state directory's root (NULL: state in memory only), and the cluster's UUID when known. */
	const char *state_root;
	char cluster_uuid[64];
	struct engine engine;		/* named at start, ENGINE_UNKNOWN when no node answered */
	const char *notify_socket;	/* systemd's $NOTIFY_SOCKET, or NULL */
	const char *mountpoint;		/* absolute */
	struct esfs_ctx *ctx;	/* the tree: made by esfs_mount_prepare */
};

/* Makes the tree and its client before fuse_main: 0, or a negative errno. */
int esfs_mount_prepare(struct esfs_mount *mount);
void esfs_mount_release(struct esfs_mount *mount);

extern const struct fuse_operations esfs_ops;

#endif
