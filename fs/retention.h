/*
 * A repository's snapshot policy (/<repo>/_policy.json) and the plan it
 * makes: the snapshot due now, and for each of the policy's snapshots
 * whether retention keeps or deletes it, with the rule that decides. Pure:
 * the listing and the clock come in, the plan goes out; fs/policy.c reads
 * and acts on it. Times are UTC, and a snapshot's time is the one its name
 * carries (the period it was taken for), not when it ran.
 */
#ifndef ESFS_RETENTION_H
#define ESFS_RETENTION_H

#include <stddef.h>
#include <time.h>

#include "client/buf.h"

/* The periods of grandfather-father-son retention, finest first. */
enum period { PERIOD_HOURLY, PERIOD_DAILY, PERIOD_WEEKLY, PERIOD_MONTHLY, PERIOD_YEARLY, PERIODS };

#define POLICY_PATTERN_MAX 200

struct policy {
	char pattern[POLICY_PATTERN_MAX + 1];	/* the name, with %Y %m %d %H %M %S */
	long long every;			/* seconds between due snapshots */
	char *body;				/* JSON of "snapshot", or NULL: the repository's _defaults.json */
	int keep[PERIODS];			/* how many periods of each kind keep a snapshot */
	long long max_age;			/* seconds; 0: no limit */
	int min_count;				/* the newest successes always kept */
	long long wait;				/* seconds a run waits for its snapshot to end */
};

/*
 * Parses and checks a policy: 0 with *out set (policy_free it), or -EINVAL
 * with why saying what is wrong; *out is untouched then.
 */
int policy_parse(const char *text, size_t len, struct policy *out, char *why, size_t why_len);
void policy_free(struct policy *p);

/* The name the pattern gives the period that starts at t. 0, or -ENAMETOOLONG. */
int policy_name_at(const struct policy *p, time_t t, char *name, size_t size);
/* Whether name is one the pattern gives, and then the time it carries. */
int policy_name_time(const struct policy *p, const char *name, time_t *t);

/* A snapshot in the repository's listing. */
struct plan_row {
	const char *name;
	const char *state;
};

enum plan_action {
	PLAN_TAKE,	/* the due snapshot, not in the repository yet */
	PLAN_KEEP,
	PLAN_DELETE,
	PLAN_BLOCKED,	/* retention would delete it, but deleting is not allowed here */
	PLAN_IGNORE,	/* its name is not the policy's: retention never touches it */
};

struct plan_item {
	const char *name;	/* the row's (or, for PLAN_TAKE, the plan's own due) */
	const char *state;
	time_t time;		/* from the name; 0 for PLAN_IGNORE */
	enum plan_action action;
	char reason[256];
};

struct plan {
	time_t now;
	time_t due_at;		/* the start of the current period */
	char due[256];		/* the name of its snapshot */
	const char *due_state;	/* its state when the repository has it, else NULL */
	char next[256];		/* the next period's name, due at due_at + every */
	struct plan_item *items;	/* take first, then newest first, then the ignored */
	size_t count;
};

/*
 * The plan at now for a repository holding rows (borrowed: they must outlive
 * the plan). blocked, when not NULL, says why nothing may be deleted (e.g.
 * "mounted with -o nodelete"): what retention condemns is PLAN_BLOCKED.
 * 0, -ENOMEM, or -ENAMETOOLONG. The plan is not to be copied (its take
 * item points into it); plan_free it, whatever the outcome.
 */
int plan_make(const struct policy *p, const struct plan_row *rows, size_t count, time_t now,
	      const char *blocked, struct plan *out);
void plan_free(struct plan *pl);
/* One line per item, tab-separated: action, name, state, time, reason; after '#' lines saying the policy. */
int plan_render(const struct plan *pl, const struct policy *p, struct buf *out);
const char *plan_action_name(enum plan_action a);
/* "30s", "15m", "1h", "7d", "2w": seconds, or -1 (a restore drill's "wait" too). */
long long policy_duration_seconds(const char *text);
/* "2026-12-01T00:00:00Z" */
void policy_iso_time(time_t t, char *out, size_t size);

#endif
