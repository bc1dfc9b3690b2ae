/*
 * The kernel keeps every name it was given until memory runs short, and
 * libfuse a node for each: names of snapshots that are gone pile up for as
 * long as the mount lives (a mount where snapshots come and go grew by
 * megabytes an hour). A directory esfs deletes, the kernel drops; but the
 * links of /_indices to a deleted snapshot, and those of one deleted behind
 * esfs's back, it never hears of. So whenever a snapshot went (deleted
 * through esfs, or missing from a newer listing), the kernel is told to drop
 * /_indices, which it then asks for again, names and links, on its next use.
 */
#ifndef ESFS_FORGET_H
#define ESFS_FORGET_H

#include <fuse.h>

#include "client/client.h"

/* How often the count of gone snapshots is looked at: the longest a gone link stays. */
#define FORGET_CHECK_SECONDS 1

struct forgetter;

/* The thread that tells the kernel; NULL when out of memory or threads. */
struct forgetter *forget_start(struct fuse *fuse, struct client *cl);
/* Ends it; NULL is fine. */
void forget_stop(struct forgetter *fg);

#endif
