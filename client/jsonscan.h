/*
 * Is this a whole JSON object yet? Files that take a request body act on the
 * write that completes the document, so that the engine's refusal reaches the
 * writing program (echo, a redirection) rather than a close() nobody checks.
 * That needs to tell three cases apart: a complete object, the start of one
 * that more bytes could complete, and text that no more bytes can save.
 */
#ifndef ESFS_JSONSCAN_H
#define ESFS_JSONSCAN_H

#include <stddef.h>

enum json_scan {
	JSON_INVALID,		/* no continuation makes this an object */
	JSON_INCOMPLETE,	/* a prefix of some object, or only white space */
	JSON_COMPLETE,		/* one object, white space around it */
};

/* Classifies text; for JSON_INVALID, *error_at is the offset of the first bad byte. */
enum json_scan json_scan_object(const char *text, size_t len, size_t *error_at);

#endif
