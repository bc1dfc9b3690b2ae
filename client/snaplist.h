/*
 * A repository's snapshots as GET _snapshot/<repo>/_all?verbose=false gives
 * them: name, UUID, state and index list of each, read by the engine from
 * the repository's index blob alone, never from one blob per snapshot. Kept
 * compact (one block of strings, no parse tree) with an index by name, so
 * that a listing of 100,000 snapshots stays small and a lookup does not scan.
 *
 * The start time is not in that answer. It never changes, so each row keeps
 * it once known (snaplist_set_start), and a newer listing of the repository
 * takes over what an older one knew (snaplist_inherit).
 */
#ifndef ESFS_SNAPLIST_H
#define ESFS_SNAPLIST_H

#include <stdatomic.h>
#include <stddef.h>

#include "client/errmap.h"

/* Start time states besides a time in milliseconds. */
#define SNAP_START_UNKNOWN (-1LL)	/* not asked yet */
#define SNAP_START_MISSING (-2LL)	/* asked, and the engine did not say */
#define SNAP_START_ASKING (-3LL)	/* a request for it is under way */

struct snap_row {
	const char *name;
	const char *uuid;
	const char *state;
	const char *indices;	/* one name per line, each ending in '\n' */
	size_t indices_len;
	atomic_llong start_ms;	/* milliseconds since the epoch, or SNAP_START_* */
};

struct snaplist;

/* Parses the engine's answer: 0, -EPROTO when it is not such an answer, or -ENOMEM. */
int snaplist_parse(const char *body, size_t len, struct snaplist **out);
void snaplist_free(struct snaplist *l);
/* The memory it holds. */
size_t snaplist_weight(const struct snaplist *l);

size_t snaplist_count(const struct snaplist *l);
struct snap_row *snaplist_row(const struct snaplist *l, size_t i);
/* The row of a name, or NULL: no scan. */
struct snap_row *snaplist_find(const struct snaplist *l, const char *name);
/* The row's place in the listing. */
size_t snaplist_index(const struct snaplist *l, const struct snap_row *row);
/* Whether the snapshot has ended (SUCCESS, PARTIAL, FAILED, INCOMPATIBLE): what the engine says of it no longer changes. */
int snaplist_row_final(const struct snap_row *row);

/*
 * One request asks for many start times: a thread claims the rows it asks
 * for (those still unknown), settles each with the answer (or with
 * SNAP_START_UNKNOWN again when the request failed), and a thread that needs
 * a claimed row waits for it instead of asking again.
 */
int snaplist_claim(struct snap_row *row);
void snaplist_settle(struct snaplist *l, struct snap_row *row, long long start_ms);
/* The row's start time once no request for it is under way. */
long long snaplist_wait_start(struct snaplist *l, const struct snap_row *row);

/*
 * Takes over the start times old knew, for the snapshots (same name and
 * UUID) still here; returns how many of old's snapshots are gone.
 */
size_t snaplist_inherit(struct snaplist *l, const struct snaplist *old);

#endif
