#include "client/urlenc.h"

#include <string.h>

int urlenc_is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int urlenc_segment(struct buf *out, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		int rc = urlenc_is_unreserved(*p) ? buf_append(out, p, 1) : buf_append(out, esc, 3);

		if (rc)
			return rc;
	}
	return 0;
}
