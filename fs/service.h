/*
 * What lets esfs run as a system service: a flush that drops every answer
 * esfs keeps at once (a write of "1" to /_esfs/flush, or SIGHUP), and SIGHUP
 * itself, which also reopens the log file after logrotate renamed it.
 */
#ifndef ESFS_SERVICE_H
#define ESFS_SERVICE_H

#include "fs/tree.h"

/*
 * Takes SIGHUP before fuse_main: libfuse installs its own handler (which
 * unmounts) only on a signal whose disposition is still the default. The
 * handler writes a byte to a pipe, which survives the fork into the
 * background; 0 or a negative errno.
 */
int service_signals_install(void);
/* Starts the thread that acts on SIGHUP: from FUSE's init, after the fork. */
int service_start(struct esfs *fs);
/* Ends that thread: from FUSE's destroy, while the tree still exists. */
void service_stop(void);

/* Drops every cached answer, so that the next read asks the cluster; why goes to the log. */
void tree_flush(struct esfs *fs, const char *why);

#endif
