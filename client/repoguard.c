/*
 * The guard of client/repoguard.h, for OpenSearch's sake.
 *
 * OpenSearch 2.19 starts a snapshot create, clone, delete or cleanup on the
 * repository object it has at that moment, and resubmits the operation until
 * the cluster's metadata for the repository is the one that object started
 * with. A PUT of new settings in between replaces the object: the operation
 * is resubmitted forever (thousands of no-op cluster-state tasks a second,
 * until the master restarts) and its request never returns. The engine only
 * refuses the change once the snapshot is running, not while it is being
 * started, and REST calls alone reproduce it (tests/test_concurrency.py).
 *
 * esfs cannot see other clients' requests, but it can keep its own apart: a
 * repository change while one of its operations on that repository is under
 * way, or an operation while a change is, gets EBUSY, as the engine's own
 * "repository that is currently used" does. Nothing waits.
 */
#include "client/repoguard.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* More than the requests that can be under way at once: one per FUSE worker and background thread. */
#define GUARD_SLOTS 64

struct slot {
	char *repo;		/* NULL: free */
	unsigned under_way[3];	/* by enum repo_use */
};

static struct slot slots[GUARD_SLOTS];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static struct slot *find(const char *repo)
{
	for (size_t i = 0; i < GUARD_SLOTS; i++)
		if (slots[i].repo && !strcmp(slots[i].repo, repo))
			return &slots[i];
	return NULL;
}

static struct slot *claim(const char *repo)
{
	for (size_t i = 0; i < GUARD_SLOTS; i++)
		if (!slots[i].repo) {
			slots[i].repo = strdup(repo);
			return slots[i].repo ? &slots[i] : NULL;
		}
	return NULL;
}

static void refuse(struct esfs_error *err, const char *repo, enum repo_use use)
{
	if (use == REPO_USE_CHANGE)
		errmap_set(err, EBUSY, "repository_in_use",
			   "a snapshot create, clone, delete or cleanup in [%s] is under way through this mount, "
			   "and OpenSearch loses it when the repository changes before it returns: "
			   "change the repository when it has", repo);
	else
		errmap_set(err, EBUSY, "repository_in_use",
			   "the repository [%s] is being changed through this mount, and OpenSearch loses a "
			   "snapshot operation started before the change returns: try again when it has", repo);
}

int repoguard_enter(const char *repo, enum repo_use use, struct esfs_error *err)
{
	enum repo_use other = use == REPO_USE_CHANGE ? REPO_USE_OPERATION : REPO_USE_CHANGE;
	struct slot *s;
	int rc = 0;

	if (use == REPO_USE_NONE || !repo)
		return 0;
	pthread_mutex_lock(&guard_lock);
	s = find(repo);
	if (s && s->under_way[other]) {
		refuse(err, repo, use);
		rc = -EBUSY;
	} else if (!s && !(s = claim(repo))) {
		errmap_set(err, ENOMEM, "out_of_memory", "guard of repository [%s]", repo);
		rc = -ENOMEM;
	} else {
		s->under_way[use]++;
	}
	pthread_mutex_unlock(&guard_lock);
	return rc;
}

void repoguard_leave(const char *repo, enum repo_use use)
{
	struct slot *s;

	if (use == REPO_USE_NONE || !repo)
		return;
	pthread_mutex_lock(&guard_lock);
	s = find(repo);
	if (s && s->under_way[use]) {
		s->under_way[use]--;
		if (!s->under_way[REPO_USE_OPERATION] && !s->under_way[REPO_USE_CHANGE]) {
			free(s->repo);
			s->repo = NULL;
		}
	}
	pthread_mutex_unlock(&guard_lock);
}
