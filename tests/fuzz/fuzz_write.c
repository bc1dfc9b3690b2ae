/*
 * Fuzzes the whole write path of a request body without FUSE: tree_write
 * (fs/requests.c) on /<repo>/_defaults.json, whose body is kept in the
 * mount's state (in memory here) rather than sent. The body comes in pieces
 * of any size; the check is that what is kept is exactly the first prefix
 * ending a piece that is a complete JSON object in UTF-8, indented as
 * render_json writes it, and that nothing is kept otherwise.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/jsonscan.h"
#include "client/utf8.h"
#include "fs/path.h"
#include "fs/render.h"
#include "fs/state.h"
#include "fs/tree.h"
#include "fuzz.h"

#define KEY "defaults/demo"

/* What the write path must keep for a body whose first complete prefix is text[0..len). */
static char *expected_text(const char *text, size_t len)
{
	char *prefix = fuzz_text((const uint8_t *)text, len);
	cJSON *json = utf8_invalid_at(prefix, len) == len ? cJSON_Parse(prefix) : NULL;
	struct buf out = BUF_INIT;

	if (json)
		FUZZ_CHECK(render_json(&out, json) == 0);
	cJSON_Delete(json);
	free(prefix);
	return out.data;
}

/* Writes text in pieces, as sequential write(2)s do; returns where the body first became complete. */
static size_t write_in_pieces(struct esfs *fs, const struct node *n, struct request_body *rb,
			      const char *text, size_t len)
{
	uint64_t sizes = fuzz_seed(text, len);
	size_t at = 0, complete_at = 0, error_at;
	struct json_scanner prefix;	/* the scan of text[0..at), to tell where it first completes */
	struct esfs_error err;
	int rc, refused = 0;

	json_scanner_init(&prefix);
	while (at < len) {
		size_t piece = fuzz_piece_size(&sizes);

		if (piece > len - at)
			piece = len - at;
		rc = tree_write(fs, n, rb, text + at, piece, (off_t)at, &err);
		/* A refused body's reason is said once (err filled in); later writes repeat its errno. */
		FUZZ_CHECK(rc == (int)piece || (rc < 0 && (err.err == -rc || (refused && !err.err))));
		refused |= rc < 0;
		if (json_scanner_feed(&prefix, text + at, piece, &error_at) == JSON_COMPLETE && !complete_at)
			complete_at = at + piece;
		at += piece;
	}
	rc = tree_write_end(fs, n, rb, &err);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	return complete_at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct esfs fs = { .state = state_new() };
	struct request_body rb = { 0 };
	struct buf kept = BUF_INIT;
	struct node n;
	char *text = fuzz_text(data, size), *want;
	size_t complete_at;

	FUZZ_CHECK(fs.state && path_parse("/demo/_defaults.json", &n) == 0);
	complete_at = write_in_pieces(&fs, &n, &rb, text, size);
	want = complete_at ? expected_text(text, complete_at) : NULL;
	if (want)
		FUZZ_CHECK(state_get(fs.state, KEY, &kept) == 0 && !strcmp(kept.data, want));
	else
		FUZZ_CHECK(state_get(fs.state, KEY, &kept) == -ENOENT);
	free(want);
	buf_free(&kept);
	buf_free(&rb.text);
	state_free(fs.state);
	free(text);
	return 0;
}
