/*
 * esfs under systemd (Type=notify): READY=1 on $NOTIFY_SOCKET once the tree
 * answers, STATUS= with the node in use and the error counts now and then,
 * STOPPING=1 at unmount. Started from FUSE's init, in the process that
 * serves the mount (after the fork to the background, if any).
 */
#ifndef ESFS_NOTIFY_H
#define ESFS_NOTIFY_H

#include "client/client.h"

/* How often STATUS= is sent again once ready. */
#define NOTIFY_STATUS_SECONDS 10

struct notifier;

/*
 * A thread that stats <mountpoint>/_esfs/stats through the mount (so esfs
 * itself must answer it: the kernel holds the call until FUSE's init is
 * done) and then says READY=1. NULL when out of memory or threads.
 */
struct notifier *notify_start(const char *notify_socket, const char *mountpoint, struct client *cl);
/* Says STOPPING=1 and ends the thread; NULL is fine. */
void notify_stop(struct notifier *sv);

/*
 * libfuse ends its loop on SIGTERM and SIGINT, and fuse_main then
 * returns 8, as for a failure: "systemctl stop" would leave the unit
 * failed. Called once libfuse's handlers are in place (FUSE's init), this
 * wraps them to note the signal; notify_stopped_by_signal says whether
 * one came, so that such a stop exits 0.
 */
void notify_watch_stop_signals(void);
int notify_stopped_by_signal(void);

/* The STATUS= line's text: node in use, requests and error counts. */
void notify_status_text(struct client *cl, char *out, size_t size);

#endif
