/* Which nodes' answers esfs asks for gzipped (http_wants_gzip), per -o compression=. */
#include "client/http.h"
#include "unit.h"

static void auto_leaves_loopback_plain(void)
{
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://127.0.0.1:9200"), 0);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "https://127.42.0.7"), 0);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://localhost:9200"), 0);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://LocalHost"), 0);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://[::1]:9200"), 0);
}

static void auto_gzips_every_other_node(void)
{
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "https://search-logs-abc.eu-west-1.es.amazonaws.com"), 1);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://10.0.0.5:9200"), 1);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://[2001:db8::1]:9200"), 1);
	/* A name that only starts like loopback is not: the rule is on the host, whole. */
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://127.example.com"), 1);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_AUTO, "http://localhost.example.com"), 1);
}

static void gzip_and_none_are_what_they_say(void)
{
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_GZIP, "http://127.0.0.1:9200"), 1);
	CHECK_INT(http_wants_gzip(HTTP_COMPRESSION_NONE, "https://es.example.com"), 0);
}

static const struct unit_case cases[] = {
	{ "auto_leaves_loopback_plain", auto_leaves_loopback_plain },
	{ "auto_gzips_every_other_node", auto_gzips_every_other_node },
	{ "gzip_and_none_are_what_they_say", gzip_and_none_are_what_they_say },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
