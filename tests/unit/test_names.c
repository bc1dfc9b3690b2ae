#include <errno.h>

#include "client/utf8.h"
#include "fs/names.h"
#include "unit.h"

static void snapshot_names_the_engines_take(void)
{
	const char *good[] = { "nightly-2026.11.21", "a%2fb", "c%3fd", "100%", "caf\xc3\xa9", "a:b", ".x", "-x" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_INT(name_check_snapshot(good[i], NULL, 0), 0);
}

static void snapshot_names_the_engines_refuse(void)
{
	const char *bad[] = { "", ".", "..", "Upper", "_x", "a b", "a?b", "a#b", "a*b", "a,b", "a\"b",
			      "a<b", "a>b", "a|b", "a\\b", "a/b", "tab\there" };
	char why[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(name_check_snapshot(bad[i], why, sizeof(why)), -EINVAL);
		CHECK(why[0] != '\0');
	}
	name_check_snapshot("Upper", why, sizeof(why));
	CHECK_STR(why, "snapshot name [Upper] must be lowercase");
	name_check_snapshot("a#b", why, sizeof(why));
	CHECK_STR(why, "name [a#b] must not contain '#'");
}

static void repositories_may_have_uppercase(void)
{
	CHECK_INT(name_check_repository("Backups-EU", NULL, 0), 0);
	CHECK_INT(name_check_repository("_x", NULL, 0), -EINVAL);
	CHECK_INT(name_check_repository("a b", NULL, 0), -EINVAL);
}

/* The engine would decode these into another name (U+FFFD for each bad sequence). */
static void names_that_are_not_utf8(void)
{
	const char *bad[] = { "zz\xff", "a\x80", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80x" };
	char why[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(name_check_snapshot(bad[i], NULL, 0), -EINVAL);
		CHECK_INT(name_check_repository(bad[i], NULL, 0), -EINVAL);
	}
	name_check_snapshot("zz\xff", why, sizeof(why));
	CHECK_STR(why, "name [zz\\xff] is not valid UTF-8 (byte 2): the engine would store another name");
	CHECK_INT(name_check_snapshot("caf\xc3\xa9", NULL, 0), 0);
}

static void reasons_print_on_one_line(void)
{
	char why[300];

	name_check_snapshot("tab\there", why, sizeof(why));
	CHECK_STR(why, "name [tab\\x09here] must not contain control character 0x09");
}

/*
 * A reason cut to its buffer (actions.c has 300 bytes) ends on a whole
 * character: 60 control characters shown as \x01 push the é past the cut.
 */
static void reasons_cut_short_stay_utf8(void)
{
	char name[256] = "", why[300];

	for (int i = 0; i < 60; i++)
		strcat(name, "\x01");
	for (int i = 0; i < 97; i++)
		strcat(name, "\xc3\xa9");	/* é */
	CHECK_INT(name_check_snapshot(name, why, sizeof(why)), -EINVAL);
	CHECK_INT(utf8_invalid_at(why, strlen(why)), strlen(why));
	CHECK_INT(strlen(why), 298);	/* the 299th byte would start an é that does not fit */
}

static void overlong_names(void)
{
	char name[300];

	memset(name, 'a', 256);
	name[256] = '\0';
	CHECK_INT(name_check_snapshot(name, NULL, 0), -EINVAL);
	name[255] = '\0';
	CHECK_INT(name_check_snapshot(name, NULL, 0), 0);
}

/* Regex.simpleMatch's answers; the last pattern took exponential time in a recursive match. */
static void simple_patterns_match_as_the_engines_do(void)
{
	static char many[2 * 40 + 2], name[200];

	CHECK(name_simple_match("logs-*", "logs-2026"));
	CHECK(name_simple_match("*", ""));
	CHECK(name_simple_match("a*b*c", "aXXbYYc"));
	CHECK(name_simple_match("*-1", "logs-1"));
	CHECK(!name_simple_match("*-1", "logs-12"));
	CHECK(!name_simple_match("logs-?", "logs-1"));	/* '?' is no wildcard */
	CHECK(name_simple_match("logs-?", "logs-?"));
	CHECK(!name_simple_match("a*b", "a"));
	CHECK(name_simple_match("orders", "orders"));
	CHECK(!name_simple_match("orders", "orders2"));
	for (int i = 0; i < 40; i++)
		memcpy(many + 2 * i, "a*", 2);
	many[80] = 'b';
	memset(name, 'a', sizeof(name) - 1);
	CHECK(!name_simple_match(many, name));
}

static const struct unit_case cases[] = {
	{ "simple_patterns_match_as_the_engines_do", simple_patterns_match_as_the_engines_do },
	{ "snapshot_names_the_engines_take", snapshot_names_the_engines_take },
	{ "snapshot_names_the_engines_refuse", snapshot_names_the_engines_refuse },
	{ "repositories_may_have_uppercase", repositories_may_have_uppercase },
	{ "names_that_are_not_utf8", names_that_are_not_utf8 },
	{ "reasons_print_on_one_line", reasons_print_on_one_line },
	{ "reasons_cut_short_stay_utf8", reasons_cut_short_stay_utf8 },
	{ "overlong_names", overlong_names },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
