/* The FUSE operations: translation between the kernel's calls and tree.c. */
#ifndef ESFS_OPS_H
#define ESFS_OPS_H

#define FUSE_USE_VERSION 35
#include <fuse.h>

#include "client/http.h"

/* What main.c hands to the mount; the client is made in init, once esfs is a daemon. */
struct esfs_mount {
	struct http_config http;
	double cache_ttl;
	int read_only;
	int nodelete;
};

extern const struct fuse_operations esfs_ops;

#endif
