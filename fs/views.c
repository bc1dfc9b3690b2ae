/*
 * Views across snapshots, made from the repositories' listings alone (one
 * verbose=false request per repository, which carries every snapshot's
 * index list): /_indices/<index>/ holds a link per snapshot that has the
 * index, and /<repo>/_latest links to the newest snapshot that succeeded.
 * Their mtimes are start times, fetched in batches and kept as everywhere.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/api.h"
#include "client/snaplist.h"
#include "fs/lookup.h"
#include "fs/nodes.h"
#include "fs/tree.h"

/* ---------------------------------------------------------------- a set of names */

/* Open addressing: the union of index names over many listings stays linear. */
struct name_set {
	char **slots;
	size_t cap, count;
};

static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int name_set_grow(struct name_set *set)
{
	size_t cap = set->cap ? 2 * set->cap : 256;
	char **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++) {
		size_t at;

		if (!set->slots[i])
			continue;
		at = name_hash(set->slots[i], strlen(set->slots[i])) & (cap - 1);
		while (slots[at])
			at = (at + 1) & (cap - 1);
		slots[at] = set->slots[i];
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

static int name_set_add(struct name_set *set, const char *name, size_t len)
{
	size_t at;

	if (2 * (set->count + 1) > set->cap && name_set_grow(set))
		return -ENOMEM;
	at = name_hash(name, len) & (set->cap - 1);
	for (; set->slots[at]; at = (at + 1) & (set->cap - 1))
		if (!strncmp(set->slots[at], name, len) && !set->slots[at][len])
			return 0;
	set->slots[at] = strndup(name, len);
	if (!set->slots[at])
		return -ENOMEM;
	set->count++;
	return 0;
}

static void name_set_free(struct name_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names, sorted, packed at the start of the slots (the set is only freed after). */
static char **name_set_sorted(struct name_set *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i])
			set->slots[n++] = set->slots[i];
	for (size_t i = n; i < set->cap; i++)
		set->slots[i] = NULL;
	if (n)
		qsort(set->slots, n, sizeof(*set->slots), by_name);
	return set->slots;
}

/* ---------------------------------------------------------------- listings */

typedef int listing_fn(void *ctx, const char *repo, struct snaplist *l);

/* fn for the listing of each registered repository, in the order GET _snapshot gives them. */
static int each_listing(struct esfs *fs, listing_fn *fn, void *ctx, struct esfs_error *err)
{
	struct cached *repos;
	const cJSON *repo;
	int rc = api_repositories(fs->client, &repos, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(repo, repos->json) {
		struct cached *listing;

		if (!repo->string)
			continue;
		rc = api_snapshot_list(fs->client, repo->string, &listing, err);
		if (rc)
			break;
		rc = fn(ctx, repo->string, api_snaplist(listing));
		cached_release(listing);
		if (rc)
			break;
	}
	cached_release(repos);
	return rc;
}

/* Whether the row's index list (one name per line) has index. */
static int row_has_index(const struct snap_row *row, const char *index)
{
	size_t len = strlen(index);
	const char *p = row->indices, *end = row->indices + row->indices_len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t line = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (line == len && !memcmp(p, index, len))
			return 1;
		p += line + 1;
	}
	return 0;
}

static int add_row_indices(void *ctx, const char *repo, struct snaplist *l)
{
	struct name_set *set = ctx;
	int rc = 0;

	(void)repo;
	for (size_t i = 0; i < snaplist_count(l) && !rc; i++) {
		const struct snap_row *row = snaplist_row(l, i);
		const char *p = row->indices, *end = row->indices + row->indices_len;

		while (p < end && !rc) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			size_t line = eol ? (size_t)(eol - p) : (size_t)(end - p);

			if (line)
				rc = name_set_add(set, p, line);
			p += line + 1;
		}
	}
	return rc;
}

/* /_indices: every index some snapshot of some repository holds, sorted. */
int list_indices(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
		 struct esfs_error *err)
{
	struct name_set set = { 0 };
	int rc = tree_list_fixed(fs, n, fn, ctx, err);

	if (!rc)
		rc = each_listing(fs, add_row_indices, &set, err);
	if (!rc) {
		char **names = name_set_sorted(&set);
		struct node_attr attr = { .is_dir = 1, .mtime = fs->mounted_at, .complete = 1 };

		for (size_t i = 0; i < set.count && !rc; i++)
			rc = fn(ctx, names[i], &attr);
	}
	name_set_free(&set);
	return rc;
}

struct index_walk {
	const char *index;
	struct esfs *fs;
	tree_entry_fn fn;	/* NULL: only whether some snapshot has the index */
	void *ctx;
	int found;
};

/* "<repo>,<snapshot>", and the link's target "../../<repo>/<snapshot>". */
static int link_name(char *out, size_t size, const char *repo, const char *snap)
{
	int n = snprintf(out, size, "%s,%s", repo, snap);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static size_t link_target_len(const char *repo, const char *snap)
{
	return strlen("../../") + strlen(repo) + 1 + strlen(snap);
}

static int list_index_rows(void *ctx, const char *repo, struct snaplist *l)
{
	struct index_walk *w = ctx;
	char name[NAME_MAX_BYTES + 1];
	int rc = 0;

	for (size_t i = 0; i < snaplist_count(l) && !rc; i++) {
		struct snap_row *row = snaplist_row(l, i);
		long long start_ms = atomic_load(&row->start_ms);
		struct node_attr attr = { .is_link = 1, .size = link_target_len(repo, row->name),
					  .mtime = tree_snapshot_mtime(w->fs, start_ms),
					  .complete = start_ms >= 0 };

		if (!row_has_index(row, w->index))
			continue;
		w->found = 1;
		/* Too long a pair of names for one entry: that snapshot is still under its repository. */
		if (w->fn && link_name(name, sizeof(name), repo, row->name) == 0)
			rc = w->fn(w->ctx, name, &attr);
	}
	return rc;
}

int list_index_dir(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
		   struct esfs_error *err)
{
	struct index_walk w = { n->entry, fs, fn, ctx, 0 };

	return each_listing(fs, list_index_rows, &w, err);
}

/* /_indices/<index> is there while some snapshot holds the index. */
int stat_index_dir(struct esfs *fs, const struct node *n, struct node_attr *attr,
		   struct esfs_error *err)
{
	struct index_walk w = { n->entry, fs, NULL, NULL, 0 };
	int rc = each_listing(fs, list_index_rows, &w, err);

	(void)attr;
	return rc ? rc : w.found ? 0 : lookup_not_found(err);
}

int read_index_link(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	struct cached *listing;
	struct snap_row *row;
	int rc = lookup_snapshot(fs, n, &listing, &row, err);

	if (rc)
		return rc;
	rc = row_has_index(row, n->entry) ? buf_printf(out, "../../%s/%s", n->repo, n->snap)
					   : lookup_not_found(err);
	cached_release(listing);
	return rc;
}

/* ---------------------------------------------------------------- _latest */

static int has_success(const struct snaplist *l)
{
	for (size_t i = 0; i < snaplist_count(l); i++)
		if (!strcmp(snaplist_row(l, i)->state, "SUCCESS"))
			return 1;
	return 0;
}

/* Listed, and there, only when some snapshot succeeded: a plain ls asks for no start time. */
int stat_repo_latest(struct esfs *fs, const struct node *n, struct node_attr *attr,
		     struct esfs_error *err)
{
	struct cached *listing;
	int rc = lookup_repository_exists(fs, n->repo, err);

	(void)attr;
	if (!rc)
		rc = api_snapshot_list(fs->client, n->repo, &listing, err);
	if (rc)
		return rc;
	rc = has_success(api_snaplist(listing)) ? 0 : lookup_not_found(err);
	cached_release(listing);
	return rc;
}

/*
 * The newest by start time; the start times come in batches, and are kept.
 * The engines' clock for them moves in steps (200 ms on OpenSearch): of two
 * taken within one, the later in the listing wins.
 */
int read_repo_latest(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	const struct snap_row *newest = NULL;
	long long newest_ms = -1;
	struct cached *listing;
	struct snaplist *l;
	int rc = lookup_repository_exists(fs, n->repo, err);

	if (!rc)
		rc = api_snapshot_list(fs->client, n->repo, &listing, err);
	if (rc)
		return rc;
	l = api_snaplist(listing);
	for (size_t i = 0; i < snaplist_count(l) && !rc; i++) {
		struct snap_row *row = snaplist_row(l, i);
		long long start_ms;

		if (strcmp(row->state, "SUCCESS"))
			continue;
		rc = api_snapshot_start(fs->client, n->repo, l, row, &start_ms, err);
		if (!rc && (!newest || start_ms >= newest_ms)) {
			newest = row;
			newest_ms = start_ms;
		}
	}
	if (!rc)
		rc = newest ? buf_puts(out, newest->name) : lookup_not_found(err);
	cached_release(listing);
	return rc;
}
