/*
 * /_recovery: the indices being restored, or restored, from snapshots. Each
 * has <index> (stage and progress, one line) and <index>.json (its
 * _recovery answer). Removing <index> cancels its restore the engines' way,
 * by deleting the index, and only while it is still coming from a snapshot.
 */
#ifndef ESFS_RECOVERY_H
#define ESFS_RECOVERY_H

#include "fs/tree.h"

int recovery_list(struct esfs *fs, tree_entry_fn fn, void *ctx, struct esfs_error *err);
int recovery_read(struct esfs *fs, const char *entry, struct buf *out, struct esfs_error *err);
int recovery_cancel(struct esfs *fs, const char *entry, struct esfs_error *err);

#endif
