/*
 * Turning a refused request into an errno a shell can show, while keeping the
 * engine's own words (error type and reason) for /_esfs/errors and the log.
 */
#ifndef ESFS_ERRMAP_H
#define ESFS_ERRMAP_H

#include <stddef.h>

struct esfs_error {
	int err;		/* positive errno */
	long status;		/* HTTP status, 0 when no answer came */
	char type[96];		/* the engine's error type, or a transport class */
	char reason[512];
};

/* Fills e from an HTTP answer that is not 2xx. */
void errmap_from_response(struct esfs_error *e, long status, const char *body, size_t len);

/* Fills e for a failure found before or without an answer. */
/*
 * Makes text one line: tabs, CRs and LFs become spaces (parser messages span
 * lines, "...\n at [Source: ..."), trailing spaces go. Fields of
 * /_esfs/errors are split by tabs.
 */
void errmap_one_line(char *s);
void errmap_set(struct esfs_error *e, int err, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "ENOENT" for ENOENT; never NULL. */
const char *errmap_errno_name(int err);

#endif
