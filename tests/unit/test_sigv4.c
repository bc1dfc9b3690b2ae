/* Unit tests of client/aws/sigv4.c; the AWS suite itself runs under tools/sigv4-suite. */
#include <errno.h>

#include "client/aws/sigv4.h"
#include "unit.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HOST "search-books-3xamplezzz7ho5cbn6wmhmaxcq.eu-west-1.es.amazonaws.com"

static const struct sigv4_key test_key = {
	"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL
};
static const struct sigv4_scope test_scope = { "eu-west-1", "es" };
static const struct sigv4_header host_only[] = { { "Host", HOST } };

/* 2024-02-29T23:59:58Z */
#define TEST_TIME ((time_t)1709251198)

static struct sigv4_request get_root(void)
{
	return (struct sigv4_request){ "GET", "/", NULL, host_only, 1, NULL, 0 };
}

static const char *added_header(const struct sigv4_result *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

static void check_host(const char *host, const char *region, const char *service)
{
	struct sigv4_endpoint ep;

	CHECK_INT(sigv4_parse_host(host, &ep), 0);
	CHECK_STR(ep.region, region);
	CHECK_STR(ep.service, service);
}

static void test_parse_host_good(void)
{
	check_host(HOST, "eu-west-1", "es");
	check_host("vpc-my-logs-abc123def456.us-gov-west-1.es.amazonaws.com", "us-gov-west-1", "es");
	check_host("SEARCH-Books-X1.EU-WEST-1.ES.AMAZONAWS.COM", "eu-west-1", "es");
	check_host("07tjusf2h91cunochc.us-east-1.aoss.amazonaws.com", "us-east-1", "aoss");
}

static void test_parse_host_bad(void)
{
	static const char *const bad[] = {
		"",
		"localhost",
		"search.example.com",
		"es.amazonaws.com",
		"search-books.eu-west-1.es.amazonaws.com",		/* no domain ID */
		"books-abc123.eu-west-1.es.amazonaws.com",		/* neither search- nor vpc- */
		"search-books-abc123.es.amazonaws.com",			/* no region */
		"search-books-abc123.x.eu-west-1.es.amazonaws.com",
		"search-books-abc123.eu-west-1.es.amazonaws.com.evil.example",
		"search-books-abc123.eu-west-1.es.amazonaws.com:443",
		"search-books-abc123.eu-west-1.es.amazonaws.com.",
		"search-books-abc123.eu_west-1.es.amazonaws.com",
		"search-books-abc123.eu-west-1.s3.amazonaws.com",
		"search-books-abc123.a-very-long-region-name-indeed-1.es.amazonaws.com",
		"coll-id.us-east-1.aoss.amazonaws.com",
		".us-east-1.aoss.amazonaws.com",
	};
	struct sigv4_endpoint ep;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = sigv4_parse_host(bad[i], &ep);

		if (rc != -EINVAL)
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
		CHECK_INT(rc, -EINVAL);
	}
	CHECK_INT(sigv4_parse_host(NULL, &ep), -EINVAL);
}

/* Expected values from botocore 1.43 SigV4Auth with the clock fixed at TEST_TIME. */
static void test_known_answer_botocore(void)
{
	static const struct sigv4_key key = {
		"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "FQoGZXIvYXdzEXAMPLETOKEN+/="
	};
	static const struct sigv4_header headers[] = {
		{ "Content-Type", "application/json" }, { "Host", HOST },
	};
	static const char body[] = "{\"title\":\"Hello, world\"}\n";
	struct sigv4_request req = {
		"PUT", "/books/_doc/a%2Fb%20c", "refresh=true&routing=x", headers, 2, body, sizeof(body) - 1
	};
	struct sigv4_result res;

	CHECK_INT(sigv4_sign(&req, &key, &test_scope, TEST_TIME, sigv4_service_flags("es"), &res), 0);
	CHECK_STR(res.canonical_request,
		  "PUT\n"
		  "/books/_doc/a%252Fb%2520c\n"
		  "refresh=true&routing=x\n"
		  "content-type:application/json\n"
		  "host:" HOST "\n"
		  "x-amz-date:20240229T235958Z\n"
		  "x-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN+/=\n"
		  "\n"
		  "content-type;host;x-amz-date;x-amz-security-token\n"
		  "575d6db50adf679ee1ac287ab889a8c243bceba185e8afdc4e70b8fd2698f936");
	CHECK_STR(res.string_to_sign,
		  "AWS4-HMAC-SHA256\n"
		  "20240229T235958Z\n"
		  "20240229/eu-west-1/es/aws4_request\n"
		  "db2eef5103e3883b9f065a6979a7acb17e2d9a8a73f6d0e26e516148085fda1c");
	CHECK_STR(res.authorization,
		  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/eu-west-1/es/aws4_request, "
		  "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
		  "Signature=92f8d3bb775805975c96832c44408b62cf8bede2d710b9813ba505b553a6b67b");
	CHECK_STR(res.amz_date, "20240229T235958Z");
	sigv4_result_free(&res);
}

static void test_session_token(void)
{
	static const struct sigv4_header dup[] = { { "Host", HOST }, { "x-amz-security-token", "X" } };
	struct sigv4_key key = test_key;
	struct sigv4_request req = get_root();
	struct sigv4_result res;

	key.session_token = "TOKEN123";
	CHECK_INT(sigv4_sign(&req, &key, &test_scope, TEST_TIME, sigv4_service_flags("es"), &res), 0);
	CHECK(strstr(res.canonical_request, "\nx-amz-security-token:TOKEN123\n") != NULL);
	CHECK(strstr(res.authorization, "SignedHeaders=host;x-amz-date;x-amz-security-token,") != NULL);
	CHECK_STR(added_header(&res, "X-Amz-Security-Token"), "TOKEN123");
	CHECK_STR(res.headers[0].name, "X-Amz-Security-Token");
	CHECK_STR(res.headers[res.nheaders - 1].name, "Authorization");
	sigv4_result_free(&res);

	/* Unsigned, the token is still sent but left out of the signature. */
	CHECK_INT(sigv4_sign(&req, &key, &test_scope, TEST_TIME,
			     sigv4_service_flags("es") | SIGV4_UNSIGNED_SESSION_TOKEN, &res), 0);
	CHECK(strstr(res.canonical_request, "x-amz-security-token") == NULL);
	CHECK_STR(added_header(&res, "X-Amz-Security-Token"), "TOKEN123");
	sigv4_result_free(&res);

	/* The signer adds the token itself, so the caller may not. */
	req.headers = dup;
	req.nheaders = 2;
	CHECK_INT(sigv4_sign(&req, &key, &test_scope, TEST_TIME, 0, &res), -EINVAL);
}

static void test_empty_payload_hash(void)
{
	struct sigv4_request req = get_root();
	struct sigv4_result res;
	size_t len;

	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, sigv4_service_flags("es"), &res), 0);
	CHECK_STR(res.content_sha256, EMPTY_SHA256);
	len = strlen(res.canonical_request);
	CHECK(len > 64 && !strcmp(res.canonical_request + len - 64, EMPTY_SHA256));
	CHECK(added_header(&res, "X-Amz-Content-Sha256") == NULL);
	sigv4_result_free(&res);
}

/* OpenSearch Serverless rejects requests that do not sign the payload hash header. */
static void test_aoss_signs_content_sha256(void)
{
	struct sigv4_request req = get_root();
	struct sigv4_scope scope = { "us-east-1", "aoss" };
	struct sigv4_result res;

	CHECK_INT(sigv4_sign(&req, &test_key, &scope, TEST_TIME, sigv4_service_flags("aoss"), &res), 0);
	CHECK(strstr(res.canonical_request, "\nx-amz-content-sha256:" EMPTY_SHA256 "\n") != NULL);
	CHECK(strstr(res.authorization, "SignedHeaders=host;x-amz-content-sha256;x-amz-date,") != NULL);
	CHECK_STR(added_header(&res, "X-Amz-Content-Sha256"), EMPTY_SHA256);
	sigv4_result_free(&res);
}

static void test_changed_secret_changes_signature(void)
{
	struct sigv4_key other = test_key;
	struct sigv4_request req = get_root();
	struct sigv4_result a, b;

	other.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, 0, &a), 0);
	CHECK_INT(sigv4_sign(&req, &other, &test_scope, TEST_TIME, 0, &b), 0);
	CHECK_STR(a.string_to_sign, b.string_to_sign);
	CHECK(strcmp(a.signature, b.signature) != 0);
	sigv4_result_free(&a);
	sigv4_result_free(&b);
}

static void test_rejects_incomplete_requests(void)
{
	static const struct sigv4_header no_host[] = { { "Content-Type", "application/json" } };
	static const struct sigv4_header with_auth[] = { { "Host", HOST }, { "Authorization", "x" } };
	struct sigv4_request req = get_root();
	struct sigv4_key key = test_key;
	struct sigv4_result res;

	req.headers = no_host;
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, 0, &res), -EINVAL);
	req.headers = with_auth;
	req.nheaders = 2;
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, 0, &res), -EINVAL);
	req = get_root();
	key.secret_access_key = "";
	CHECK_INT(sigv4_sign(&req, &key, &test_scope, TEST_TIME, 0, &res), -EINVAL);
}

/* S3 signs the path as sent; every other service normalizes and encodes it again. */
static void test_path_rules_per_service(void)
{
	struct sigv4_request req = get_root();
	struct sigv4_result res;

	req.path = "/a/./b%2F/../c";
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, sigv4_service_flags("es"), &res), 0);
	CHECK(!strncmp(res.canonical_request, "GET\n/a/c\n", 9));
	sigv4_result_free(&res);
	req.path = "/idx/_doc/a%2Fb";
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, sigv4_service_flags("es"), &res), 0);
	CHECK(!strncmp(res.canonical_request, "GET\n/idx/_doc/a%252Fb\n", 22));
	sigv4_result_free(&res);
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, sigv4_service_flags("s3"), &res), 0);
	CHECK(!strncmp(res.canonical_request, "GET\n/idx/_doc/a%2Fb\n", 20));
	sigv4_result_free(&res);
}

static void test_query_canonical_order(void)
{
	struct sigv4_request req = get_root();
	struct sigv4_result res;

	req.query = "b=2&a=z&a=y&flag&&c=%7e%2f";
	CHECK_INT(sigv4_sign(&req, &test_key, &test_scope, TEST_TIME, 0, &res), 0);
	CHECK(!strncmp(res.canonical_request, "GET\n/\na=y&a=z&b=2&c=~%2F&flag=\n", 31));
	sigv4_result_free(&res);
}

static const struct unit_case cases[] = {
	{ "parse_host_good", test_parse_host_good },
	{ "parse_host_bad", test_parse_host_bad },
	{ "known_answer_botocore", test_known_answer_botocore },
	{ "session_token", test_session_token },
	{ "empty_payload_hash", test_empty_payload_hash },
	{ "aoss_signs_content_sha256", test_aoss_signs_content_sha256 },
	{ "changed_secret_changes_signature", test_changed_secret_changes_signature },
	{ "rejects_incomplete_requests", test_rejects_incomplete_requests },
	{ "path_rules_per_service", test_path_rules_per_service },
	{ "query_canonical_order", test_query_canonical_order },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
