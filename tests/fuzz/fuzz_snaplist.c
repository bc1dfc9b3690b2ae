/*
 * Fuzzes the reading of a repository's snapshot listing (client/snaplist.c:
 * snaplist_parse, snaplist_find) and of the start times answer
 * (api_snapshot_starts_settle), both engine answers. The input is read as
 * both: the listing's rows are claimed, then settled from the same JSON.
 * Checks: each listed name is found, as its own row; the index lists end
 * in a newline, and are sorted (seen when no name can hold a line break); a lookup never gives another name's row; each
 * claimed row ends up settled.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/snaplist.h"
#include "fuzz.h"

/*
 * Whether an index name may hold a line break: raw (cJSON lets it through)
 * or escaped, anywhere in the body, NUL bytes included (cJSON reads past them).
 */
static int may_break_lines(const char *body, size_t len)
{
	return memchr(body, '\n', len) || memchr(body, '\r', len) || memmem(body, len, "\\n", 2) ||
	       memmem(body, len, "\\u", 2);
}

static void check_indices(const struct snap_row *row, int sorted_lines)
{
	const char *p = row->indices, *prev = NULL;
	size_t prev_len = 0;

	FUZZ_CHECK(strlen(row->indices) == row->indices_len);
	FUZZ_CHECK(!row->indices_len || row->indices[row->indices_len - 1] == '\n');
	while (sorted_lines && *p) {
		size_t len = strcspn(p, "\n");

		/* Sorted by strcmp of whole names: a name is never before a shorter prefix of it. */
		if (prev) {
			int c = memcmp(prev, p, prev_len < len ? prev_len : len);

			FUZZ_CHECK(c < 0 || (c == 0 && prev_len <= len));
		}
		prev = p;
		prev_len = len;
		p += len + 1;
	}
}

static void check_rows(struct snaplist *l, int sorted_lines)
{
	for (size_t i = 0; i < snaplist_count(l); i++) {
		struct snap_row *row = snaplist_row(l, i);

		FUZZ_CHECK(row && snaplist_find(l, row->name) == row);
		FUZZ_CHECK(snaplist_index(l, row) == i);
		check_indices(row, sorted_lines);
		FUZZ_CHECK(snaplist_claim(row));
	}
	FUZZ_CHECK(!snaplist_row(l, snaplist_count(l)));
	FUZZ_CHECK(snaplist_weight(l) > 0);
}

/* A lookup never gives the row of another name: here, one byte longer than a listed one. */
static void check_other_names(const struct snaplist *l)
{
	for (size_t i = 0; i < snaplist_count(l); i++) {
		const struct snap_row *row = snaplist_row(l, i);
		size_t len = strlen(row->name);
		char *other = malloc(len + 2);
		struct snap_row *found;

		FUZZ_CHECK(other != NULL);
		memcpy(other, row->name, len);
		other[len] = '~';
		other[len + 1] = '\0';
		found = snaplist_find(l, other);
		FUZZ_CHECK(!found || !strcmp(found->name, other));
		free(other);
	}
}

/* What api_snapshot_start does once the answer came: settle what it names, the rest as missing. */
static void settle_all(struct snaplist *l, const char *body, size_t size)
{
	api_snapshot_starts_settle(l, body, size);
	for (size_t i = 0; i < snaplist_count(l); i++) {
		struct snap_row *row = snaplist_row(l, i);

		if (atomic_load(&row->start_ms) == SNAP_START_ASKING)
			snaplist_settle(l, row, SNAP_START_MISSING);
		/* A time, or missing: never a marker (unknown would ask again at every stat). */
		FUZZ_CHECK(snaplist_wait_start(l, row) >= 0 ||
			   snaplist_wait_start(l, row) == SNAP_START_MISSING);
		(void)snaplist_row_final(row);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_text(data, size);
	struct snaplist *l = NULL, *again = NULL;
	int rc = snaplist_parse(body, size, &l);

	FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -ENOMEM);
	if (rc == 0) {
		check_rows(l, !may_break_lines(body, size));
		check_other_names(l);
		settle_all(l, body, size);
		/* A second listing of the same answer takes over the times the first one knew. */
		FUZZ_CHECK(snaplist_parse(body, size, &again) == 0);
		snaplist_inherit(again, l);
		snaplist_free(again);
	}
	snaplist_free(l);
	free(body);
	return 0;
}
