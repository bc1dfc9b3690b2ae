/*
 * Fuzzes the request-body scanner (client/jsonscan.c): a body fed in pieces
 * of any size, and a byte at a time, gets the verdict and error offset it
 * gets whole; a verdict, once invalid or complete, does not go back to
 * incomplete; and a text it calls a complete object is one cJSON reads.
 * json_array_each gives the elements cJSON finds in the first member's
 * array, each one cJSON reads as that element, and refuses what the scanner
 * does not call complete.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/jsonscan.h"
#include "fuzz.h"

/* Feeds text in pieces of at most max_piece bytes (1: a byte at a time; 0: random sizes). */
static enum json_scan feed_in_pieces(const char *text, size_t len, size_t max_piece, size_t *error_at)
{
	struct json_scanner sc;
	enum json_scan verdict = JSON_INCOMPLETE, before;
	uint64_t sizes = fuzz_seed(text, len);
	size_t at = 0;

	json_scanner_init(&sc);
	do {
		size_t piece = max_piece ? max_piece : fuzz_piece_size(&sizes);

		if (piece > len - at)
			piece = len - at;
		before = verdict;
		verdict = json_scanner_feed(&sc, text + at, piece, error_at);
		FUZZ_CHECK(before != JSON_INVALID || verdict == JSON_INVALID);
		FUZZ_CHECK(before != JSON_COMPLETE || verdict != JSON_INCOMPLETE);
		at += piece;
	} while (at < len);
	return verdict;
}

/*
 * cJSON refuses a \u escape of a lone UTF-16 surrogate, which JSON's grammar
 * (and so the scanner, and the engines' Jackson) lets through.
 */
static int has_surrogate_escape(const char *text)
{
	for (const char *p = strstr(text, "\\u"); p; p = strstr(p + 1, "\\u"))
		if ((p[2] == 'd' || p[2] == 'D') && p[3] && strchr("89abcdefABCDEF", p[3]))
			return 1;
	return 0;
}

static void check_cjson_agrees(const char *text)
{
	const char *end = NULL;
	cJSON *json = cJSON_ParseWithOpts(text, &end, 1);

	FUZZ_CHECK(cJSON_IsObject(json) || has_surrogate_escape(text));
	cJSON_Delete(json);
}

struct walk {
	const cJSON *next;	/* the element cJSON expects next */
	size_t count;
};

/* Printed, not cJSON_Compare: that looks a key up by name, and finds a repeated one's first value only. */
static int check_element(const char *element, size_t len, void *ctx)
{
	struct walk *w = ctx;
	cJSON *alone = cJSON_ParseWithLength(element, len);
	char *got, *want;

	FUZZ_CHECK(w->next != NULL && alone != NULL);
	got = cJSON_PrintUnformatted(alone);
	want = cJSON_PrintUnformatted(w->next);
	FUZZ_CHECK(got && want && !strcmp(got, want));
	free(got);
	free(want);
	cJSON_Delete(alone);
	w->next = w->next->next;
	w->count++;
	return 0;
}

/* Only for texts with no escape: the walk matches a key as written, cJSON as decoded. */
static void check_array_walk(const char *text, size_t size, enum json_scan whole)
{
	cJSON *json = whole == JSON_COMPLETE ? cJSON_ParseWithLength(text, size) : NULL;
	const cJSON *first = json ? json->child : NULL;
	struct walk w = { 0 };
	int rc;

	if (whole != JSON_COMPLETE) {
		FUZZ_CHECK(json_array_each(text, size, "s", check_element, &w) == -EPROTO);
		return;
	}
	if (first && !memchr(text, '\\', size)) {
		w.next = cJSON_IsArray(first) ? first->child : NULL;
		rc = json_array_each(text, size, first->string, check_element, &w);
		FUZZ_CHECK(rc == (cJSON_IsArray(first) ? 0 : -EPROTO));
		FUZZ_CHECK(!cJSON_IsArray(first) || (w.next == NULL && w.count == (size_t)cJSON_GetArraySize(first)));
	}
	cJSON_Delete(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	size_t whole_at, pieces_at, bytes_at;
	enum json_scan whole = json_scan_object(text, size, &whole_at);

	FUZZ_CHECK(feed_in_pieces(text, size, 0, &pieces_at) == whole);
	FUZZ_CHECK(pieces_at == whole_at);
	FUZZ_CHECK(feed_in_pieces(text, size, 1, &bytes_at) == whole);
	FUZZ_CHECK(bytes_at == whole_at);
	FUZZ_CHECK(whole != JSON_INVALID || whole_at < size);
	if (whole == JSON_COMPLETE)
		check_cjson_agrees(text);
	check_array_walk(text, size, whole);
	free(text);
	return 0;
}
