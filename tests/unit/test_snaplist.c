/*
 * client/snaplist.c fed with listings recorded from real engines (tests/data):
 * every snapshot found by name with its state and indices, and start times
 * carried from one listing to the next only for the same snapshot.
 */
#include <cjson/cJSON.h>
#include <errno.h>

#include "client/api.h"
#include "client/buf.h"
#include "client/snaplist.h"
#include "unit.h"

static const char *const engines[] = { "opensearch-2.19.6", "elasticsearch-8.19.21" };
#define N_ENGINES (sizeof(engines) / sizeof(engines[0]))

static char *recorded_text(const char *engine, const char *name)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "%s/%s.json", engine, name);
	return unit_read_data(rel);
}

static struct snaplist *parsed(const char *text)
{
	struct snaplist *l = NULL;

	CHECK_INT(snaplist_parse(text, strlen(text), &l), 0);
	if (!l)
		exit(1);
	return l;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* What the engine said of each snapshot (indices sorted by name), checked against what the listing keeps. */
static void each_snapshot_found_with_its_state_and_indices(void)
{
	static const char *const names[] = { "get_snapshots_verbose_false",
		"get_snapshots_verbose_false_partial", "get_snapshot_in_progress_verbose_false" };

	for (size_t e = 0; e < N_ENGINES; e++) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char *text = recorded_text(engines[e], names[i]);
			cJSON *answer = cJSON_Parse(text);
			struct snaplist *l = parsed(text);
			const cJSON *snap, *index;
			size_t n = 0;

			cJSON_ArrayForEach(snap, cJSON_GetObjectItemCaseSensitive(answer, "snapshots")) {
				const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "snapshot"));
				struct snap_row *row = snaplist_find(l, name);
				struct buf want = BUF_INIT;
				const char *sorted[8];
				size_t k = 0;

				cJSON_ArrayForEach(index, cJSON_GetObjectItem(snap, "indices"))
					if (k < 8)
						sorted[k++] = index->valuestring;
				qsort(sorted, k, sizeof(*sorted), by_name);
				for (size_t j = 0; j < k; j++)
					buf_printf(&want, "%s\n", sorted[j]);
				CHECK(row != NULL);
				if (row) {
					CHECK_STR(row->state, cJSON_GetStringValue(cJSON_GetObjectItem(snap, "state")));
					CHECK_STR(row->uuid, cJSON_GetStringValue(cJSON_GetObjectItem(snap, "uuid")));
					CHECK_INT(row->indices_len, want.len);
					CHECK(!memcmp(row->indices, want.data, want.len));
					CHECK_INT(snaplist_index(l, row), n);
					CHECK_INT(atomic_load(&row->start_ms), SNAP_START_UNKNOWN);
				}
				buf_free(&want);
				n++;
			}
			CHECK(n > 0);
			CHECK_INT(snaplist_count(l), n);
			CHECK(snaplist_find(l, "nightly") == NULL);
			CHECK(snaplist_find(l, "") == NULL);
			snaplist_free(l);
			cJSON_Delete(answer);
			free(text);
		}
	}
}

/* filter_path leaves "{}" of a repository with no snapshot. */
static void empty_repository_lists_nothing(void)
{
	struct snaplist *l = parsed("{}");

	CHECK_INT(snaplist_count(l), 0);
	CHECK(snaplist_find(l, "x") == NULL);
	snaplist_free(l);
}

static void not_a_listing_refused(void)
{
	static const char *const texts[] = { "", "[]", "{\"snapshots\":{}}", "{\"snapshots\":[{}]}",
		"{\"snapshots\":[{\"snapshot\":1}]}", "{\"snapshots\":[" };
	struct snaplist *l = NULL;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		CHECK_INT(snaplist_parse(texts[i], strlen(texts[i]), &l), -EPROTO);
	CHECK(l == NULL);
}

/* Thousands of names, all found: the index must hold past its first sizes. */
static void many_names_each_found(void)
{
	struct buf text = BUF_INIT;
	struct snaplist *l;
	char name[32];

	buf_puts(&text, "{\"snapshots\":[");
	for (int i = 0; i < 5000; i++)
		buf_printf(&text, "%s{\"snapshot\":\"s-%d\",\"uuid\":\"u%d\",\"state\":\"SUCCESS\",\"indices\":[\"i%d\"]}",
			   i ? "," : "", i, i, i % 7);
	buf_puts(&text, "]}");
	l = parsed(text.data);
	CHECK_INT(snaplist_count(l), 5000);
	for (int i = 0; i < 5000; i++) {
		struct snap_row *row;

		snprintf(name, sizeof(name), "s-%d", i);
		row = snaplist_find(l, name);
		CHECK(row && snaplist_index(l, row) == (size_t)i);
	}
	snprintf(name, sizeof(name), "s-%d", 5000);
	CHECK(snaplist_find(l, name) == NULL);
	CHECK(snaplist_weight(l) < text.len * 2);
	snaplist_free(l);
	buf_free(&text);
}

/* A name given twice is one row, as the tree shows one directory per name. */
static void name_given_twice_kept_once(void)
{
	struct snaplist *l = parsed("{\"snapshots\":[{\"snapshot\":\"a\",\"uuid\":\"1\",\"state\":\"SUCCESS\"},"
				    "{\"snapshot\":\"a\",\"uuid\":\"2\",\"state\":\"FAILED\"}]}");

	CHECK_INT(snaplist_count(l), 1);
	CHECK_STR(snaplist_find(l, "a")->uuid, "1");
	CHECK_INT(snaplist_find(l, "a")->indices_len, 0);
	snaplist_free(l);
}

/* A start time survives a new listing for the same snapshot; a name taken again starts over. */
static void start_times_inherited_only_for_the_same_uuid(void)
{
	struct snaplist *old = parsed("{\"snapshots\":[{\"snapshot\":\"a\",\"uuid\":\"1\",\"state\":\"SUCCESS\"},"
				      "{\"snapshot\":\"b\",\"uuid\":\"2\",\"state\":\"SUCCESS\"},"
				      "{\"snapshot\":\"c\",\"uuid\":\"3\",\"state\":\"SUCCESS\"}]}");
	struct snaplist *l = parsed("{\"snapshots\":[{\"snapshot\":\"b\",\"uuid\":\"2\",\"state\":\"SUCCESS\"},"
				    "{\"snapshot\":\"a\",\"uuid\":\"9\",\"state\":\"IN_PROGRESS\"},"
				    "{\"snapshot\":\"c\",\"uuid\":\"3\",\"state\":\"SUCCESS\"},"
				    "{\"snapshot\":\"d\",\"uuid\":\"4\",\"state\":\"SUCCESS\"}]}");

	CHECK(snaplist_claim(snaplist_find(old, "a")));
	CHECK(!snaplist_claim(snaplist_find(old, "a")));
	snaplist_settle(old, snaplist_find(old, "a"), 1000);
	CHECK(snaplist_claim(snaplist_find(old, "b")));
	snaplist_settle(old, snaplist_find(old, "b"), 2000);
	CHECK(snaplist_claim(snaplist_find(old, "c")));
	snaplist_settle(old, snaplist_find(old, "c"), SNAP_START_MISSING);
	CHECK_INT(snaplist_wait_start(old, snaplist_find(old, "b")), 2000);

	/* "a" of UUID 1 went (taken again since, as another snapshot); b and c stayed. */
	CHECK_INT(snaplist_inherit(l, old), 1);
	CHECK_INT(snaplist_inherit(old, l), 2);
	CHECK_INT(snaplist_inherit(l, NULL), 0);
	CHECK_INT(atomic_load(&snaplist_find(l, "b")->start_ms), 2000);
	CHECK_INT(atomic_load(&snaplist_find(l, "a")->start_ms), SNAP_START_UNKNOWN);
	/* Missing then may be there now: asked again. */
	CHECK_INT(atomic_load(&snaplist_find(l, "c")->start_ms), SNAP_START_UNKNOWN);
	CHECK_INT(atomic_load(&snaplist_find(l, "d")->start_ms), SNAP_START_UNKNOWN);
	snaplist_free(old);
	snaplist_free(l);
}

/*
 * Only a time is taken from the start times answer: not a marker (-1 would
 * ask again at each stat), nor 1e300, nor the time of another UUID.
 */
static void start_times_answer_gives_only_times(void)
{
	static const char answer_text[] =
		"{\"snapshots\":[{\"snapshot\":\"a\",\"uuid\":\"1\",\"start_time_in_millis\":1700000000000},"
		"{\"snapshot\":\"b\",\"uuid\":\"2\",\"start_time_in_millis\":-1},"
		"{\"snapshot\":\"c\",\"uuid\":\"3\",\"start_time_in_millis\":1e300},"
		"{\"snapshot\":\"d\",\"uuid\":\"other\",\"start_time_in_millis\":5}]}";
	struct snaplist *l = parsed("{\"snapshots\":[{\"snapshot\":\"a\",\"uuid\":\"1\"},{\"snapshot\":\"b\",\"uuid\":\"2\"},"
				    "{\"snapshot\":\"c\",\"uuid\":\"3\"},{\"snapshot\":\"d\",\"uuid\":\"4\"}]}");
	const char *names[] = { "a", "b", "c", "d" };

	for (size_t i = 0; i < 4; i++)
		CHECK(snaplist_claim(snaplist_find(l, names[i])));
	api_snapshot_starts_settle(l, answer_text, strlen(answer_text));
	CHECK_INT(atomic_load(&snaplist_find(l, "a")->start_ms), 1700000000000LL);
	for (size_t i = 1; i < 4; i++)
		CHECK_INT(atomic_load(&snaplist_find(l, names[i])->start_ms), SNAP_START_ASKING);
	snaplist_free(l);
}

static const struct unit_case cases[] = {
	{ "each_snapshot_found_with_its_state_and_indices", each_snapshot_found_with_its_state_and_indices },
	{ "empty_repository_lists_nothing", empty_repository_lists_nothing },
	{ "not_a_listing_refused", not_a_listing_refused },
	{ "many_names_each_found", many_names_each_found },
	{ "name_given_twice_kept_once", name_given_twice_kept_once },
	{ "start_times_inherited_only_for_the_same_uuid", start_times_inherited_only_for_the_same_uuid },
	{ "start_times_answer_gives_only_times", start_times_answer_gives_only_times },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
