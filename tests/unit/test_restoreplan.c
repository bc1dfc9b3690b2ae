/*
 * fs/restoreplan.c: the selection, the rename and the refusals of a restore
 * preflight, on answers shaped as the engines give them. Each rename's
 * result is what Java's String.replaceAll gives (checked in jshell, JDK 17);
 * that the engines refuse what the plan refuses, tests/test_preflight.py shows.
 */
#include <cjson/cJSON.h>
#include <errno.h>

#include "fs/restoreplan.h"
#include "unit.h"

struct fixture {
	cJSON *body, *snapshot, *status, *indices, *aliases;
};

static struct fixture make(const char *body)
{
	struct fixture f = {
		.body = cJSON_Parse(body),
		.snapshot = cJSON_Parse("{\"indices\":[\"orders\",\"users\",\"logs-1\",\".tasks\"],"
					"\"data_streams\":[],\"feature_states\":[{\"feature_name\":\"tasks\","
					"\"indices\":[\".tasks\"]}]}"),
		.status = cJSON_Parse("{\"indices\":{\"orders\":{\"shards_stats\":{\"total\":2},\"stats\":"
				      "{\"total\":{\"size_in_bytes\":1234}}}}}"),
		.indices = cJSON_Parse("[{\"index\":\"orders\",\"status\":\"close\",\"pri\":\"1\"},"
				       "{\"index\":\"users\",\"status\":\"open\",\"pri\":\"1\"}]"),
		.aliases = cJSON_Parse("[{\"alias\":\"current\"}]"),
	};

	CHECK(f.body != NULL);
	return f;
}

static int plan(const char *body, int managed, struct buf *out, char *why, size_t why_len)
{
	struct fixture f = make(body);
	struct restore_inputs in = { f.body, f.snapshot, f.status, f.indices, f.aliases, managed };
	int rc = restore_plan_make(&in, out, why, why_len);

	cJSON_Delete(f.body);
	cJSON_Delete(f.snapshot);
	cJSON_Delete(f.status);
	cJSON_Delete(f.indices);
	cJSON_Delete(f.aliases);
	return rc;
}

/* The plan's line for index, without its trailing newline, or "" when the plan has none. */
static const char *line_of(const struct buf *text, const char *index)
{
	static char line[1200];
	char want[300];
	const char *p;

	snprintf(want, sizeof(want), "\t%s\t", index);
	line[0] = 0;
	for (p = text->data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *tab = memchr(p, '\t', len);

		if (*p != '#' && tab && !strncmp(tab, want, strlen(want)) && len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
			break;
		}
	}
	return line;
}

static void renamed(const char *pattern, const char *replacement, const char *index, const char *want)
{
	char body[600], why[1000] = "", expect[600];
	struct buf out = BUF_INIT;

	snprintf(body, sizeof(body), "{\"indices\":\"%s\",\"rename_pattern\":\"%s\",\"rename_replacement\":\"%s\"}",
		 index, pattern, replacement);
	plan(body, 0, &out, why, sizeof(why));
	snprintf(expect, sizeof(expect), "\t%s\t%s\t", index, want);
	CHECK(strstr(out.data, expect) != NULL);
	if (!strstr(out.data, expect))
		fprintf(stderr, "  %s -> %s: want %s\n%s", pattern, replacement, want, out.data);
	buf_free(&out);
}

static void test_renames_are_javas_replace_all(void)
{
	renamed("(.+)", "restored-$1", "logs-1", "restored-logs-1");
	renamed("logs-(\\\\d+)", "old-logs-$1", "logs-1", "old-logs-1");
	renamed("s", "S", "users", "uSerS");	/* every match, not the first */
	renamed("x*", "-", "users", "-u-s-e-r-s-");	/* empty matches, one per gap */
	renamed("^u", "v", "users", "vsers");
	renamed("(u)(s)", "$2$1$0", "users", "suusers");
	renamed("(u)", "$10", "users", "u0sers");	/* $1 then 0: there is no group 10 */
	renamed("u", "\\\\$", "users", "$sers");
	renamed("[^a-r]", "z", "users", "zzerz");
}

static void refused(const char *body, int managed, int code, const char *because)
{
	char why[1000] = "";
	struct buf out = BUF_INIT;

	CHECK_INT(plan(body, managed, &out, why, sizeof(why)), -code);
	CHECK(strstr(why, because) != NULL);
	CHECK(out.data && !strncmp(out.data, "# refused: ", 11));
	if (!strstr(why, because))
		fprintf(stderr, "  %s\n  said: %s\n", body, why);
	buf_free(&out);
}

static void test_patterns_esfs_cannot_follow_are_said_not_guessed(void)
{
	refused("{\"indices\":\"users\",\"rename_pattern\":\"(?:u)\",\"rename_replacement\":\"v\"}", 0,
		EOPNOTSUPP, "cannot work out rename_pattern's [(?:u)]");
	refused("{\"indices\":\"users\",\"rename_pattern\":\"u+?\",\"rename_replacement\":\"v\"}", 0,
		EOPNOTSUPP, "[+?]");
	refused("{\"indices\":\"users\",\"rename_pattern\":\"\\\\bu\",\"rename_replacement\":\"v\"}", 0,
		EOPNOTSUPP, "[\\bu]");
	refused("{\"indices\":\"users\",\"rename_pattern\":\"(u)\",\"rename_replacement\":\"$x\"}", 0,
		EINVAL, "illegal group reference");
	refused("{\"indices\":\"users\",\"rename_pattern\":\"(u)\",\"rename_replacement\":\"v\\\\\"}", 0,
		EINVAL, "lone '\\'");
}

static void test_refusals_name_their_reason(void)
{
	refused("[]", 0, EINVAL, "a restore body is a JSON object");
	refused("{\"indices\":\"users\"}", 0, EEXIST, "an open index of that name exists");
	refused("{\"indices\":[\"orders\",\"nope\"]}", 0, ENOENT, "no such index [nope] in the snapshot");
	refused("{\"indices\":\"orders\"}", 0, EEXIST, "the closed index of that name has 1 shards, the "
		"snapshot's index 2");
	refused("{\"indices\":\"logs-1\",\"rename_pattern\":\".+\",\"rename_replacement\":\"current\"}", 0,
		EEXIST, "an alias of that name exists");
	refused("{\"indices\":\".tasks\"}", 0, EPERM, "a system index");
	refused("{\"indices\":\"-users\",\"rename_pattern\":\".+\",\"rename_replacement\":\"one\"}", 0,
		EINVAL, "are renamed into the same index [one]");
	refused("{\"indices\":[\"-users\",\"users\"],\"rename_pattern\":\"(.+)\",\"rename_replacement\":\"r-$1\"}",
		0, EOPNOTSUPP, "put the exclusions last");
}

static void test_a_wildcard_skips_system_indices_and_a_missing_name_may_be_ignored(void)
{
	char why[1000] = "";
	struct buf out = BUF_INIT;

	CHECK_INT(plan("{\"indices\":\"*,-users\",\"ignore_unavailable\":true,\"rename_pattern\":\"(.+)\","
		       "\"rename_replacement\":\"r-$1\"}", 0, &out, why, sizeof(why)), 0);
	CHECK(!strncmp(out.data, "# accepted", 10));
	CHECK_STR(line_of(&out, ".tasks"), "skip\t.tasks\t-\t-\ta system index: restored only with its feature state");
	CHECK_STR(line_of(&out, "orders"), "restore\torders\tr-orders\t1234\t");
	CHECK_STR(line_of(&out, "logs-1"), "restore\tlogs-1\tr-logs-1\t-\t");
	CHECK_STR(line_of(&out, "users"), "");
	buf_reset(&out);
	CHECK_INT(plan("{\"indices\":\"logs-1,nope\",\"ignore_unavailable\":true}", 0, &out, why, sizeof(why)), 0);
	CHECK_STR(line_of(&out, "logs-1"), "restore\tlogs-1\tlogs-1\t-\t");
	buf_free(&out);
}

static void test_a_managed_service_keeps_its_security_index(void)
{
	struct fixture f = make("{\"indices\":\".opendistro_security\"}");
	struct restore_inputs in = { f.body, f.snapshot, NULL, NULL, NULL, 1 };
	cJSON *names = cJSON_GetObjectItemCaseSensitive(f.snapshot, "indices");
	char why[1000] = "";
	struct buf out = BUF_INIT;

	cJSON_AddItemToArray(names, cJSON_CreateString(".opendistro_security"));
	CHECK_INT(restore_plan_make(&in, &out, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "does not restore its security index") != NULL);
	in.managed = 0;
	buf_reset(&out);
	CHECK_INT(restore_plan_make(&in, &out, why, sizeof(why)), 0);
	buf_free(&out);
	cJSON_Delete(f.body);
	cJSON_Delete(f.snapshot);
	cJSON_Delete(f.status);
	cJSON_Delete(f.indices);
	cJSON_Delete(f.aliases);
}

int main(int argc, char **argv)
{
	static const struct unit_case cases[] = {
		{ "renames_are_javas_replace_all", test_renames_are_javas_replace_all },
		{ "patterns_esfs_cannot_follow_are_said_not_guessed",
		  test_patterns_esfs_cannot_follow_are_said_not_guessed },
		{ "refusals_name_their_reason", test_refusals_name_their_reason },
		{ "a_wildcard_skips_system_indices_and_a_missing_name_may_be_ignored",
		  test_a_wildcard_skips_system_indices_and_a_missing_name_may_be_ignored },
		{ "a_managed_service_keeps_its_security_index", test_a_managed_service_keeps_its_security_index },
		{ NULL, NULL },
	};

	return unit_main(argc, argv, cases);
}
