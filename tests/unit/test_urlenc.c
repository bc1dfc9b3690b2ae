#include "client/api.h"
#include "client/urlenc.h"
#include "unit.h"

static char *encoded(const char *name)
{
	struct buf b = BUF_INIT;

	CHECK_INT(urlenc_segment(&b, name), 0);
	return buf_steal(&b);
}

static void check_encoding(const char *name, const char *want)
{
	char *got = encoded(name);

	CHECK_STR(got, want);
	free(got);
}

static void unreserved_pass_through(void)
{
	check_encoding("nightly-2026.11.21_x~1", "nightly-2026.11.21_x~1");
	check_encoding("", "");
}

static void separators_are_escaped(void)
{
	/* Nothing a name holds can end the segment, start a query or a fragment. */
	check_encoding("a/b", "a%2Fb");
	check_encoding("a?b", "a%3Fb");
	check_encoding("a#b", "a%23b");
	check_encoding("a b", "a%20b");
	check_encoding("a,b*", "a%2Cb%2A");
	check_encoding("..", "..");
}

static void escapes_are_escaped_again(void)
{
	/* "%2f" in a name is three characters, and must reach the engine as such. */
	check_encoding("x%2fy", "x%252fy");
	check_encoding("%3f", "%253f");
	check_encoding("100%", "100%25");
}

static void bytes_beyond_ascii(void)
{
	check_encoding("caf\xc3\xa9", "caf%C3%A9");
	check_encoding("\x01\x7f", "%01%7F");
}

static void targets_encode_each_name(void)
{
	char *t = api_target("/_snapshot", "Repo%2f", "snap shot?", "/_status");

	CHECK_STR(t, "/_snapshot/Repo%252f/snap%20shot%3F/_status");
	free(t);
	t = api_target("/_cat/snapshots", "r", NULL, "?format=json");
	CHECK_STR(t, "/_cat/snapshots/r?format=json");
	free(t);
}

static const struct unit_case cases[] = {
	{ "unreserved_pass_through", unreserved_pass_through },
	{ "separators_are_escaped", separators_are_escaped },
	{ "escapes_are_escaped_again", escapes_are_escaped_again },
	{ "bytes_beyond_ascii", bytes_beyond_ascii },
	{ "targets_encode_each_name", targets_encode_each_name },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
