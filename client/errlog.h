/*
 * The most recent failed operations, for /_esfs/errors: a fixed ring, so a
 * flood of failures cannot grow memory, and the log gets every line too.
 */
#ifndef ESFS_ERRLOG_H
#define ESFS_ERRLOG_H

#include "client/buf.h"
#include "client/errmap.h"

#define ERRLOG_SIZE 100

void errlog_add(const char *op, const char *path, const struct esfs_error *e);
/* One line per failure, oldest first: time, operation, path, errno name, type, reason (tab-separated). */
int errlog_render(struct buf *out);

#endif
