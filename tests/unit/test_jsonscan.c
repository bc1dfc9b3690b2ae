#include <errno.h>

#include "client/buf.h"
#include "client/jsonscan.h"
#include "unit.h"

static enum json_scan scan(const char *text)
{
	size_t at;

	return json_scan_object(text, strlen(text), &at);
}

static void complete_objects(void)
{
	CHECK_INT(scan("{}"), JSON_COMPLETE);
	CHECK_INT(scan("  {\"indices\": \"a,b\", \"partial\": false}\n"), JSON_COMPLETE);
	CHECK_INT(scan("{\"a\":[1,-2.5e+3,0,{\"b\":null}],\"c\":\"\\u00e9\\n\\\"\"}"), JSON_COMPLETE);
	CHECK_INT(scan("{\"metadata\":{\"by\":\"cron\",\"n\":[true,false]}}\r\n"), JSON_COMPLETE);
}

static void prefixes_wait_for_more(void)
{
	CHECK_INT(scan(""), JSON_INCOMPLETE);
	CHECK_INT(scan(" \n"), JSON_INCOMPLETE);
	CHECK_INT(scan("{"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"ind"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"indices\""), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"indices\": "), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"partial\": tr"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"n\": 12"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"n\": -"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"n\": 1e"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"s\": \"a\\"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"s\": \"\\u00"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"a\": [1, 2"), JSON_INCOMPLETE);
	CHECK_INT(scan("{\"a\": 1,"), JSON_INCOMPLETE);
}

static void garbage_is_invalid_at_once(void)
{
	size_t at;

	CHECK_INT(json_scan_object("{bad", 4, &at), JSON_INVALID);
	CHECK_INT(at, 1);
	CHECK_INT(scan("{bad\n"), JSON_INVALID);
	CHECK_INT(scan("[1,2]"), JSON_INVALID);	/* a request body is an object */
	CHECK_INT(scan("\"text\""), JSON_INVALID);
	CHECK_INT(scan("indices=a"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": 1}}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": 1} {\"b\": 2}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\" 1}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": tru }"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": 01}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": 1,}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": \"\\x\"}"), JSON_INVALID);
	CHECK_INT(scan("{\"a\": \"tab\there\"}"), JSON_INVALID);
	CHECK_INT(scan("{'a': 1}"), JSON_INVALID);
}

static void embedded_nul_is_invalid(void)
{
	size_t at;

	CHECK_INT(json_scan_object("{\"a\":\0}", 6, &at), JSON_INVALID);
}

static void nesting_is_bounded(void)
{
	char deep[1000];
	size_t at;

	memset(deep, '[', sizeof(deep));
	deep[0] = '{';
	deep[1] = '"';
	deep[2] = '"';
	deep[3] = ':';
	CHECK_INT(json_scan_object(deep, sizeof(deep), &at), JSON_INVALID);
}

/* Fed a byte at a time, the scanner says what a scan of the whole text says, and where. */
static void pieces_scan_as_the_whole(void)
{
	const char *texts[] = { "{\"a\":[1,-2.5e+3,0,{\"b\":null}],\"c\":\"\\u00e9\"}", "{\"n\": 12",
				"{\"a\": tru }", "{\"a\": 01}", "{\"a\": 1} x", "{\"s\": \"\\u00" };

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		struct json_scanner sc;
		size_t len = strlen(texts[t]), whole_at, at = 0;
		enum json_scan whole = json_scan_object(texts[t], len, &whole_at), got = JSON_INCOMPLETE;

		json_scanner_init(&sc);
		for (size_t i = 0; i < len && got != JSON_INVALID; i++)
			got = json_scanner_feed(&sc, texts[t] + i, 1, &at);
		CHECK_INT(got, whole);
		CHECK_INT(at, whole_at);
	}
}

static void a_megabyte_in_single_bytes_is_scanned_once(void)
{
	struct json_scanner sc;
	size_t at;

	json_scanner_init(&sc);
	json_scanner_feed(&sc, "{\"x\": \"", 7, &at);
	for (int i = 0; i < (1 << 20); i++)
		CHECK_INT(json_scanner_feed(&sc, "y", 1, &at), JSON_INCOMPLETE);
	CHECK_INT(json_scanner_feed(&sc, "\"}", 2, &at), JSON_COMPLETE);
	CHECK_INT(sc.pos, 7 + (1 << 20) + 2);
}

/* Each element's bytes, one per line, as json_array_each gives them. */
static int collect(const char *element, size_t len, void *ctx)
{
	struct buf *out = ctx;

	return buf_append(out, element, len) || buf_puts(out, "\n") ? -ENOMEM : 0;
}

static int elements(const char *text, const char *member, struct buf *out)
{
	buf_free(out);
	return json_array_each(text, strlen(text), member, collect, out);
}

static void array_elements_one_by_one(void)
{
	struct buf out = BUF_INIT;

	CHECK_INT(elements("{\"snapshots\":[{\"snapshot\":\"a\"}, {\"snapshot\":\"b\",\"indices\":[\"x\"]}]}",
			   "snapshots", &out), 0);
	CHECK_STR(out.data, "{\"snapshot\":\"a\"}\n{\"snapshot\":\"b\",\"indices\":[\"x\"]}\n");
	/* Brackets, commas and quotes inside strings are not structure. */
	CHECK_INT(elements(" { \"s\" : [ \"],[\\\"{\" , {\"k\":\"}\"} ,\n 12 ,true,[[]] ] } ", "s", &out), 0);
	CHECK_STR(out.data, "\"],[\\\"{\"\n{\"k\":\"}\"}\n12\ntrue\n[[]]\n");
	/* The member after others, whose values hold arrays and objects of their own. */
	CHECK_INT(elements("{\"a\":{\"s\":[9]},\"b\":[\"s\"],\"c\":-1.5e3,\"s\":[null]}", "s", &out), 0);
	CHECK_STR(out.data, "null\n");
	buf_free(&out);
}

static void array_elements_of_nothing(void)
{
	struct buf out = BUF_INIT;

	CHECK_INT(elements("{}", "snapshots", &out), 0);
	CHECK(out.len == 0);
	CHECK_INT(elements("{\"snapshots\":[ ]}", "snapshots", &out), 0);
	CHECK(out.len == 0);
	/* Only the name as written: a longer or shorter key is another member. */
	CHECK_INT(elements("{\"snapshotsx\":[1],\"snapshot\":[2]}", "snapshots", &out), 0);
	CHECK(out.len == 0);
	/* The first of a name, as cJSON_GetObjectItem's. */
	CHECK_INT(elements("{\"s\":[1],\"s\":[2]}", "s", &out), 0);
	CHECK_STR(out.data, "1\n");
	buf_free(&out);
}

static int stop_at_second(const char *element, size_t len, void *ctx)
{
	int *seen = ctx;

	(void)element;
	(void)len;
	return ++*seen == 2 ? -EIO : 0;
}

static void array_elements_refused_or_stopped(void)
{
	static const char *const bad[] = { "", "[1]", "{\"s\":[1,]}", "{\"s\":[1]", "{\"s\":[1]}x",
		"{\"s\":{\"a\":1}}", "{\"s\":\"[1]\"}" };
	struct buf out = BUF_INIT;
	int seen = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(elements(bad[i], "s", &out), -EPROTO);
	CHECK(out.len == 0);
	CHECK_INT(json_array_each("{\"s\":[1,2,3]}", 13, "s", stop_at_second, &seen), -EIO);
	CHECK_INT(seen, 2);
	buf_free(&out);
}

static const struct unit_case cases[] = {
	{ "pieces_scan_as_the_whole", pieces_scan_as_the_whole },
	{ "a_megabyte_in_single_bytes_is_scanned_once", a_megabyte_in_single_bytes_is_scanned_once },
	{ "complete_objects", complete_objects },
	{ "prefixes_wait_for_more", prefixes_wait_for_more },
	{ "garbage_is_invalid_at_once", garbage_is_invalid_at_once },
	{ "embedded_nul_is_invalid", embedded_nul_is_invalid },
	{ "nesting_is_bounded", nesting_is_bounded },
	{ "array_elements_one_by_one", array_elements_one_by_one },
	{ "array_elements_of_nothing", array_elements_of_nothing },
	{ "array_elements_refused_or_stopped", array_elements_refused_or_stopped },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
