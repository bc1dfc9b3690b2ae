/*
 * Fuzzes the renderers of engine answers (fs/render.c) and the engine's
 * banner (client/engine.c): the input is parsed with cJSON, as the cache
 * parses an answer, then each render_* is called on it where the tree
 * would. Checks: the indented JSON (info.json, status.json, ...) reads
 * back as JSON that renders the same; a repository's settings whose names
 * say secret, password or token are "<redacted>" in _settings.json; the
 * one-line files are one line.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/buf.h"
#include "client/engine.h"
#include "fs/render.h"
#include "fuzz.h"

/* render_json's text reads back as JSON, and renders the same again. */
static void check_json_round_trip(const cJSON *json)
{
	struct buf once = BUF_INIT, twice = BUF_INIT;
	cJSON *again;

	if (render_json(&once, json))
		return;
	again = cJSON_Parse(once.data);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(render_json(&twice, again) == 0 && !strcmp(once.data, twice.data));
	cJSON_Delete(again);
	buf_free(&once);
	buf_free(&twice);
}

static int name_has(const char *name, const char *part)
{
	size_t n = strlen(part);

	for (const char *p = name; *p; p++)
		if (!strncasecmp(p, part, n))
			return 1;
	return 0;
}

/* Walked as render_repository walks: objects are descended into, other values shown or redacted. */
static void check_redacted(const cJSON *settings)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, settings) {
		if (cJSON_IsObject(item))
			check_redacted(item);
		else if (item->string && (name_has(item->string, "secret") ||
					  name_has(item->string, "password") || name_has(item->string, "token")))
			FUZZ_CHECK(cJSON_IsString(item) && !strcmp(item->valuestring, "<redacted>"));
	}
}

static void check_repository(const cJSON *entry)
{
	struct buf out = BUF_INIT;
	cJSON *shown;

	if (render_repository(&out, entry) == 0 && cJSON_IsObject(entry)) {
		shown = cJSON_Parse(out.data);
		FUZZ_CHECK(shown != NULL);
		check_redacted(cJSON_GetObjectItemCaseSensitive(shown, "settings"));
		cJSON_Delete(shown);
	}
	buf_free(&out);
}

static void check_one_line(int (*render)(struct buf *, const cJSON *), const cJSON *json)
{
	struct buf out = BUF_INIT;

	if (render(&out, json) == 0 && out.len) {
		FUZZ_CHECK(out.data[out.len - 1] == '\n');
		FUZZ_CHECK(strchr(out.data, '\n') == out.data + out.len - 1);
	}
	buf_free(&out);
}

/* Every line of failures ends in a newline: a reason's own line breaks are gone. */
static void check_failures(const cJSON *snapshot)
{
	struct buf out = BUF_INIT;
	size_t lines = 0, failures = (size_t)cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(snapshot, "failures"));

	if (render_failures(&out, snapshot) == 0) {
		for (size_t i = 0; i < out.len; i++)
			lines += out.data[i] == '\n';
		FUZZ_CHECK(!out.len || out.data[out.len - 1] == '\n');
		FUZZ_CHECK(lines == failures || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(snapshot, "failures")));
		FUZZ_CHECK(!strchr(out.data ? out.data : "", '\r'));
	}
	buf_free(&out);
}

/* The /_recovery entries: each index the rows name, and one they do not. */
static void check_recovery(const cJSON *rows)
{
	const cJSON *row;
	struct buf out = BUF_INIT;

	cJSON_ArrayForEach(row, rows) {
		const char *index = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "index"));

		if (index) {
			buf_reset(&out);
			(void)render_recovery(&out, rows, index);
			check_json_round_trip(cJSON_GetObjectItemCaseSensitive(rows, index));
		}
	}
	buf_reset(&out);
	(void)render_recovery(&out, rows, "");
	buf_free(&out);
}

static void render_all(const cJSON *json)
{
	const cJSON *snapshot = api_single_snapshot(json), *entry;
	struct buf out = BUF_INIT;
	struct engine e;

	check_json_round_trip(json);
	cJSON_ArrayForEach(entry, json)
		check_repository(entry);
	(void)render_line(&out, json, "status");
	check_json_round_trip(snapshot);
	check_one_line(render_progress, snapshot);
	check_failures(snapshot);
	buf_reset(&out);
	(void)render_line(&out, snapshot, "state");
	check_recovery(json);
	if (engine_detect(json, &e) == 0)
		FUZZ_CHECK(strlen(e.version) < sizeof(e.version) && engine_name(e.kind));
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	cJSON *json = cJSON_ParseWithLength(text, size);

	if (json)
		render_all(json);
	cJSON_Delete(json);
	free(text);
	return 0;
}
