/*
 * client/aws/sign.c: how URLs are taken apart for signing, and the headers
 * the http_signer hook adds. That AWS accepts the result is checked by
 * tests/aws/gateway.py (botocore) in tests/test_aws_standins.py and the
 * mount tests.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>

#include "client/aws/sign.h"
#include "unit.h"

static void check_split(const char *url, const char *host, const char *path, const char *query)
{
	struct aws_url_parts p;

	CHECK_INT(aws_url_split(url, &p), 0);
	CHECK_STR(p.host, host);
	CHECK_STR(p.path, path);
	CHECK_STR(p.query, query);
	aws_url_parts_free(&p);
}

static void test_url_split(void)
{
	check_split("https://search-x-abc.eu-west-1.es.amazonaws.com/_snapshot",
		    "search-x-abc.eu-west-1.es.amazonaws.com", "/_snapshot", "");
	check_split("https://search-x-abc.eu-west-1.es.amazonaws.com",
		    "search-x-abc.eu-west-1.es.amazonaws.com", "/", "");
	check_split("http://127.0.0.1:9200/_cat/snapshots/r?format=json&h=id,status",
		    "127.0.0.1:9200", "/_cat/snapshots/r", "format=json&h=id,status");
	check_split("http://localhost?x=1", "localhost", "/", "x=1");
	check_split("http://[::1]:9200/a%2Fb?", "[::1]:9200", "/a%2Fb", "");
	check_split("http://[::1]/a#frag", "[::1]", "/a", "");
	check_split("http://h/p?q=1#frag", "h", "/p", "q=1");
}

/* curl leaves the scheme's default port out of Host; what is signed must match. */
static void test_url_split_default_ports(void)
{
	check_split("http://example.com:80/x", "example.com", "/x", "");
	check_split("https://example.com:443/x", "example.com", "/x", "");
	check_split("HTTPS://example.com:443", "example.com", "/", "");
	check_split("http://example.com:443/x", "example.com:443", "/x", "");
	check_split("https://example.com:80/x", "example.com:80", "/x", "");
	check_split("http://[::1]:80/x", "[::1]", "/x", "");
	check_split("http://example.com:/x", "example.com", "/x", "");
}

static void test_url_split_refused(void)
{
	static const char *const bad[] = {
		"ftp://example.com/", "example.com/x", "http://", "http:///x",
		"http://user:pw@example.com/", "http://example.com:9x/", "http://[::1/",
		"http://[::1]x/", "http://:9200/",
	};
	struct aws_url_parts p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = aws_url_split(bad[i], &p);

		if (rc != -EINVAL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_INT(rc, -EINVAL);
	}
	CHECK_INT(aws_url_split(NULL, &p), -EINVAL);
}

static void signer_env(const char *token)
{
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/esfs-credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/esfs-config", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	if (token)
		setenv("AWS_SESSION_TOKEN", token, 1);
	else
		unsetenv("AWS_SESSION_TOKEN");
}

static const char *find_header(const struct curl_slist *list, const char *prefix)
{
	for (; list; list = list->next)
		if (!strncmp(list->data, prefix, strlen(prefix)))
			return list->data + strlen(prefix);
	return NULL;
}

static void test_hook_adds_headers(void)
{
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	struct esfs_error err = { 0 };
	const struct http_signer *hook;
	struct aws_signer *s;
	char why[512] = "";
	const char *auth;

	signer_env("FwoGZXIvYXdzEXAMPLE");
	s = aws_signer_new("http://127.0.0.1:9200", "us-east-1", NULL, 0, why, sizeof(why));
	CHECK(s != NULL);
	if (!s)
		return;
	hook = aws_signer_hook(s);
	CHECK_INT(hook->sign(hook->ctx, "PUT", "http://127.0.0.1:9200/_snapshot/r/s?wait_for_completion=true",
			     "{}", 2, &headers, &err), 0);
	CHECK_STR(find_header(headers, "Host: "), "127.0.0.1:9200");
	CHECK_STR(find_header(headers, "X-Amz-Security-Token: "), "FwoGZXIvYXdzEXAMPLE");
	CHECK(find_header(headers, "X-Amz-Date: ") != NULL);
	CHECK(find_header(headers, "X-Amz-Content-Sha256: ") == NULL);
	auth = find_header(headers, "Authorization: ");
	CHECK(auth && !strncmp(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40));
	CHECK(auth && strstr(auth, "/us-east-1/es/aws4_request, SignedHeaders=host;x-amz-date;"
			     "x-amz-security-token, Signature=") != NULL);
	CHECK_STR(find_header(headers, "Content-Type: "), "application/json");
	curl_slist_free_all(headers);
	aws_signer_free(s);
}

/* The region and service come from an Amazon endpoint's name; aoss signs the payload hash. */
static void test_scope_from_endpoint(void)
{
	struct curl_slist *headers = NULL;
	struct esfs_error err = { 0 };
	struct buf out = BUF_INIT;
	struct aws_signer *s;
	char why[512] = "";
	const char *url = "https://07tjusf2h91cunochc.us-west-2.aoss.amazonaws.com";

	signer_env(NULL);
	s = aws_signer_new(url, NULL, NULL, 0, why, sizeof(why));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(aws_signer_render(aws_signer_hook(s), &out), 0);
	CHECK(!strncmp(out.data, "region us-west-2\nservice aoss\nsource environment\n"
		       "access_key_id AKIDEXAMPLE\n", 74));
	CHECK(strstr(out.data, "wJalr") == NULL);
	CHECK_INT(aws_signer_hook(s)->sign(s, "GET", "https://07tjusf2h91cunochc.us-west-2.aoss."
					   "amazonaws.com:443/_cat/indices", NULL, 0, &headers, &err), 0);
	CHECK_STR(find_header(headers, "Host: "), "07tjusf2h91cunochc.us-west-2.aoss.amazonaws.com");
	CHECK_STR(find_header(headers, "X-Amz-Content-Sha256: "),
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(find_header(headers, "X-Amz-Security-Token: ") == NULL);
	curl_slist_free_all(headers);
	buf_free(&out);
	aws_signer_free(s);
}

static void test_region_needed_for_other_hosts(void)
{
	char why[512] = "";

	signer_env(NULL);
	CHECK(aws_signer_new("http://127.0.0.1:9200", NULL, NULL, 0, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "aws_region=") != NULL);
	signer_env(NULL);
	setenv("AWS_REGION", "ap-south-1", 1);
	{
		struct aws_signer *s = aws_signer_new("http://127.0.0.1:9200", NULL, NULL, 0, why,
						      sizeof(why));
		struct buf out = BUF_INIT;

		CHECK(s != NULL);
		if (s) {
			aws_signer_render(aws_signer_hook(s), &out);
			CHECK(!strncmp(out.data, "region ap-south-1\nservice es\n", 29));
		}
		buf_free(&out);
		aws_signer_free(s);
	}
	unsetenv("AWS_REGION");
	signer_env(NULL);
	CHECK(aws_signer_new("http://127.0.0.1:9200", "EU-West-1", NULL, 0, why, sizeof(why)) == NULL);
	signer_env(NULL);
	CHECK(aws_signer_new("http://127.0.0.1:9200", "eu-west-1", "es es", 0, why, sizeof(why)) == NULL);
}

static void test_no_credentials(void)
{
	char why[1024] = "";

	signer_env(NULL);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK(aws_signer_new("http://127.0.0.1:9200", "us-east-1", NULL, 0, why, sizeof(why)) == NULL);
	CHECK(strstr(why, "no AWS credentials found") != NULL);
}

static void test_render_refuses_other_hooks(void)
{
	struct http_signer other = { NULL, NULL };
	struct buf out = BUF_INIT;

	CHECK_INT(aws_signer_render(NULL, &out), -ENOENT);
	CHECK_INT(aws_signer_render(&other, &out), -ENOENT);
	CHECK(out.len == 0);
}

static const struct unit_case cases[] = {
	{ "url_split", test_url_split },
	{ "url_split_default_ports", test_url_split_default_ports },
	{ "url_split_refused", test_url_split_refused },
	{ "hook_adds_headers", test_hook_adds_headers },
	{ "scope_from_endpoint", test_scope_from_endpoint },
	{ "region_needed_for_other_hosts", test_region_needed_for_other_hosts },
	{ "no_credentials", test_no_credentials },
	{ "render_refuses_other_hooks", test_render_refuses_other_hooks },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	/* Whatever the caller's environment says, these tests never reach a metadata address. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	return unit_main(argc, argv, cases);
}
