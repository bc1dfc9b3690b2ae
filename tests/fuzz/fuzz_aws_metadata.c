/*
 * Fuzzes what esfs reads from the container and EC2 instance metadata
 * endpoints and their settings (client/aws/credentials.c, metadata.c): the
 * credentials JSON (aws_credentials_from_json), its Expiration time
 * (aws_parse_time) with the refresh decision on it, and the container URL
 * from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI
 * (aws_container_url). Input: the JSON; the first line of it is also the
 * time, the relative URI and the full URI, whose plain http host, as
 * libcurl reads it, must be this machine or an agent.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/aws/credentials.h"
#include "client/aws/metadata.h"
#include "fuzz.h"

#define NOW 1700000000

static void check_answer(const char *json, size_t len)
{
	struct aws_credentials out, copy;
	char why[256] = "";
	int rc = aws_credentials_from_json(json, len, NOW, &out, why, sizeof(why));

	FUZZ_CHECK(rc == 0 || (rc == -EINVAL && why[0]));
	if (rc == 0) {
		FUZZ_CHECK(out.access_key_id && out.secret_access_key && out.obtained == NOW);
		FUZZ_CHECK(!out.session_token || *out.session_token);
		FUZZ_CHECK(aws_credentials_copy(&copy, &out) == 0);
		FUZZ_CHECK(aws_credentials_valid(&copy, NOW) == aws_credentials_valid(&out, NOW));
		(void)aws_credentials_need_refresh(&out, NOW, -1);
		aws_credentials_clear(&copy);
	} else {
		FUZZ_CHECK(!out.access_key_id && !out.secret_access_key && !out.session_token);
	}
	aws_credentials_clear(&out);
}

static void check_time(const char *text)
{
	struct aws_credentials c = { .access_key_id = "k", .secret_access_key = "s", .obtained = NOW };
	time_t t;

	if (aws_parse_time(text, &t))
		return;
	c.expiration = t;
	FUZZ_CHECK(aws_refresh_margin(&c, -1) >= 0 && aws_refresh_margin(&c, -1) <= 300);
	(void)aws_credentials_need_refresh(&c, NOW, -1);
	(void)aws_credentials_valid(&c, NOW);
}

/*
 * Plain http goes only to this machine or the ECS/EKS agents, as the SDKs
 * require: the host libcurl would connect to, by its own URL parser, is one
 * of them. A URL libcurl cannot parse is never fetched.
 */
static void check_plain_http_host(const char *uri)
{
	static const char *const allowed[] = { "localhost", "169.254.170.2", "169.254.170.23", "[::1]",
					       "[fd00:ec2::23]" };
	CURLU *u = curl_url();
	char *host = NULL;
	int ok = 0;

	FUZZ_CHECK(u != NULL);
	if (curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		ok = !strncmp(host, "127.", 4);
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			ok |= !strcasecmp(host, allowed[i]);
		FUZZ_CHECK(ok);
	}
	curl_free(host);
	curl_url_cleanup(u);
}

static void check_container_url(const char *uri)
{
	char why[256] = "", *url = NULL;
	int rc = aws_container_url(uri, NULL, NULL, &url, why, sizeof(why));

	FUZZ_CHECK(rc == 0 ? url && !strncmp(url, AWS_CONTAINER_DEFAULT_ENDPOINT, 20) : !url);
	free(url);
	rc = aws_container_url(NULL, uri, NULL, &url, why, sizeof(why));
	FUZZ_CHECK(rc == 0 ? url && !strcmp(url, uri) : !url && (rc == -EINVAL || rc == -ENOMEM));
	if (rc == 0 && !strncasecmp(uri, "http://", 7))
		check_plain_http_host(uri);
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *json = fuzz_text(data, size), *line = fuzz_until(&in, '\n');

	check_answer(json, size);
	check_time(line);
	check_container_url(line);
	free(line);
	free(json);
	return 0;
}
