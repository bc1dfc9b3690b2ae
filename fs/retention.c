/*
 * Snapshot policies and their plans (see fs/retention.h). Retention follows
 * restic's "forget --keep-*" rules, so that it can be checked against an
 * implementation that is not esfs's: walking the successful snapshots
 * newest first, each period rule keeps the first snapshot of each of its
 * N newest periods that have one. On top, esfs's safety rules: only names the
 * pattern gives are considered, running snapshots are never deleted, failed
 * and partial ones never fill a period, the newest success and the newest
 * min_count successes are always kept, and max_age deletes what is older
 * whatever else would keep it.
 */
#include "fs/retention.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/names.h"

/* Far beyond any sane retention; it keeps the arithmetic small. */
#define POLICY_COUNT_MAX 100000
#define POLICY_SECONDS_MAX (100LL * 366 * 86400)

static const char *const period_names[PERIODS] = { "hourly", "daily", "weekly", "monthly", "yearly" };

/* ---------------------------------------------------------------- checking */

static int refuse(char *why, size_t why_len, const char *fmt, const char *what)
{
	snprintf(why, why_len, fmt, what);
	return -EINVAL;
}

long long policy_duration_seconds(const char *text)
{
	static const struct { char unit; long long seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
	};
	char *end;
	long long n;

	if (!text || *text < '0' || *text > '9')
		return -1;
	n = strtoll(text, &end, 10);
	if (end[0] == '\0' || end[1] != '\0' || n <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == *end)
			return n <= POLICY_SECONDS_MAX / units[i].seconds ? n * units[i].seconds : -1;
	return -1;
}

static void render_duration(long long s, char *out, size_t size)
{
	static const struct { char unit; long long seconds; } units[] = {
		{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s % units[i].seconds == 0) {
			snprintf(out, size, "%lld%c", s / units[i].seconds, units[i].unit);
			return;
		}
	snprintf(out, size, "%llds", s);
}

static int duration_member(const cJSON *obj, const char *key, long long *out, char *why, size_t why_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	long long s;

	if (!v)
		return 0;
	s = policy_duration_seconds(cJSON_GetStringValue(v));
	if (s < 0)
		return refuse(why, why_len, "%s: a duration such as \"90m\", \"1h\", \"7d\" or \"2w\"", key);
	*out = s;
	return 0;
}

static int count_member(const cJSON *obj, const char *key, const char *where, int *out, char *why,
			size_t why_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char what[64];

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > POLICY_COUNT_MAX ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		snprintf(what, sizeof(what), "%s%s", where, key);
		return refuse(why, why_len, "%s: a whole number from 0 to 100000", what);
	}
	*out = (int)v->valuedouble;
	return 0;
}

/* Every member is one of names: a typo ("keep_daily") must not pass for a policy that keeps nothing. */
static int only_members(const cJSON *obj, const char *const *names, const char *where, char *why,
			size_t why_len)
{
	const cJSON *m;
	char what[300];

	cJSON_ArrayForEach(m, obj) {
		size_t i = 0;

		while (names[i] && strcmp(names[i], m->string))
			i++;
		if (!names[i]) {
			snprintf(what, sizeof(what), "%s%.200s", where, m->string);
			return refuse(why, why_len, "%s: no such field", what);
		}
	}
	return 0;
}

/* The fields a pattern may hold, each a fixed number of digits. */
struct field {
	char letter;
	int width;
};

static const struct field fields[] = {
	{ 'Y', 4 }, { 'm', 2 }, { 'd', 2 }, { 'H', 2 }, { 'M', 2 }, { 'S', 2 },
};
#define FIELDS (sizeof(fields) / sizeof(fields[0]))

static int field_index(char letter)
{
	for (size_t i = 0; i < FIELDS; i++)
		if (fields[i].letter == letter)
			return (int)i;
	return -1;
}

/*
 * Two periods must never share a name: the pattern holds every field from
 * the year down to the unit of every (a day, an hour or a minute), each once.
 */
static int check_pattern(const char *pattern, long long every, char *why, size_t why_len)
{
	int seen[FIELDS] = { 0 };
	size_t needed = every % 86400 == 0 ? 3 : every % 3600 == 0 ? 4 : 5;

	for (const char *c = pattern; *c; c++) {
		int f;

		if (*c != '%')
			continue;
		f = field_index(c[1]);
		if (f < 0)
			return refuse(why, why_len, "%s: only %%Y %%m %%d %%H %%M %%S may follow %%", "name");
		if (seen[f]++)
			return refuse(why, why_len, "%s: each of %%Y %%m %%d %%H %%M %%S at most once", "name");
		c++;
	}
	for (size_t i = 0; i < needed; i++)
		if (!seen[i])
			return refuse(why, why_len, "%s: two periods would get one name: it needs %%Y %%m %%d, "
				      "and %%H when every is not whole days, %%M when not whole hours", "name");
	return 0;
}

static int check_name(const struct policy *p, char *why, size_t why_len)
{
	char name[256], reason[200];

	if (policy_name_at(p, 0, name, sizeof(name)))
		return refuse(why, why_len, "%s: too long for a snapshot name", "name");
	if (name_check_snapshot(name, reason, sizeof(reason)))
		return refuse(why, why_len, "name: the engine would refuse its snapshots: %.180s", reason);
	return 0;
}

static int parse_keep(const cJSON *keep, struct policy *p, char *why, size_t why_len)
{
	static const char *const names[] = { "hourly", "daily", "weekly", "monthly", "yearly", NULL };
	int rc;

	if (!keep)
		return 0;
	if (!cJSON_IsObject(keep))
		return refuse(why, why_len, "%s: an object such as {\"daily\": 7, \"weekly\": 4}", "keep");
	rc = only_members(keep, names, "keep.", why, why_len);
	for (int i = 0; i < PERIODS && !rc; i++)
		rc = count_member(keep, period_names[i], "keep.", &p->keep[i], why, why_len);
	return rc;
}

static int parse_members(const cJSON *json, struct policy *p, char *why, size_t why_len)
{
	static const char *const names[] = { "name", "every", "snapshot", "keep", "max_age", "min_count",
					      "wait", NULL };
	const char *pattern = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "name"));
	const cJSON *snapshot = cJSON_GetObjectItemCaseSensitive(json, "snapshot");
	int rc = only_members(json, names, "", why, why_len);

	if (rc)
		return rc;
	if (!pattern || !*pattern || strlen(pattern) > POLICY_PATTERN_MAX)
		return refuse(why, why_len, "%s: a snapshot name with %%Y %%m %%d ..., such as \"nightly-%%Y.%%m.%%d\"",
			      "name");
	strcpy(p->pattern, pattern);
	if (!cJSON_GetObjectItemCaseSensitive(json, "every"))
		return refuse(why, why_len, "%s: how often a snapshot is due, such as \"1d\"", "every");
	rc = duration_member(json, "every", &p->every, why, why_len);
	if (!rc && p->every % 60)
		rc = refuse(why, why_len, "%s: whole minutes", "every");
	if (!rc)
		rc = check_pattern(p->pattern, p->every, why, why_len);
	if (!rc)
		rc = check_name(p, why, why_len);
	if (!rc && snapshot && !cJSON_IsObject(snapshot))
		rc = refuse(why, why_len, "%s: the body mkdir would send, as an object", "snapshot");
	if (!rc)
		rc = parse_keep(cJSON_GetObjectItemCaseSensitive(json, "keep"), p, why, why_len);
	if (!rc)
		rc = duration_member(json, "max_age", &p->max_age, why, why_len);
	if (!rc)
		rc = count_member(json, "min_count", "", &p->min_count, why, why_len);
	if (!rc)
		rc = duration_member(json, "wait", &p->wait, why, why_len);
	if (!rc && snapshot && !(p->body = cJSON_PrintUnformatted(snapshot)))
		rc = -ENOMEM;
	return rc;
}

static int keeps_by_period(const struct policy *p)
{
	for (int i = 0; i < PERIODS; i++)
		if (p->keep[i])
			return 1;
	return 0;
}

int policy_parse(const char *text, size_t len, struct policy *out, char *why, size_t why_len)
{
	struct policy p = { .min_count = 1, .wait = 3600 };
	cJSON *json = cJSON_ParseWithLength(text, len);
	int rc = json && cJSON_IsObject(json) ? 0 : refuse(why, why_len, "%s", "a policy is a JSON object");

	if (!rc)
		rc = parse_members(json, &p, why, why_len);
	/* Without either, retention would delete all but min_count: surely not what was meant. */
	if (!rc && !keeps_by_period(&p) && !p.max_age)
		rc = refuse(why, why_len, "%s: give keep (per period) or max_age, or both", "keep");
	cJSON_Delete(json);
	if (rc) {
		free(p.body);
		return rc;
	}
	*out = p;
	return 0;
}

void policy_free(struct policy *p)
{
	if (p) {
		free(p->body);
		p->body = NULL;
	}
}

/* ---------------------------------------------------------------- names and times */

static int field_value(const struct tm *tm, int f)
{
	switch (fields[f].letter) {
	case 'Y':	return tm->tm_year + 1900;
	case 'm':	return tm->tm_mon + 1;
	case 'd':	return tm->tm_mday;
	case 'H':	return tm->tm_hour;
	case 'M':	return tm->tm_min;
	default:	return tm->tm_sec;
	}
}

int policy_name_at(const struct policy *p, time_t t, char *name, size_t size)
{
	struct tm tm;
	size_t used = 0;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	for (const char *c = p->pattern; *c; c++) {
		int n = 1;

		if (*c == '%' && c[1]) {
			int f = field_index(c[1]);

			n = snprintf(name + used, size - used, "%0*d", fields[f].width, field_value(&tm, f));
			c++;
		} else if (used + 1 < size) {
			name[used] = *c;
		}
		if (n < 0 || used + (size_t)n >= size)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	name[used] = '\0';
	return 0;
}

/* Reads the fields the pattern says; the name is the pattern's when the time gives it back. */
int policy_name_time(const struct policy *p, const char *name, time_t *t)
{
	int v[FIELDS] = { 1970, 1, 1, 0, 0, 0 };
	const char *s = name;
	char again[256];
	struct tm tm = { 0 };
	time_t when;

	for (const char *c = p->pattern; *c; c++) {
		int f = *c == '%' ? field_index(c[1]) : -1;

		if (f < 0) {
			if (*s++ != *c)
				return 0;
			continue;
		}
		v[f] = 0;
		for (int i = 0; i < fields[f].width; i++, s++) {
			if (*s < '0' || *s > '9')
				return 0;
			v[f] = v[f] * 10 + (*s - '0');
		}
		c++;
	}
	if (*s)
		return 0;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	when = timegm(&tm);
	/* 2026.02.30 would be March 2nd: not a name the pattern gives. */
	if (when == (time_t)-1 || policy_name_at(p, when, again, sizeof(again)) || strcmp(again, name))
		return 0;
	*t = when;
	return 1;
}

void policy_iso_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, size, "%lld", (long long)t);
}

/* ---------------------------------------------------------------- the plan */

/* Which hour, day, ISO week, month or year t falls in, as restic's buckets are. */
static long period_of(time_t t, enum period period)
{
	struct tm tm;
	char week[16];

	gmtime_r(&t, &tm);
	switch (period) {
	case PERIOD_HOURLY:
		return (tm.tm_year + 1900L) * 1000000 + (tm.tm_mon + 1) * 10000 + tm.tm_mday * 100 + tm.tm_hour;
	case PERIOD_DAILY:
		return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	case PERIOD_WEEKLY:
		strftime(week, sizeof(week), "%G%V", &tm);
		return strtol(week, NULL, 10);
	case PERIOD_MONTHLY:
		return (tm.tm_year + 1900L) * 100 + tm.tm_mon + 1;
	default:
		return tm.tm_year + 1900L;
	}
}

static int state_is(const char *state, const char *want)
{
	return state && !strcmp(state, want);
}

/* Ended without every shard saved: never fills a period, never counts toward what is kept. */
static int state_failed(const char *state)
{
	return state_is(state, "FAILED") || state_is(state, "PARTIAL") || state_is(state, "INCOMPATIBLE");
}

static int newer_first(const void *a, const void *b)
{
	const struct plan_item *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? 1 : -1;
	return -strcmp(x->name, y->name);
}

static void add_reason(struct plan_item *it, const char *part)
{
	size_t used = strlen(it->reason);

	snprintf(it->reason + used, sizeof(it->reason) - used, "%s%s", used ? ", " : "", part);
}

struct walk {
	const struct policy *p;
	time_t now;
	int successes;		/* seen so far, newest first */
	long last[PERIODS];	/* the period each rule kept last */
	int kept[PERIODS];	/* how many periods each rule has kept */
};

/* The period rules, in restic's order: each keeps a snapshot from a period it has not kept yet. */
static int apply_period_rules(struct walk *w, struct plan_item *it)
{
	char part[32];
	int kept = 0;

	for (int i = 0; i < PERIODS; i++) {
		long period = period_of(it->time, (enum period)i);

		if (w->kept[i] >= w->p->keep[i] || (w->kept[i] && period == w->last[i]))
			continue;
		w->last[i] = period;
		w->kept[i]++;
		snprintf(part, sizeof(part), "%s %d", period_names[i], w->kept[i]);
		add_reason(it, part);
		kept = 1;
	}
	return kept;
}

static void decide_success(struct walk *w, struct plan_item *it)
{
	const struct policy *p = w->p;
	int newest = w->successes == 0;
	int counted = w->successes < p->min_count;
	int too_old = p->max_age && it->time < w->now - p->max_age;
	char age[32], part[64];
	int kept;

	if (newest)
		add_reason(it, "newest success");
	if (counted) {
		snprintf(part, sizeof(part), "min_count %d", p->min_count);
		add_reason(it, part);
	}
	kept = apply_period_rules(w, it);
	render_duration(p->max_age, age, sizeof(age));
	if (!keeps_by_period(p) && !too_old) {
		snprintf(part, sizeof(part), "younger than max_age %s", age);
		add_reason(it, part);
		kept = 1;
	}
	w->successes++;
	if (newest || counted) {
		it->action = PLAN_KEEP;
	} else if (too_old) {
		snprintf(it->reason, sizeof(it->reason), "older than max_age %s", age);
		it->action = PLAN_DELETE;
	} else if (kept) {
		it->action = PLAN_KEEP;
	} else {
		add_reason(it, "no rule keeps it");
		it->action = PLAN_DELETE;
	}
}

static void decide(struct walk *w, struct plan_item *it)
{
	if (state_is(it->state, "SUCCESS")) {
		decide_success(w, it);
	} else if (state_failed(it->state)) {
		/* Deleted once a newer snapshot succeeded: until then it may be all there is to look at. */
		it->action = w->successes ? PLAN_DELETE : PLAN_KEEP;
		snprintf(it->reason, sizeof(it->reason), w->successes
			 ? "%s: never counts, and a newer snapshot succeeded"
			 : "%s: never counts; kept until a newer snapshot succeeds", it->state);
	} else {
		it->action = PLAN_KEEP;
		snprintf(it->reason, sizeof(it->reason), "%s: running, never deleted",
			 it->state ? it->state : "no state");
	}
}

static void block(struct plan_item *it, const char *blocked)
{
	size_t used = strlen(it->reason);

	it->action = PLAN_BLOCKED;
	snprintf(it->reason + used, sizeof(it->reason) - used, "; not deleted: %s", blocked);
}

/* The rows the pattern names, plus the due snapshot when missing, newest first; then the others. */
static size_t gather(const struct plan_row *rows, size_t count, struct plan *pl, const struct policy *p)
{
	size_t matched = 0;

	if (!pl->due_state)
		pl->items[matched++] = (struct plan_item){ .name = pl->due, .state = "SUCCESS",
							   .time = pl->due_at };
	for (size_t i = 0; i < count; i++) {
		time_t t;

		if (policy_name_time(p, rows[i].name, &t))
			pl->items[matched++] = (struct plan_item){ .name = rows[i].name,
								   .state = rows[i].state, .time = t };
	}
	qsort(pl->items, matched, sizeof(pl->items[0]), newer_first);
	pl->count = matched;
	for (size_t i = 0; i < count; i++) {
		time_t t;

		if (!policy_name_time(p, rows[i].name, &t)) {
			struct plan_item *it = &pl->items[pl->count++];

			*it = (struct plan_item){ .name = rows[i].name, .state = rows[i].state,
						  .action = PLAN_IGNORE };
			snprintf(it->reason, sizeof(it->reason), "the name is not the policy's %s", p->pattern);
		}
	}
	return matched;
}

/* The plan is made in place: its take item points at its own due name. */
int plan_make(const struct policy *p, const struct plan_row *rows, size_t count, time_t now,
	      const char *blocked, struct plan *out)
{
	struct walk w = { .p = p, .now = now };
	struct plan *pl = out;
	size_t matched;

	*pl = (struct plan){ .now = now, .due_at = now - (time_t)((long long)now % p->every) };
	if (policy_name_at(p, pl->due_at, pl->due, sizeof(pl->due)) ||
	    policy_name_at(p, pl->due_at + (time_t)p->every, pl->next, sizeof(pl->next)))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < count; i++)
		if (!strcmp(rows[i].name, pl->due))
			pl->due_state = rows[i].state;
	pl->items = calloc(count + 1, sizeof(*pl->items));
	if (!pl->items)
		return -ENOMEM;
	matched = gather(rows, count, pl, p);
	for (size_t i = 0; i < matched; i++) {
		struct plan_item *it = &pl->items[i];
		int take = it->name == pl->due;

		decide(&w, it);
		if (take)
			it->action = PLAN_TAKE;
		else if (it->action == PLAN_DELETE && blocked)
			block(it, blocked);
	}
	return 0;
}

void plan_free(struct plan *pl)
{
	free(pl->items);
	pl->items = NULL;
	pl->count = 0;
}

const char *plan_action_name(enum plan_action a)
{
	static const char *const names[] = { "take", "keep", "delete", "blocked", "ignore" };

	return names[a];
}

static int render_policy(struct buf *out, const struct policy *p)
{
	char every[32], age[32];
	int rc;

	render_duration(p->every, every, sizeof(every));
	rc = buf_printf(out, "# policy: a snapshot named %s every %s (UTC); keep", p->pattern, every);
	for (int i = 0; i < PERIODS && !rc; i++)
		if (p->keep[i])
			rc = buf_printf(out, " %s %d", period_names[i], p->keep[i]);
	if (!rc && p->max_age) {
		render_duration(p->max_age, age, sizeof(age));
		rc = buf_printf(out, " max_age %s", age);
	}
	return rc ? rc : buf_printf(out, " min_count %d\n", p->min_count);
}

int plan_render(const struct plan *pl, const struct policy *p, struct buf *out)
{
	char now[32], due[32], next[32], at[32];
	int rc = render_policy(out, p);

	policy_iso_time(pl->now, now, sizeof(now));
	policy_iso_time(pl->due_at, due, sizeof(due));
	policy_iso_time(pl->due_at + (time_t)p->every, next, sizeof(next));
	if (!rc)
		rc = buf_printf(out, "# now %s; %s, due since %s: %s; next %s at %s\n", now, pl->due, due,
				pl->due_state ? pl->due_state : "to take", pl->next, next);
	if (!rc)
		rc = buf_puts(out, "# action\tsnapshot\tstate\ttime\treason\n");
	for (size_t i = 0; i < pl->count && !rc; i++) {
		const struct plan_item *it = &pl->items[i];

		if (it->action == PLAN_IGNORE)
			snprintf(at, sizeof(at), "-");
		else
			policy_iso_time(it->time, at, sizeof(at));
		rc = buf_printf(out, "%s\t%s\t%s\t%s\t%s\n", plan_action_name(it->action), it->name,
				it->action == PLAN_TAKE ? "-" : it->state, at, it->reason);
	}
	return rc;
}
