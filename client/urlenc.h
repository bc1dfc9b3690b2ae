/*
 * Percent-encoding of names that enter a request path. Every byte outside
 * RFC 3986's unreserved set is escaped, so a name can never add a path
 * segment, a query or a fragment to the request it is part of.
 */
#ifndef ESFS_URLENC_H
#define ESFS_URLENC_H

#include "client/buf.h"

int urlenc_segment(struct buf *out, const char *name);
/* RFC 3986's unreserved characters, which neither esfs nor SigV4 escapes. */
int urlenc_is_unreserved(unsigned char c);

#endif
