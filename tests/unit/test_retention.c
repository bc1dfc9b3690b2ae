/*
 * fs/retention.c: policies are checked whole, names carry their period's
 * time both ways, and plans keep and condemn as restic's --keep-* rules do,
 * under esfs's safety rules. Each plan here was worked out by hand.
 */
#include <errno.h>
#include <time.h>

#include "fs/retention.h"
#include "unit.h"

static struct policy parse_ok(const char *text)
{
	struct policy p = { 0 };
	char why[300] = "";

	CHECK_INT(policy_parse(text, strlen(text), &p, why, sizeof(why)), 0);
	if (why[0])
		fprintf(stderr, "refused: %s\n", why);
	return p;
}

static void refused(const char *text, const char *because)
{
	struct policy p = { .every = 42 };
	char why[300] = "";

	CHECK_INT(policy_parse(text, strlen(text), &p, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, because) != NULL);
	if (!strstr(why, because))
		fprintf(stderr, "  %s\n  said: %s\n", text, why);
	CHECK_INT(p.every, 42);	/* untouched */
}

static void test_a_policy_is_checked_whole(void)
{
	struct policy p = parse_ok("{\"name\":\"nightly-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":7,"
				   "\"weekly\":4},\"max_age\":\"400d\",\"min_count\":2,\"wait\":\"30m\","
				   "\"snapshot\":{\"indices\":\"orders-*\"}}");

	CHECK_STR(p.pattern, "nightly-%Y.%m.%d");
	CHECK_INT(p.every, 86400);
	CHECK_INT(p.keep[PERIOD_DAILY], 7);
	CHECK_INT(p.keep[PERIOD_WEEKLY], 4);
	CHECK_INT(p.keep[PERIOD_HOURLY], 0);
	CHECK_INT(p.max_age, 400 * 86400);
	CHECK_INT(p.min_count, 2);
	CHECK_INT(p.wait, 1800);
	CHECK_STR(p.body, "{\"indices\":\"orders-*\"}");
	policy_free(&p);
	p = parse_ok("{\"name\":\"h-%Y%m%d-%H\",\"every\":\"1h\",\"max_age\":\"2d\"}");
	CHECK_INT(p.min_count, 1);
	CHECK_INT(p.wait, 3600);
	CHECK(p.body == NULL);
	policy_free(&p);
}

static void test_refusals_say_why(void)
{
	refused("[]", "a policy is a JSON object");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":3},\"keep_daily\":3}",
		"keep_daily: no such field");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"dayly\":3}}", "keep.dayly: no such field");
	refused("{\"every\":\"1d\",\"keep\":{\"daily\":3}}", "name:");
	refused("{\"name\":\"n-%Y%m%d\",\"keep\":{\"daily\":3}}", "every:");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1 day\",\"keep\":{\"daily\":3}}", "every: a duration");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"90s\",\"keep\":{\"daily\":3}}", "every: whole minutes");
	refused("{\"name\":\"n-%Y%m\",\"every\":\"1d\",\"keep\":{\"daily\":3}}", "two periods would get one name");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"6h\",\"keep\":{\"daily\":3}}", "two periods would get one name");
	refused("{\"name\":\"n-%Y%m%d%H\",\"every\":\"90m\",\"keep\":{\"daily\":3}}", "two periods would get one name");
	refused("{\"name\":\"n-%Y%m%d-%j\",\"every\":\"1d\",\"keep\":{\"daily\":3}}", "only %Y %m %d %H %M %S");
	refused("{\"name\":\"n-%Y%m%d-%d\",\"every\":\"1d\",\"keep\":{\"daily\":3}}", "at most once");
	refused("{\"name\":\"Nightly-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":3}}",
		"the engine would refuse its snapshots");
	refused("{\"name\":\"n %Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":3}}",
		"the engine would refuse its snapshots");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":-1}}", "keep.daily: a whole number");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":1.5}}", "keep.daily: a whole number");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"keep\":{\"daily\":0}}", "give keep (per period) or max_age");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\"}", "give keep (per period) or max_age");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"max_age\":\"0d\"}", "max_age: a duration");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"max_age\":\"3d\",\"snapshot\":\"all\"}",
		"snapshot: the body mkdir would send");
	refused("{\"name\":\"n-%Y%m%d\",\"every\":\"1d\",\"max_age\":\"3d\"", "a policy is a JSON object");
}

static void test_names_carry_their_period(void)
{
	struct policy p = parse_ok("{\"name\":\"auto-%Y.%m.%d-%H%M\",\"every\":\"30m\",\"max_age\":\"1d\"}");
	char name[64];
	time_t t = 0;

	CHECK_INT(policy_name_at(&p, 1764547200 + 13 * 3600 + 30 * 60, name, sizeof(name)), 0);
	CHECK_STR(name, "auto-2025.12.01-1330");
	CHECK(policy_name_time(&p, "auto-2025.12.01-1330", &t));
	CHECK_INT(t, 1764547200 + 13 * 3600 + 30 * 60);
	CHECK(!policy_name_time(&p, "auto-2026.02.30-0000", &t));	/* no such day */
	CHECK(!policy_name_time(&p, "auto-2025.12.01-133", &t));
	CHECK(!policy_name_time(&p, "auto-2025.12.01-13300", &t));
	CHECK(!policy_name_time(&p, "auto-2025.12.01-13x0", &t));
	CHECK(!policy_name_time(&p, "manual-2025.12.01-1330", &t));
	CHECK(!policy_name_time(&p, "auto-2025.12.01-2460", &t));
	policy_free(&p);
}

/* 2026-12-01T10:20:00Z, a Tuesday (ISO week 49). */
#define NOW ((time_t)1796120400)

struct want {
	const char *name;
	enum plan_action action;
	const char *reason;	/* a part of it */
};

static void plan_is(const char *policy, const struct plan_row *rows, size_t count, const char *blocked,
		    const struct want *want, size_t wanted)
{
	struct policy p = parse_ok(policy);
	struct plan pl;

	CHECK_INT(plan_make(&p, rows, count, NOW, blocked, &pl), 0);
	CHECK_INT(pl.count, wanted);
	for (size_t i = 0; i < wanted && i < pl.count; i++) {
		CHECK_STR(pl.items[i].name, want[i].name);
		CHECK_STR(plan_action_name(pl.items[i].action), plan_action_name(want[i].action));
		CHECK(strstr(pl.items[i].reason, want[i].reason) != NULL);
		if (!strstr(pl.items[i].reason, want[i].reason))
			fprintf(stderr, "  %s: \"%s\", want \"%s\"\n", want[i].name, pl.items[i].reason,
				want[i].reason);
	}
	plan_free(&pl);
	policy_free(&p);
}

#define OK(name) { name, "SUCCESS" }
/* A plan with nothing blocked. */
#define WANTS(rows, want) rows, sizeof(rows) / sizeof(rows[0]), NULL, want, sizeof(want) / sizeof(want[0])

static void test_grandfather_father_son(void)
{
	/* Weeks (ISO): 11-30..12-06 is 49, 11-23..11-29 is 48, 11-16..11-22 is 47. */
	static const struct plan_row rows[] = {
		OK("d-2026.11.30"), OK("d-2026.11.29"), OK("d-2026.11.28"), OK("d-2026.11.27"),
		OK("d-2026.11.22"), OK("d-2026.11.15"), OK("d-2026.10.31"), OK("d-2026.10.01"),
		OK("d-2026.09.30"), OK("other"),
	};
	/* Newest first, each rule keeps the first of each of its newest periods; today's is due. */
	static const struct want want[] = {
		{ "d-2026.12.01", PLAN_TAKE, "newest success, min_count 1, daily 1, weekly 1, monthly 1, yearly 1" },
		{ "d-2026.11.30", PLAN_KEEP, "daily 2, monthly 2" },
		{ "d-2026.11.29", PLAN_KEEP, "daily 3, weekly 2" },
		{ "d-2026.11.28", PLAN_DELETE, "no rule keeps it" },
		{ "d-2026.11.27", PLAN_DELETE, "no rule keeps it" },
		{ "d-2026.11.22", PLAN_KEEP, "weekly 3" },
		{ "d-2026.11.15", PLAN_DELETE, "no rule keeps it" },
		{ "d-2026.10.31", PLAN_KEEP, "monthly 3" },
		{ "d-2026.10.01", PLAN_DELETE, "no rule keeps it" },
		{ "d-2026.09.30", PLAN_DELETE, "no rule keeps it" },
		{ "other", PLAN_IGNORE, "not the policy's" },
	};

	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\","
		"\"keep\":{\"daily\":3,\"weekly\":3,\"monthly\":3,\"yearly\":1}}", WANTS(rows, want));
}

/* The due snapshot there already (running): nothing to take, and it is never deleted. */
static void test_running_snapshots_are_kept_and_never_counted(void)
{
	static const struct plan_row rows[] = {
		{ "d-2026.12.01", "IN_PROGRESS" }, OK("d-2026.11.30"), OK("d-2026.11.29"),
		{ "d-2026.11.01", "IN_PROGRESS" },
	};
	static const struct want want[] = {
		{ "d-2026.12.01", PLAN_KEEP, "IN_PROGRESS: running, never deleted" },
		{ "d-2026.11.30", PLAN_KEEP, "newest success, min_count 1, daily 1" },
		{ "d-2026.11.29", PLAN_KEEP, "daily 2" },
		{ "d-2026.11.01", PLAN_KEEP, "IN_PROGRESS: running, never deleted" },
	};

	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":2}}", WANTS(rows, want));
}

/* Failed and partial ones fill no period: the successes before them are kept instead. */
static void test_failed_and_partial_never_count(void)
{
	static const struct plan_row rows[] = {
		OK("d-2026.12.01"), { "d-2026.11.30", "PARTIAL" }, { "d-2026.11.29", "FAILED" },
		OK("d-2026.11.28"), OK("d-2026.11.27"),
	};
	static const struct want want[] = {
		{ "d-2026.12.01", PLAN_KEEP, "daily 1" },
		{ "d-2026.11.30", PLAN_DELETE, "PARTIAL: never counts, and a newer snapshot succeeded" },
		{ "d-2026.11.29", PLAN_DELETE, "FAILED: never counts" },
		{ "d-2026.11.28", PLAN_KEEP, "daily 2" },
		{ "d-2026.11.27", PLAN_DELETE, "no rule keeps it" },
	};
	static const struct plan_row newest_failed[] = {
		{ "d-2026.12.01", "FAILED" }, OK("d-2026.11.30"), OK("d-2026.11.29"),
	};
	static const struct want kept_until[] = {
		{ "d-2026.12.01", PLAN_KEEP, "FAILED: never counts; kept until a newer snapshot succeeds" },
		{ "d-2026.11.30", PLAN_KEEP, "newest success, min_count 1, daily 1" },
		{ "d-2026.11.29", PLAN_DELETE, "no rule keeps it" },
	};

	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":2}}", WANTS(rows, want));
	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":1}}",
		WANTS(newest_failed, kept_until));
}

/* max_age deletes what a period would keep, but never the newest success or min_count. */
static void test_max_age_and_min_count(void)
{
	static const struct plan_row rows[] = {
		OK("d-2026.11.01"), OK("d-2026.10.01"), OK("d-2026.09.01"), OK("d-2026.08.01"),
		{ "d-2026.07.01", "FAILED" },
	};
	static const struct want want[] = {
		{ "d-2026.12.01", PLAN_TAKE, "newest success" },
		{ "d-2026.11.01", PLAN_KEEP, "min_count 3, monthly 2" },
		{ "d-2026.10.01", PLAN_KEEP, "min_count 3, monthly 3" },
		{ "d-2026.09.01", PLAN_DELETE, "older than max_age 60d" },
		{ "d-2026.08.01", PLAN_DELETE, "older than max_age 60d" },
		{ "d-2026.07.01", PLAN_DELETE, "FAILED: never counts" },
	};
	static const struct plan_row only_old[] = { OK("d-2025.01.01"), OK("d-2024.01.01") };
	static const struct want newest_kept[] = {
		{ "d-2026.12.01", PLAN_TAKE, "newest success" },
		{ "d-2025.01.01", PLAN_DELETE, "older than max_age 30d" },
		{ "d-2024.01.01", PLAN_DELETE, "older than max_age 30d" },
	};
	static const struct plan_row due_failed[] = {
		{ "d-2026.12.01", "FAILED" }, OK("d-2025.01.01"), OK("d-2024.01.01"),
	};
	static const struct want newest_success_kept[] = {
		{ "d-2026.12.01", PLAN_KEEP, "FAILED: never counts; kept until" },
		{ "d-2025.01.01", PLAN_KEEP, "newest success" },
		{ "d-2024.01.01", PLAN_DELETE, "older than max_age 30d" },
	};

	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"monthly\":12},\"max_age\":\"60d\","
		"\"min_count\":3}", WANTS(rows, want));
	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"max_age\":\"30d\",\"min_count\":0}",
		WANTS(only_old, newest_kept));
	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"max_age\":\"30d\",\"min_count\":0}",
		WANTS(due_failed, newest_success_kept));
}

static void test_blocked_deletions_are_shown_as_blocked(void)
{
	static const struct plan_row rows[] = { OK("d-2026.12.01"), OK("d-2026.11.01"), OK("x-1") };
	static const struct want want[] = {
		{ "d-2026.12.01", PLAN_KEEP, "newest success" },
		{ "d-2026.11.01", PLAN_BLOCKED, "no rule keeps it; not deleted: mounted with -o nodelete" },
		{ "x-1", PLAN_IGNORE, "the name is not the policy's d-%Y.%m.%d" },
	};

	plan_is("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":1}}", rows, 3,
		"mounted with -o nodelete", want, 3);
}

static void test_the_plan_renders_one_line_per_snapshot(void)
{
	static const struct plan_row rows[] = { OK("d-2026.11.30"), OK("manual") };
	struct policy p = parse_ok("{\"name\":\"d-%Y.%m.%d\",\"every\":\"1d\",\"keep\":{\"daily\":1}}");
	struct buf out = BUF_INIT;
	struct plan pl;

	CHECK_INT(plan_make(&p, rows, 2, NOW, NULL, &pl), 0);
	CHECK_INT(plan_render(&pl, &p, &out), 0);
	CHECK_STR(out.data,
		  "# policy: a snapshot named d-%Y.%m.%d every 1d (UTC); keep daily 1 min_count 1\n"
		  "# now 2026-12-01T10:20:00Z; d-2026.12.01, due since 2026-12-01T00:00:00Z: to take; "
		  "next d-2026.12.02 at 2026-12-02T00:00:00Z\n"
		  "# action\tsnapshot\tstate\ttime\treason\n"
		  "take\td-2026.12.01\t-\t2026-12-01T00:00:00Z\tnewest success, min_count 1, daily 1\n"
		  "delete\td-2026.11.30\tSUCCESS\t2026-11-30T00:00:00Z\tno rule keeps it\n"
		  "ignore\tmanual\tSUCCESS\t-\tthe name is not the policy's d-%Y.%m.%d\n");
	buf_free(&out);
	plan_free(&pl);
	policy_free(&p);
}

int main(int argc, char **argv)
{
	static const struct unit_case cases[] = {
		{ "a_policy_is_checked_whole", test_a_policy_is_checked_whole },
		{ "refusals_say_why", test_refusals_say_why },
		{ "names_carry_their_period", test_names_carry_their_period },
		{ "grandfather_father_son", test_grandfather_father_son },
		{ "running_snapshots_are_kept_and_never_counted", test_running_snapshots_are_kept_and_never_counted },
		{ "failed_and_partial_never_count", test_failed_and_partial_never_count },
		{ "max_age_and_min_count", test_max_age_and_min_count },
		{ "blocked_deletions_are_shown_as_blocked", test_blocked_deletions_are_shown_as_blocked },
		{ "the_plan_renders_one_line_per_snapshot", test_the_plan_renders_one_line_per_snapshot },
		{ NULL, NULL },
	};

	return unit_main(argc, argv, cases);
}
