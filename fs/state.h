/*
 * What a mount remembers that the cluster does not: repository folders made
 * with mkdir and not registered yet, each repository's _defaults.json and
 * snapshot policy with its last run, the last cleanup, and each snapshot's
 * last restore and clone request with its answer. Kept in memory and,
 * once the cluster's UUID is known, in the state directory's file of that
 * cluster (client/statedir.h), rewritten at every change: a remount finds
 * it again, another cluster never sees it.
 */
#ifndef ESFS_STATE_H
#define ESFS_STATE_H

#include "client/buf.h"
#include "client/statedir.h"

struct mount_state;

/* The file in the cluster's state folder. */
#define STATE_FILE "mount.json"

struct mount_state *state_new(void);
void state_free(struct mount_state *st);

/*
 * Keeps the state in dir from now on (taking dir over, even on failure):
 * what its file holds is loaded, what this mount set already wins over it,
 * and the two are written back. A file that cannot be read or understood is
 * set aside (statedir_set_aside) and said in the log and /_esfs/errors: the
 * state starts empty. 0, or a negative errno when even that failed (the
 * state then stays in memory only, and the file is left as it was).
 */
int state_attach(struct mount_state *st, struct statedir *dir);
/*
 * Finds where to keep the state (the cluster's UUID may be unknown at
 * mount time): 0 with *out set, -EAGAIN to be asked again later (not
 * sooner than a second), any other errno never to be asked again.
 */
typedef int state_locate_fn(void *ctx, struct statedir **out);
/* Has the first access to the state after fn's last -EAGAIN call fn, then state_attach. */
void state_locate_with(struct mount_state *st, state_locate_fn *fn, void *ctx);

/* Named texts: "defaults/<repo>", "restore/<repo>/<snap>", "clone/<repo>/<snap>", "cleanup/<repo>",
 * "policy/<repo>", "policy-run/<repo>", "restore-plan/<repo>/<snap>", "drill/<repo>/<snap>".
 * Get copies into out; -ENOENT when unset. */
int state_get(struct mount_state *st, const char *key, struct buf *out);
/*
 * A failure to write the state to disk does not fail these: what they
 * record may have happened on the cluster already. It goes to the log and
 * /_esfs/errors, and the next change writes the whole state again.
 */
int state_set(struct mount_state *st, const char *key, const char *text);
/* Forgets key's text: 0, or -ENOENT when unset. */
int state_unset(struct mount_state *st, const char *key);
/* The texts kept for one snapshot (its restore, clone, plan, drill), once it is deleted: 0 or -ENOMEM. */
int state_forget_snapshot(struct mount_state *st, const char *repo, const char *snap);

/* Pending repositories. add: -EEXIST when already pending. remove: -ENOENT when not. */
int state_pending_add(struct mount_state *st, const char *repo);
int state_pending_remove(struct mount_state *st, const char *repo);
int state_pending_has(struct mount_state *st, const char *repo);
/* Calls fn for each pending name, in creation order; stops at the first nonzero return. */
int state_pending_each(struct mount_state *st, int (*fn)(void *ctx, const char *name), void *ctx);

#endif
