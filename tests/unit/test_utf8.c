/* client/utf8.c: what the engines' UTF-8 decoder would keep as given, and escaping for logs. */
#include <string.h>

#include "client/utf8.h"
#include "unit.h"

#define AT(s) utf8_invalid_at((s), sizeof(s) - 1)

static void valid_text_is_kept(void)
{
	CHECK_INT(AT("nightly-2026.11.21"), 18);
	CHECK_INT(AT("caf\xc3\xa9"), 5);			/* é */
	CHECK_INT(AT("\xe2\x82\xac"), 3);			/* € */
	CHECK_INT(AT("\xed\x9f\xbf"), 3);			/* U+D7FF, just below the surrogates */
	CHECK_INT(AT("\xef\xbf\xbf"), 3);			/* U+FFFF: a noncharacter, but valid */
	CHECK_INT(AT("\xf0\x9f\x93\xa6"), 4);			/* U+1F4E6 */
	CHECK_INT(AT("\xf4\x8f\xbf\xbf"), 4);			/* U+10FFFF, the last code point */
	CHECK_INT(AT(""), 0);
}

/* Each of these the engine's decoder would replace with U+FFFD. */
static void invalid_sequences_are_found(void)
{
	CHECK_INT(AT("zz\xff"), 2);
	CHECK_INT(AT("a\x80"), 1);				/* a lone continuation byte */
	CHECK_INT(AT("\xc3"), 0);				/* cut short */
	CHECK_INT(AT("ab\xe2\x82"), 2);
	CHECK_INT(AT("\xc0\xaf"), 0);				/* overlong '/' */
	CHECK_INT(AT("\xc1\xbf"), 0);
	CHECK_INT(AT("\xe0\x80\xaf"), 0);			/* overlong, three bytes */
	CHECK_INT(AT("\xf0\x80\x80\xaf"), 0);			/* overlong, four bytes */
	CHECK_INT(AT("\xed\xa0\x80"), 0);			/* U+D800, a surrogate (CESU-8) */
	CHECK_INT(AT("\xed\xbf\xbf"), 0);
	CHECK_INT(AT("\xf4\x90\x80\x80"), 0);			/* U+110000 */
	CHECK_INT(AT("\xf5\x80\x80\x80"), 0);
	CHECK_INT(AT("ok\xc3\xa9\xc3("), 4);			/* a bad second byte */
	CHECK_INT(AT("\xe2\x28\xa1"), 0);
}

static void escaping_makes_one_printable_line(void)
{
	char out[64];

	utf8_escape(out, sizeof(out), "zz\xff");
	CHECK_STR(out, "zz\\xff");
	utf8_escape(out, sizeof(out), "/repo/a\nb\tc");
	CHECK_STR(out, "/repo/a\\x0ab\\x09c");
	utf8_escape(out, sizeof(out), "caf\xc3\xa9 \xed\xa0\x80");
	CHECK_STR(out, "caf\xc3\xa9 \\xed\\xa0\\x80");
	CHECK_INT(utf8_invalid_at(out, strlen(out)), strlen(out));
}

static void escaping_truncates_whole_characters(void)
{
	char out[6];

	utf8_escape(out, sizeof(out), "abcd\xc3\xa9");	/* é does not fit after abcd */
	CHECK_STR(out, "abcd");
	utf8_escape(out, sizeof(out), "ab\xff\xff");		/* nor a second \xff */
	CHECK_STR(out, "ab");
	utf8_escape(out, 1, "abc");
	CHECK_STR(out, "");
}

static const struct unit_case cases[] = {
	{ "valid_text_is_kept", valid_text_is_kept },
	{ "invalid_sequences_are_found", invalid_sequences_are_found },
	{ "escaping_makes_one_printable_line", escaping_makes_one_printable_line },
	{ "escaping_truncates_whole_characters", escaping_truncates_whole_characters },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
