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

/* Deeper nesting than any request body needs; cJSON itself stops at 1000. */
#define JSON_SCAN_MAX_DEPTH 200

/* Where a scan stands between two pieces of text; see json_scanner_feed. */
struct json_scanner {
	int state;
	size_t pos;		/* bytes scanned */
	int depth;
	char stack[JSON_SCAN_MAX_DEPTH];	/* '{' or '[' of each open container */
	int in_key;		/* the string under way is an object's key */
	int hex_left;		/* digits still due in a \uXXXX */
	const char *literal;	/* true, false or null, under way */
	int literal_at;
};

void json_scanner_init(struct json_scanner *sc);
/*
 * Scans the next piece of a text, looking at each byte once: a body that
 * comes in many writes is scanned as it comes. For JSON_INVALID, *error_at
 * is the offset of the first bad byte in the whole text; once invalid or
 * complete, the answer stays (bytes after a complete object are invalid).
 */
enum json_scan json_scanner_feed(struct json_scanner *sc, const char *data, size_t len,
				 size_t *error_at);
/* Classifies a whole text at once. */
enum json_scan json_scan_object(const char *text, size_t len, size_t *error_at);

/*
 * Calls each(element, element_len, ctx) for every element of the array that
 * is the value of member in the object text, in order, without a parse tree
 * of the whole: an answer listing 100,000 snapshots is then parsed one
 * snapshot at a time, and its tree never takes more than one's memory. The
 * member is matched as written (keys with escapes are not decoded); the first
 * of the name counts, as cJSON_GetObjectItem's. Returns 0 (also when text has
 * no such member), what each returned when not 0, or -EPROTO when text is not
 * one JSON object or that member is not an array.
 */
int json_array_each(const char *text, size_t len, const char *member,
		    int (*each)(const char *element, size_t element_len, void *ctx), void *ctx);

#endif
