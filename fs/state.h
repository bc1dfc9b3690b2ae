/*
 * What a mount remembers that the cluster does not: repository folders made
 * with mkdir and not registered yet, each repository's _defaults.json, and
 * each snapshot's last restore request with its answer. It lives as long as
 * the mount; nothing is written to disk.
 */
#ifndef ESFS_STATE_H
#define ESFS_STATE_H

#include "client/buf.h"

struct mount_state;

struct mount_state *state_new(void);
void state_free(struct mount_state *st);

/* Named texts: "defaults/<repo>", "restore/<repo>/<snap>". Get copies into out; -ENOENT when unset. */
int state_get(struct mount_state *st, const char *key, struct buf *out);
int state_set(struct mount_state *st, const char *key, const char *text);

/* Pending repositories. add: -EEXIST when already pending. remove: -ENOENT when not. */
int state_pending_add(struct mount_state *st, const char *repo);
int state_pending_remove(struct mount_state *st, const char *repo);
int state_pending_has(struct mount_state *st, const char *repo);
/* Calls fn for each pending name, in creation order; stops at the first nonzero return. */
int state_pending_each(struct mount_state *st, int (*fn)(void *ctx, const char *name), void *ctx);

#endif
