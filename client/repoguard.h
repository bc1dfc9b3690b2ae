/*
 * Keeps this mount from changing a repository while one of its own snapshot
 * operations on that repository is under way, and the other way round.
 */
#ifndef ESFS_REPOGUARD_H
#define ESFS_REPOGUARD_H

#include "client/errmap.h"

enum repo_use {
	REPO_USE_NONE,
	REPO_USE_OPERATION,	/* a snapshot create, clone or delete, a cleanup: works on the repository */
	REPO_USE_CHANGE,	/* a PUT or DELETE of the repository: replaces it */
};

/*
 * Counts one request of kind use on repo as under way: 0, or -EBUSY with err
 * set when a request of the other kind is. Each 0 is paired with a leave.
 */
int repoguard_enter(const char *repo, enum repo_use use, struct esfs_error *err);
void repoguard_leave(const char *repo, enum repo_use use);

#endif
