/*
 * Snapshot start times kept between mounts, so that the first listing of a
 * big repository after a mount makes the engine read no blob per snapshot.
 * One file per repository in the cluster's state folder (client/statedir.h):
 * a header that names the repository, then "UUID start_ms" per finished
 * snapshot. A finished snapshot's start time never changes and a UUID names
 * one snapshot for good, so a line stays right as long as its snapshot
 * exists; lines of snapshots that are gone are dropped at the next save.
 * Running snapshots are never kept: they are asked for afresh.
 */
#ifndef ESFS_STARTS_H
#define ESFS_STARTS_H

#include <stddef.h>

#include "client/snaplist.h"
#include "client/statedir.h"

/*
 * Fills in the start times of l's finished snapshots still unknown from the
 * file of repo (its URL-encoded name, as in requests); how many it filled.
 * A file esfs cannot read is set aside and logged: the times are asked again.
 */
size_t starts_load(struct statedir *sd, const char *repo, struct snaplist *l);
/* Replaces that file with the start times l knows of its finished snapshots: 0 or a negative errno. */
int starts_save(struct statedir *sd, const char *repo, const struct snaplist *l);

#endif
