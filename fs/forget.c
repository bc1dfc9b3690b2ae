/* The kernel told to drop the views of snapshots that are gone (see fs/forget.h). */
#include "fs/ops.h"	/* FUSE_USE_VERSION first */
#include "fs/forget.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdlib.h>
#include <string.h>

#include "client/log.h"
#include "client/stats.h"
#include "fs/nodes.h"
#include "fs/ticker.h"

struct forgetter {
	struct fuse_session *session;
	struct client *client;
	unsigned long gone_seen;	/* client_snapshots_gone when last acted on */
	struct ticker *ticker;
};

/*
 * /_indices is a name of the root (FUSE_ROOT_ID): the one directory whose
 * node id esfs knows without the kernel, as libfuse's path API hides them.
 * Dropping it drops everything under it that is not in use. No lock of esfs
 * is held here: the kernel takes the root's, which a lookup under way there
 * may hold until a worker answers it.
 */
static int tick(void *arg)
{
	struct forgetter *fg = arg;
	unsigned long gone = client_snapshots_gone(fg->client);
	const char *name = node_type(NODE_INDICES_DIR)->name;
	int rc;

	/* Once the loop has ended, the session's descriptor is being closed. */
	if (fuse_session_exited(fg->session))
		return 1;
	if (gone == fg->gone_seen)
		return 0;
	fg->gone_seen = gone;
	/* Counted first: whoever sees the view gone sees it counted. */
	STATS_INC(kernel_views_dropped);
	rc = fuse_lowlevel_notify_inval_entry(fg->session, FUSE_ROOT_ID, name, strlen(name));
	/* ENOENT: the kernel holds nothing of it. */
	if (rc && rc != -ENOENT)
		log_debug("forget: the kernel did not drop /%s: %s", name, strerror(-rc));
	return 0;
}

struct forgetter *forget_start(struct fuse *fuse, struct client *cl)
{
	struct forgetter *fg = calloc(1, sizeof(*fg));

	if (!fg)
		return NULL;
	fg->session = fuse_get_session(fuse);
	fg->client = cl;
	fg->gone_seen = client_snapshots_gone(cl);
	fg->ticker = ticker_start(FORGET_CHECK_SECONDS, tick, fg);
	if (!fg->ticker) {
		free(fg);
		return NULL;
	}
	return fg;
}

void forget_stop(struct forgetter *fg)
{
	if (!fg)
		return;
	ticker_stop(fg->ticker);
	free(fg);
}
