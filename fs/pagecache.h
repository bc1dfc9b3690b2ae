/*
 * What the kernel's page cache may hold of each file esfs let it cache. A
 * file whose bytes can no longer change (tree_is_final) is served through
 * the page cache, kept from one open to the next, so that reading it again
 * does not reach esfs. Kept only while the bytes are the same: a snapshot
 * deleted and taken again under the same name has other bytes under the
 * same path, and then the kernel must drop what it has.
 */
#ifndef ESFS_PAGECACHE_H
#define ESFS_PAGECACHE_H

#include <stddef.h>

struct pagecache;

struct pagecache *pagecache_new(void);
void pagecache_free(struct pagecache *pc);

/*
 * Records that path now holds these bytes in the kernel's cache. Returns 1
 * when it held the very same bytes before (the kernel may keep its pages), 0
 * when they are new or changed (the kernel must drop them), -ENOMEM.
 */
int pagecache_serve(struct pagecache *pc, const char *path, const char *data, size_t len);

#endif
