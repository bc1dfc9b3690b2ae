/* A repository's snapshot listing, compact and indexed by name (see client/snaplist.h). */
#include "client/snaplist.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/jsonscan.h"

struct snaplist {
	size_t count;
	struct snap_row *rows;
	size_t mask;		/* the index has mask + 1 slots, at least twice count */
	uint32_t *slots;	/* a row's place plus one; 0 is an empty slot */
	char *strings;		/* every name, UUID, state and index list, one after another */
	size_t strings_len;
	pthread_mutex_t lock;	/* with settled: wakes those waiting for a claimed row */
	pthread_cond_t settled;
};

static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static const char *string_of(const cJSON *snapshot, const char *member)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snapshot, member));
}

static char *put_string(char **at, const char *s)
{
	char *start = *at;
	size_t n = s ? strlen(s) : 0;

	memcpy(start, s ? s : "", n);
	start[n] = '\0';
	*at += n + 1;
	return start;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The index names, sorted: the engines give them in no stable order (a map's, in verbose=false). */
static int put_indices(struct snap_row *row, const cJSON *snapshot, char **at)
{
	const cJSON *indices = cJSON_GetObjectItemCaseSensitive(snapshot, "indices"), *index;
	size_t n = 0, count = (size_t)cJSON_GetArraySize(indices);
	const char **names = malloc((count ? count : 1) * sizeof(*names));
	char *start = *at;

	if (!names)
		return -ENOMEM;
	cJSON_ArrayForEach(index, indices)
		if (cJSON_IsString(index))
			names[n++] = index->valuestring;
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		*at += strlen(strcpy(*at, names[i]));
		*(*at)++ = '\n';
	}
	free(names);
	row->indices = start;
	row->indices_len = (size_t)(*at - start);
	*(*at)++ = '\0';
	return 0;
}

static int fill_row(struct snap_row *row, const cJSON *snapshot, char **at)
{
	row->name = put_string(at, string_of(snapshot, "snapshot"));
	row->uuid = put_string(at, string_of(snapshot, "uuid"));
	row->state = put_string(at, string_of(snapshot, "state"));
	atomic_init(&row->start_ms, SNAP_START_UNKNOWN);
	return put_indices(row, snapshot, at);
}

static void index_row(struct snaplist *l, size_t i)
{
	size_t slot = name_hash(l->rows[i].name) & l->mask;

	while (l->slots[slot])
		slot = (slot + 1) & l->mask;
	l->slots[slot] = (uint32_t)(i + 1);
}

/*
 * The block of strings is sized before any element is parsed, for the worst
 * case: no string is longer decoded than written between its quotes, and
 * each takes at most its two quotes' bytes for its ending. A missing UUID or
 * state and the index list's terminator take one more each, and a row's
 * element is at least {"snapshot":""}, 15 bytes: 3 more per 15 at most.
 */
#define MIN_ELEMENT 15

struct filling {
	struct snaplist *l;
	size_t room;		/* rows allocated */
	char *at;
};

static int add_row(struct filling *f, const cJSON *snapshot)
{
	struct snaplist *l = f->l;

	if (l->count == f->room) {
		size_t room = f->room ? 2 * f->room : 64;
		struct snap_row *rows = realloc(l->rows, room * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		l->rows = rows;
		f->room = room;
	}
	return fill_row(&l->rows[l->count++], snapshot, &f->at);
}

/* One snapshot of the answer, parsed alone. */
static int fill_element(const char *element, size_t len, void *ctx)
{
	cJSON *snapshot = cJSON_ParseWithLength(element, len);
	int rc = string_of(snapshot, "snapshot") ? add_row(ctx, snapshot) : -EPROTO;

	cJSON_Delete(snapshot);
	return rc;
}

/* The index by name, made once every row is in; a name the engine gave twice is kept once. */
static int index_rows(struct snaplist *l)
{
	size_t slots = 4, kept = 0;

	while (slots < 2 * l->count)
		slots *= 2;
	l->mask = slots - 1;
	l->slots = calloc(slots, sizeof(*l->slots));
	if (!l->slots)
		return -ENOMEM;
	for (size_t i = 0; i < l->count; i++) {
		if (snaplist_find(l, l->rows[i].name))
			continue;
		l->rows[kept] = l->rows[i];
		index_row(l, kept++);
	}
	l->count = kept;
	/* Rows grew by doubling: give back what the index did not keep (nothing points into them yet). */
	if (kept) {
		struct snap_row *rows = realloc(l->rows, kept * sizeof(*rows));

		if (rows)
			l->rows = rows;
	}
	return 0;
}

/* Keeps only the bytes used of the block sized for the worst case (a copy: the rows point into it). */
static void trim_strings(struct snaplist *l, size_t used)
{
	char *block = malloc(used ? used : 1);

	if (!block)
		return;
	memcpy(block, l->strings, used);
	for (size_t i = 0; i < l->count; i++) {
		struct snap_row *row = &l->rows[i];

		row->name = block + (row->name - l->strings);
		row->uuid = block + (row->uuid - l->strings);
		row->state = block + (row->state - l->strings);
		row->indices = block + (row->indices - l->strings);
	}
	free(l->strings);
	l->strings = block;
	l->strings_len = used;
}

static int build(struct snaplist *l, const char *body, size_t len)
{
	struct filling fill = { .l = l };
	size_t bound = len + 3 * (len / MIN_ELEMENT + 1);
	int rc;

	l->strings = malloc(bound);
	if (!l->strings)
		return -ENOMEM;
	l->strings_len = bound;
	fill.at = l->strings;
	rc = json_array_each(body, len, "snapshots", fill_element, &fill);
	if (!rc)
		rc = index_rows(l);
	if (!rc)
		trim_strings(l, (size_t)(fill.at - l->strings));
	return rc;
}

/* The answer is never parsed whole: a tree of it takes ten times its size (see json_array_each). */
int snaplist_parse(const char *body, size_t len, struct snaplist **out)
{
	struct snaplist *l = calloc(1, sizeof(*l));
	int rc;

	if (l) {
		pthread_mutex_init(&l->lock, NULL);
		pthread_cond_init(&l->settled, NULL);
	}
	rc = l ? build(l, body, len) : -ENOMEM;
	if (rc) {
		snaplist_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void snaplist_free(struct snaplist *l)
{
	if (!l)
		return;
	free(l->rows);
	free(l->slots);
	free(l->strings);
	pthread_cond_destroy(&l->settled);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

size_t snaplist_weight(const struct snaplist *l)
{
	return sizeof(*l) + l->count * sizeof(*l->rows) + (l->mask + 1) * sizeof(*l->slots) +
	       l->strings_len;
}

size_t snaplist_count(const struct snaplist *l)
{
	return l->count;
}

struct snap_row *snaplist_row(const struct snaplist *l, size_t i)
{
	return i < l->count ? &l->rows[i] : NULL;
}

struct snap_row *snaplist_find(const struct snaplist *l, const char *name)
{
	size_t slot = name_hash(name) & l->mask;

	for (; l->slots[slot]; slot = (slot + 1) & l->mask) {
		struct snap_row *row = &l->rows[l->slots[slot] - 1];

		if (!strcmp(row->name, name))
			return row;
	}
	return NULL;
}

size_t snaplist_index(const struct snaplist *l, const struct snap_row *row)
{
	return (size_t)(row - l->rows);
}

int snaplist_claim(struct snap_row *row)
{
	long long unknown = SNAP_START_UNKNOWN;

	return atomic_compare_exchange_strong(&row->start_ms, &unknown, SNAP_START_ASKING);
}

void snaplist_settle(struct snaplist *l, struct snap_row *row, long long start_ms)
{
	pthread_mutex_lock(&l->lock);
	atomic_store(&row->start_ms, start_ms);
	pthread_cond_broadcast(&l->settled);
	pthread_mutex_unlock(&l->lock);
}

/* Bounded: the claiming thread settles every row it claimed once its request ends. */
long long snaplist_wait_start(struct snaplist *l, const struct snap_row *row)
{
	long long start;

	pthread_mutex_lock(&l->lock);
	while ((start = atomic_load(&row->start_ms)) == SNAP_START_ASKING)
		pthread_cond_wait(&l->settled, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return start;
}

int snaplist_row_final(const struct snap_row *row)
{
	return !strcmp(row->state, "SUCCESS") || !strcmp(row->state, "PARTIAL") ||
	       !strcmp(row->state, "FAILED") || !strcmp(row->state, "INCOMPATIBLE");
}

size_t snaplist_inherit(struct snaplist *l, const struct snaplist *old)
{
	size_t kept = 0;

	for (size_t i = 0; old && i < l->count; i++) {
		struct snap_row *row = &l->rows[i];
		const struct snap_row *was = snaplist_find(old, row->name);
		long long start;

		if (!was || strcmp(was->uuid, row->uuid))
			continue;
		kept++;
		/* Only a time the engine gave: a snapshot it did not know then may be there now. */
		start = atomic_load(&was->start_ms);
		if (start >= 0)
			atomic_store(&row->start_ms, start);
	}
	/* Names are unique in a listing: the old rows not matched are gone. */
	return old ? old->count - kept : 0;
}
