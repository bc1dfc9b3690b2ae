/*
 * Fuzzes the request-body scanner (client/jsonscan.c): a body fed in pieces
 * of any size, and a byte at a time, gets the verdict and error offset it
 * gets whole; a verdict, once invalid or complete, does not go back to
 * incomplete; and a text it calls a complete object is one cJSON reads.
 */
#include <cjson/cJSON.h>
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
	free(text);
	return 0;
}
