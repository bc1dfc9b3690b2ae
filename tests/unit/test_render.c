/*
 * fs/render.c fed with answers recorded from real engines (tests/data): the
 * files info.json, indices, failures, progress and /_recovery entries.
 */
#include <cjson/cJSON.h>
#include <errno.h>

#include "client/api.h"
#include "client/buf.h"
#include "fs/render.h"
#include "unit.h"

static const char *const engines[] = { "opensearch-2.19.6", "elasticsearch-8.19.21" };
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))

/* The parsed answer ENGINE/NAME.json; the caller deletes it. */
static cJSON *recorded(const char *engine, const char *name)
{
	char rel[256];
	char *text;
	cJSON *json;

	snprintf(rel, sizeof(rel), "%s/%s.json", engine, name);
	text = unit_read_data(rel);
	json = cJSON_Parse(text);
	free(text);
	if (!json) {
		fprintf(stderr, "%s: not JSON\n", rel);
		exit(2);
	}
	return json;
}

static double number_at(const cJSON *obj, const char *a, const char *b, const char *c)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, a);

	item = cJSON_GetObjectItemCaseSensitive(item, b);
	if (c)
		item = cJSON_GetObjectItemCaseSensitive(item, c);
	if (!cJSON_IsNumber(item)) {
		fprintf(stderr, "no number at %s.%s%s%s\n", a, b, c ? "." : "", c ? c : "");
		unit_failures++;
		return -1;
	}
	return item->valuedouble;
}

/* info.json re-reads as the very object the engine sent. */
static void json_round_trips_for_every_state(void)
{
	static const char *const names[] = {
		"get_snapshot_success", "get_snapshot_partial", "get_snapshot_in_progress",
		"get_snapshot_status", "get_snapshot_in_progress_status",
	};

	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			cJSON *answer = recorded(engines[e], names[i]);
			const cJSON *snap = api_single_snapshot(answer);
			struct buf out = BUF_INIT;
			cJSON *back;

			CHECK(snap != NULL);
			CHECK_INT(render_json(&out, snap), 0);
			CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
			CHECK(strstr(out.data, "\n  \"snapshot\": ") != NULL);
			back = cJSON_Parse(out.data);
			CHECK(back != NULL);
			if (!cJSON_Compare(back, snap, 1)) {
				fprintf(stderr, "%s/%s: rendered JSON differs from the answer\n", engines[e], names[i]);
				unit_failures++;
			}
			cJSON_Delete(back);
			buf_free(&out);
			cJSON_Delete(answer);
		}
	}
}

static void json_of_nothing_is_enodata(void)
{
	struct buf out = BUF_INIT;

	CHECK_INT(render_json(&out, NULL), -ENODATA);
	buf_free(&out);
}

/* indices: the snapshot's list, in the engine's order (which differs between engines). */
static void failures_empty_for_success(void)
{
	for (size_t e = 0; e < N_ENGINES; e++) {
		cJSON *answer = recorded(engines[e], "get_snapshot_success");
		struct buf out = BUF_INIT;

		CHECK_INT(render_failures(&out, api_single_snapshot(answer)), 0);
		CHECK_INT(out.len, 0);
		buf_free(&out);
		cJSON_Delete(answer);
	}
}

/* The red index's shard, by name on both engines (ES puts a uuid in index_uuid, OS the name). */
static void failures_of_partial_snapshot(void)
{
	for (size_t e = 0; e < N_ENGINES; e++) {
		cJSON *answer = recorded(engines[e], "get_snapshot_partial");
		const cJSON *snap = api_single_snapshot(answer);
		struct buf out = BUF_INIT;

		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "state")), "PARTIAL");
		CHECK_INT(render_failures(&out, snap), 0);
		CHECK_STR(out.data, "demo-red 0 INTERNAL_SERVER_ERROR primary shard is not allocated\n");
		buf_free(&out);
		cJSON_Delete(answer);
	}
}

/* A reason that spans lines stays on one line, and so does a status or index with a line break. */
static void failure_reason_kept_on_one_line(void)
{
	cJSON *snap = cJSON_Parse("{\"failures\":[{\"index\":\"i\",\"shard_id\":3,\"status\":\"X\","
				  "\"reason\":\"a\\nb\\r\\nc\"},{\"index\":\"j\\nk\",\"status\":\"Y\\r\"}]}");
	struct buf out = BUF_INIT;

	CHECK_INT(render_failures(&out, snap), 0);
	CHECK_STR(out.data, "i 3 X a b  c\nj k -1 Y  \n");
	buf_free(&out);
	cJSON_Delete(snap);
}

static void progress_of_finished_snapshot(void)
{
	static const char *const names[] = { "get_snapshot_status", "get_snapshot_partial_status" };

	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			cJSON *answer = recorded(engines[e], names[i]);
			const cJSON *snap = api_single_snapshot(answer);
			double total = number_at(snap, "stats", "total", "size_in_bytes");
			double shards_done = number_at(snap, "shards_stats", "done", NULL);
			double shards_total = number_at(snap, "shards_stats", "total", NULL);
			struct buf out = BUF_INIT;
			char want[128];

			/* Done, not a running snapshot: "processed" is gone. */
			CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(snap, "stats"),
							       "processed") == NULL);
			CHECK(total > 0);
			if (i == 0)
				CHECK(shards_done == shards_total);
			snprintf(want, sizeof(want), "100.0%% shards %.0f/%.0f bytes %.0f/%.0f\n", shards_done,
				 shards_total, total, total);
			CHECK_INT(render_progress(&out, snap), 0);
			CHECK_STR(out.data, want);
			buf_free(&out);
			cJSON_Delete(answer);
		}
	}
}

/* _status says STARTED while it runs (not IN_PROGRESS) and adds stats.processed. */
static void progress_of_running_snapshot(void)
{
	for (size_t e = 0; e < N_ENGINES; e++) {
		cJSON *answer = recorded(engines[e], "get_snapshot_in_progress_status");
		const cJSON *snap = api_single_snapshot(answer);
		double done = number_at(snap, "stats", "processed", "size_in_bytes");
		double total = number_at(snap, "stats", "total", "size_in_bytes");
		double shards_done = number_at(snap, "shards_stats", "done", NULL);
		double shards_total = number_at(snap, "shards_stats", "total", NULL);
		double pct = 100.0 * done / total;
		struct buf out = BUF_INIT;
		char want[128];
		double got_pct = -1;

		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "state")), "STARTED");
		CHECK(done > 0 && done < total);
		snprintf(want, sizeof(want), "%.1f%% shards %.0f/%.0f bytes %.0f/%.0f\n", pct, shards_done,
			 shards_total, done, total);
		CHECK_INT(render_progress(&out, snap), 0);
		CHECK_STR(out.data, want);
		CHECK(out.data && sscanf(out.data, "%lf%%", &got_pct) == 1);
		CHECK(got_pct >= 0 && got_pct < 100);
		buf_free(&out);
		cJSON_Delete(answer);
	}
}

static void health_status_line(void)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{ "cluster_health_green", "green\n" },
		{ "cluster_health_red", "red\n" },
	};

	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			cJSON *answer = recorded(engines[e], cases[i].name);
			struct buf out = BUF_INIT;

			CHECK_INT(render_line(&out, answer, "status"), 0);
			CHECK_STR(out.data, cases[i].want);
			buf_free(&out);
			/* A number is not a line; an absent member neither. */
			CHECK_INT(render_line(&out, answer, "number_of_nodes"), -ENODATA);
			CHECK_INT(render_line(&out, answer, "no_such_member"), -ENODATA);
			CHECK_INT(out.len, 0);
			buf_free(&out);
			cJSON_Delete(answer);
		}
	}
}

/* A _cat/recovery row: every value a string, as the engines answer with format=json. */
static void add_cat_row(cJSON *rows, const char *index, const char *shard, const char *type,
			const char *stage, long long files_done, long long files_total,
			long long bytes_done, long long bytes_total, const char *repo, const char *snap)
{
	cJSON *row = cJSON_CreateObject();
	char n[32];

	cJSON_AddStringToObject(row, "index", index);
	cJSON_AddStringToObject(row, "shard", shard);
	cJSON_AddStringToObject(row, "type", type);
	cJSON_AddStringToObject(row, "stage", stage);
	snprintf(n, sizeof(n), "%lld", files_done);
	cJSON_AddStringToObject(row, "files_recovered", n);
	snprintf(n, sizeof(n), "%lld", files_total);
	cJSON_AddStringToObject(row, "files_total", n);
	snprintf(n, sizeof(n), "%lld", bytes_done);
	cJSON_AddStringToObject(row, "bytes_recovered", n);
	snprintf(n, sizeof(n), "%lld", bytes_total);
	cJSON_AddStringToObject(row, "bytes_total", n);
	cJSON_AddStringToObject(row, "repository", repo);
	cJSON_AddStringToObject(row, "snapshot", snap);
	cJSON_AddItemToArray(rows, row);
}

/* Two shards in different stages, hand-made: the least advanced stage, sums, percents. */
static void recovery_two_shards(void)
{
	cJSON *rows = cJSON_CreateArray();
	struct buf out = BUF_INIT;

	add_cat_row(rows, "restored-logs", "0", "snapshot", "done", 4, 4, 6000, 6000, "demo", "nightly-1");
	add_cat_row(rows, "restored-logs", "1", "snapshot", "index", 1, 4, 2000, 10000, "demo", "nightly-1");
	/* Not counted: a replica copied from the primary, and another index. */
	add_cat_row(rows, "restored-logs", "0", "peer", "init", 0, 9, 0, 999, "n/a", "n/a");
	add_cat_row(rows, "restored-users", "0", "snapshot", "init", 0, 4, 0, 5000, "demo", "nightly-1");
	CHECK_INT(render_recovery(&out, rows, "restored-logs"), 0);
	CHECK_STR(out.data, "INDEX files 62.5% 5/8 bytes 50.0% 8000/16000 shards 1/2 snapshot demo/nightly-1\n");
	buf_free(&out);
	CHECK_INT(render_recovery(&out, rows, "restored-users"), 0);
	CHECK_STR(out.data, "INIT files 0.0% 0/4 bytes 0.0% 0/5000 shards 0/1 snapshot demo/nightly-1\n");
	buf_free(&out);
	CHECK_INT(render_recovery(&out, rows, "demo-logs"), -ENOENT);
	buf_free(&out);
	cJSON_Delete(rows);
}

/*
 * The recordings hold GET _recovery (objects), not _cat/recovery: make the
 * _cat row of each recorded snapshot shard (type and stage lowercased, as
 * _cat writes them), add a second shard still in VERIFY_INDEX, and compare
 * with numbers computed here from the recording.
 */
static void recovery_from_recorded_restore(void)
{
	for (size_t e = 0; e < N_ENGINES; e++) {
		cJSON *answer = recorded(engines[e], "recovery_restored");
		const cJSON *shard = cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(answer, "restored-logs"),
							 "shards"), 0);
		const cJSON *source = cJSON_GetObjectItemCaseSensitive(shard, "source");
		const char *repo = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(source, "repository"));
		const char *snap = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(source, "snapshot"));
		long long fd = (long long)number_at(shard, "index", "files", "recovered");
		long long ft = (long long)number_at(shard, "index", "files", "total");
		long long bd = (long long)number_at(shard, "index", "size", "recovered_in_bytes");
		long long bt = (long long)number_at(shard, "index", "size", "total_in_bytes");
		cJSON *rows = cJSON_CreateArray();
		struct buf out = BUF_INIT;
		char want[256];

		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(shard, "type")), "SNAPSHOT");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(shard, "stage")), "DONE");
		CHECK_STR(repo, "demo");
		CHECK_STR(snap, "nightly-1");
		CHECK(ft > 0 && fd == ft && bt > 0 && bd == bt);
		add_cat_row(rows, "restored-logs", "0", "snapshot", "done", fd, ft, bd, bt, repo, snap);

		/* The recorded shard alone: finished. */
		snprintf(want, sizeof(want), "DONE files 100.0%% %lld/%lld bytes 100.0%% %lld/%lld shards 1/1 snapshot %s/%s\n",
			 fd, ft, bd, bt, repo, snap);
		CHECK_INT(render_recovery(&out, rows, "restored-logs"), 0);
		CHECK_STR(out.data, want);
		buf_free(&out);

		/* With a second shard half-way. */
		add_cat_row(rows, "restored-logs", "1", "snapshot", "verify_index", 2, ft, bt / 2, bt, repo, snap);
		snprintf(want, sizeof(want), "VERIFY_INDEX files %.1f%% %lld/%lld bytes %.1f%% %lld/%lld shards 1/2 snapshot %s/%s\n",
			 100.0 * (double)(fd + 2) / (double)(2 * ft), fd + 2, 2 * ft,
			 100.0 * (double)(bd + bt / 2) / (double)(2 * bt), bd + bt / 2, 2 * bt, repo, snap);
		CHECK_INT(render_recovery(&out, rows, "restored-logs"), 0);
		CHECK_STR(out.data, want);
		buf_free(&out);
		cJSON_Delete(rows);
		cJSON_Delete(answer);
	}
}

static void repository_secrets_are_redacted(void)
{
	const char *text = "{\"type\":\"oss\",\"settings\":{\"endpoint\":\"oss-cn-hangzhou.aliyuncs.com\","
			   "\"access_key_id\":\"LTAI5t\",\"secret_access_key\":\"s3cr3t\",\"bucket\":\"b\","
			   "\"session_token\":\"tok\",\"client\":{\"password\":\"pw\",\"key\":\"k\"},"
			   "\"chunk_size\":\"500mb\"}}";
	cJSON *entry = cJSON_Parse(text);
	struct buf out = BUF_INIT;
	cJSON *shown;

	CHECK_INT(render_repository(&out, entry), 0);
	CHECK(strstr(out.data, "s3cr3t") == NULL);
	CHECK(strstr(out.data, "\"tok\"") == NULL);
	CHECK(strstr(out.data, "\"pw\"") == NULL);
	shown = cJSON_Parse(out.data);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(shown, "settings"),
							      "secret_access_key")), "<redacted>");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(shown,
		"settings"), "client"), "key")), "<redacted>");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(shown, "settings"),
							      "chunk_size")), "500mb");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(shown, "settings"),
							      "access_key_id")), "LTAI5t");
	/* The engine's answer itself is left as it was. */
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(entry, "settings"),
							      "secret_access_key")), "s3cr3t");
	cJSON_Delete(shown);
	cJSON_Delete(entry);
	buf_free(&out);
}

/* A setting's name is looked at to its end, however long: it was cut at 127 bytes. */
static void long_secret_names_are_redacted(void)
{
	struct buf name = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	cJSON *entry;

	for (int i = 0; i < 150; i++)
		buf_puts(&name, "x");
	buf_puts(&name, "_Password");
	buf_printf(&text, "{\"type\":\"fs\",\"settings\":{\"%s\":\"hunter2\"}}", name.data);
	entry = cJSON_Parse(text.data);
	CHECK_INT(render_repository(&out, entry), 0);
	CHECK(strstr(out.data, "hunter2") == NULL);
	cJSON_Delete(entry);
	buf_free(&name);
	buf_free(&text);
	buf_free(&out);
}

/* A name given twice (no engine does, but a proxy might): each value is redacted. */
static void secrets_named_twice_are_redacted(void)
{
	cJSON *entry = cJSON_Parse("{\"type\":\"fs\",\"settings\":{\"password\":\"one\",\"password\":\"two\","
				   "\"location\":\"/x\"}}");
	struct buf out = BUF_INIT;

	CHECK_INT(render_repository(&out, entry), 0);
	CHECK(strstr(out.data, "one") == NULL);
	CHECK(strstr(out.data, "two") == NULL);
	CHECK(strstr(out.data, "\"password\": \"<redacted>\",\n    \"password\": \"<redacted>\"") != NULL);
	cJSON_Delete(entry);
	buf_free(&out);
}

/* Counters past long long's range add up to its largest value, not to undefined behaviour. */
static void recovery_counters_saturate(void)
{
	cJSON *rows = cJSON_Parse("[{\"index\":\"i\",\"type\":\"snapshot\",\"stage\":\"done\","
				  "\"bytes_recovered\":\"99999999999999999999\",\"bytes_total\":\"1\"},"
				  "{\"index\":\"i\",\"type\":\"snapshot\",\"stage\":\"done\",\"bytes_recovered\":\"5\"}]");
	struct buf out = BUF_INIT;

	CHECK_INT(render_recovery(&out, rows, "i"), 0);
	CHECK(strstr(out.data, " 9223372036854775807/1 ") != NULL);
	cJSON_Delete(rows);
	buf_free(&out);
}

static const struct unit_case cases[] = {
	{ "repository_secrets_are_redacted", repository_secrets_are_redacted },
	{ "long_secret_names_are_redacted", long_secret_names_are_redacted },
	{ "secrets_named_twice_are_redacted", secrets_named_twice_are_redacted },
	{ "recovery_counters_saturate", recovery_counters_saturate },
	{ "json_round_trips_for_every_state", json_round_trips_for_every_state },
	{ "json_of_nothing_is_enodata", json_of_nothing_is_enodata },
	{ "failures_empty_for_success", failures_empty_for_success },
	{ "failures_of_partial_snapshot", failures_of_partial_snapshot },
	{ "failure_reason_kept_on_one_line", failure_reason_kept_on_one_line },
	{ "progress_of_finished_snapshot", progress_of_finished_snapshot },
	{ "progress_of_running_snapshot", progress_of_running_snapshot },
	{ "health_status_line", health_status_line },
	{ "recovery_two_shards", recovery_two_shards },
	{ "recovery_from_recorded_restore", recovery_from_recorded_restore },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
