/*
 * What the kernel may hold of each path: the attributes esfs gave it (kept
 * for attr_timeout), and the page cache of each file esfs let it cache. A
 * file whose bytes can no longer change (tree_is_final) is served through
 * the page cache, kept from one open to the next, so that reading it again
 * does not reach esfs. Kept only while the bytes are the same: a snapshot
 * deleted and taken again under the same name has other bytes under the
 * same path, and then the kernel must drop what it has. A flush of esfs's
 * cache takes every path, to make the kernel drop what it holds of each.
 */
#ifndef ESFS_PAGECACHE_H
#define ESFS_PAGECACHE_H

#include <stddef.h>

struct pagecache;

/* keep_seconds: how long a path neither served nor noted is remembered (see SWEEP_EVERY). */
struct pagecache *pagecache_new(double keep_seconds);
void pagecache_free(struct pagecache *pc);

/*
 * Records that path now holds these bytes in the kernel's cache. Returns 1
 * when it held the very same bytes before (the kernel may keep its pages), 0
 * when they are new or changed (the kernel must drop them), -ENOMEM.
 */
int pagecache_serve(struct pagecache *pc, const char *path, const char *data, size_t len);
/* Records that the kernel now holds attributes of path: 0, or -ENOMEM. */
int pagecache_note(struct pagecache *pc, const char *path);
/*
 * Every path recorded, forgotten at once: a malloc'd array of *count
 * malloc'd names for the caller to free, or NULL (none, or out of memory).
 */
char **pagecache_take_all(struct pagecache *pc, size_t *count);

#endif
