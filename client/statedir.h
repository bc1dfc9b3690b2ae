/*
 * The state directory: small files esfs keeps between mounts, one folder per
 * cluster (ROOT/<cluster UUID>/), so that two clusters never share state.
 * Each file is read whole and replaced whole, atomically (a temporary file,
 * fsync, rename, fsync of the folder): a crash leaves the old file or the
 * new one, never half of one. Knows nothing of FUSE, nor of what the files
 * hold; no credential is ever written here.
 */
#ifndef ESFS_STATEDIR_H
#define ESFS_STATEDIR_H

#include <stddef.h>

#include "client/buf.h"

struct statedir;

/* Files larger than this are not state esfs wrote: refused with -EFBIG. */
#define STATEDIR_FILE_MAX (16u << 20)

/*
 * The default root, malloc'd (NULL when none can be named: no HOME):
 * /var/lib/esfs for root, else $XDG_STATE_HOME/esfs, else
 * ~/.local/state/esfs.
 */
char *statedir_default_root(void);

/*
 * The folder of one cluster's state, root/key. Nothing is made until the
 * first write, which makes it (with root) mode 0700; a folder of ours that
 * is looser is tightened to 0700. key is a cluster UUID: letters, digits,
 * '-' and '_' only, else -EINVAL. 0 with *out set (the folder may not
 * exist yet), or a negative errno (root or the folder cannot be opened:
 * a file, no permission). Safe to share between threads.
 */
int statedir_open(const char *root, const char *key, struct statedir **out);
void statedir_free(struct statedir *sd);
/* root/key, for log lines. */
const char *statedir_path(const struct statedir *sd);

/*
 * The whole of the file called name (a plain name: no '/', not starting
 * with '.') into out: 0, -ENOENT when there is none, or another negative
 * errno (out untouched then).
 */
int statedir_read(struct statedir *sd, const char *name, struct buf *out);
/* Replaces the file called name with data, atomically; mode 0600. 0 or a negative errno. */
int statedir_write(struct statedir *sd, const char *name, const void *data, size_t len);
/*
 * Moves a file esfs cannot use out of the way, to name.bad-<UTC time>, so
 * that the next write does not destroy what it held. The new name goes to
 * aside (when given). 0 or a negative errno.
 */
int statedir_set_aside(struct statedir *sd, const char *name, char *aside, size_t size);

#endif
