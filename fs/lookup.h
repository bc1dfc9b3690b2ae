/* Finding a repository or snapshot in the cluster's (cached) listings. */
#ifndef ESFS_LOOKUP_H
#define ESFS_LOOKUP_H

#include "fs/tree.h"

struct cJSON;
struct snap_row;

/* -ENOENT with err->type left empty: a missing name is not a failure of the cluster. */
int lookup_not_found(struct esfs_error *err);
/* A local refusal (bad input): errno and reason, for /_esfs/errors and the log. */
int lookup_refuse(struct esfs_error *err, int errnum, const char *reason);

/* The repository's entry in GET /_snapshot; *answer keeps it alive until released. */
int lookup_repository(struct esfs *fs, const char *repo, struct cached **answer,
		      const struct cJSON **entry, struct esfs_error *err);
/* The snapshot's row in its repository's listing, likewise. */
int lookup_snapshot(struct esfs *fs, const struct node *n, struct cached **answer,
		    struct snap_row **row, struct esfs_error *err);
/* Whether they exist: 0, -ENOENT (err->type empty), or the cluster's failure. */
int lookup_repository_exists(struct esfs *fs, const char *repo, struct esfs_error *err);
int lookup_snapshot_exists(struct esfs *fs, const struct node *n, struct esfs_error *err);

/*
 * Read-only repositories: "readonly": true in their settings, or Amazon
 * OpenSearch Service's automated ones, which it alone may write.
 */
int repository_is_readonly(const char *name, const struct cJSON *entry);
/* The registered repository, refused with EROFS when it is read-only. */
int lookup_writable_repository(struct esfs *fs, const char *repo, struct esfs_error *err);
/* Amazon's automated-snapshot repositories: not even their settings are ours to change. */
int repository_is_managed_by_aws(const char *name);

#endif
