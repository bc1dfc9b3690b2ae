/*
 * Fuzzes snapshot policies (fs/retention.c): policy_parse on any text, the
 * names a policy gives (policy_name_at, policy_name_time) and plan_make
 * over a repository listing. Input: the policy JSON, a NUL byte, the time
 * of the plan (seconds, one line), then one snapshot per line,
 * "name<TAB>state". Checks: a name made for the start of any period of a
 * year a 4-digit %Y holds reads back as that time; every snapshot listed
 * is in the plan once; the take is the due name; and esfs's safety rules
 * hold: nothing running is deleted, the newest min_count successes (the
 * take counting as one) are kept, and with deleting not allowed nothing is
 * deleted, only blocked.
 */
#include <stdlib.h>
#include <string.h>

#include "fs/retention.h"
#include "fuzz.h"

#define MAX_ROWS 64
#define YEAR_0000 (-62167219200LL)	/* 0000-01-01T00:00:00Z */
#define YEAR_10000 253402300800LL	/* 10000-01-01T00:00:00Z */

/* The start of the period t is in, as plan_make counts periods (from the epoch). */
static long long period_start(long long t, long long every)
{
	return t - ((t % every) + every) % every;
}

static void check_name_round_trip(const struct policy *p, long long t)
{
	char name[256];
	time_t back = 0;

	t = period_start(t, p->every);
	if (t < YEAR_0000)
		t += p->every;
	FUZZ_CHECK(policy_name_at(p, (time_t)t, name, sizeof(name)) == 0);
	FUZZ_CHECK(policy_name_time(p, name, &back) == 1 && back == (time_t)t);
}

/* Times spread over the years %Y can hold, drawn from the input so that a crash replays. */
static void check_names(const struct policy *p, const char *text, size_t len)
{
	uint64_t draw = fuzz_seed(text, len);

	for (int i = 0; i < 4; i++) {
		draw = draw * 6364136223846793005ull + 1442695040888963407ull;
		check_name_round_trip(p, YEAR_0000 + (long long)(draw % (uint64_t)(YEAR_10000 - YEAR_0000)));
	}
}

struct rows {
	char *lines[MAX_ROWS];
	struct plan_row rows[MAX_ROWS];
	size_t count;
};

static void read_rows(struct fuzz_input *in, struct rows *r)
{
	while (in->left && r->count < MAX_ROWS) {
		char *line = fuzz_until(in, '\n'), *tab = strchr(line, '\t');

		if (tab)
			*tab = '\0';
		r->lines[r->count] = line;
		r->rows[r->count++] = (struct plan_row){ line, tab ? tab + 1 : "SUCCESS" };
	}
}

static int listed_times(const struct plan *pl, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < pl->count; i++)
		n += !strcmp(pl->items[i].name, name) && pl->items[i].action != PLAN_TAKE;
	return n;
}

static int rows_named(const struct rows *r, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < r->count; i++)
		n += !strcmp(r->rows[i].name, name);
	return n;
}

static void check_safety(const struct policy *p, const struct plan *pl, const char *blocked)
{
	int successes = 0;

	for (size_t i = 0; i < pl->count; i++) {
		const struct plan_item *it = &pl->items[i];
		int success = it->action == PLAN_TAKE || !strcmp(it->state, "SUCCESS");
		int deleted = it->action == PLAN_DELETE || it->action == PLAN_BLOCKED;
		int running = !success && strcmp(it->state, "FAILED") && strcmp(it->state, "PARTIAL") &&
			      strcmp(it->state, "INCOMPATIBLE");

		FUZZ_CHECK(!(running && deleted));
		if (success && it->action != PLAN_IGNORE && successes++ < (p->min_count ? p->min_count : 1))
			FUZZ_CHECK(!deleted);
		FUZZ_CHECK(!blocked || it->action != PLAN_DELETE);
		FUZZ_CHECK((it->action == PLAN_TAKE) == (it->name == pl->due));
	}
}

static void check_plan(const struct policy *p, const struct rows *r, long long now, const char *blocked)
{
	struct plan pl;
	struct buf out = BUF_INIT;
	int rc = plan_make(p, r->rows, r->count, (time_t)now, blocked, &pl);

	if (rc == 0) {
		FUZZ_CHECK(pl.count == r->count + !pl.due_state);
		for (size_t i = 0; i < r->count; i++)
			FUZZ_CHECK(listed_times(&pl, r->rows[i].name) == rows_named(r, r->rows[i].name));
		check_safety(p, &pl, blocked);
		FUZZ_CHECK(plan_render(&pl, p, &out) == 0);
	}
	plan_free(&pl);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *text = fuzz_until(&in, '\0'), *now_line = fuzz_until(&in, '\n');
	long long now = *now_line ? strtoll(now_line, NULL, 10) : 1764547200;	/* 2025-12-01 */
	struct rows r = { 0 };
	struct policy p;
	char why[300];

	read_rows(&in, &r);
	if (policy_parse(text, strlen(text), &p, why, sizeof(why)) == 0) {
		check_names(&p, text, strlen(text));
		check_plan(&p, &r, now, NULL);
		check_plan(&p, &r, now, "mounted with -o nodelete");
		policy_free(&p);
	}
	for (size_t i = 0; i < r.count; i++)
		free(r.lines[i]);
	free(now_line);
	free(text);
	return 0;
}
