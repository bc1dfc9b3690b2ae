/*
 * client/errmap.c on the answers Amazon OpenSearch Service gives: its front
 * door says {"message": ...} or {"Message": ...}, fine-grained access
 * control answers in the engine's own shape, and load balancers in text.
 */
#include <errno.h>

#include "client/errmap.h"
#include "unit.h"

static void check_answer(long status, const char *body, int want_errno, const char *want_type,
			 const char *want_reason)
{
	struct esfs_error e;

	errmap_from_response(&e, status, body, strlen(body));
	CHECK_INT(e.err, want_errno);
	CHECK_INT(e.status, status);
	CHECK_STR(e.type, want_type);
	CHECK_STR(e.reason, want_reason);
}

static void test_invalid_security_token(void)
{
	check_answer(403, "{\"message\":\"The security token included in the request is invalid.\"}",
		     EACCES, "http_403", "The security token included in the request is invalid.");
}

static void test_expired_security_token(void)
{
	check_answer(403, "{\"message\":\"The security token included in the request is expired\"}",
		     EACCES, "http_403", "The security token included in the request is expired");
}

static void test_not_authorized_capital_message(void)
{
	check_answer(403, "{\"Message\":\"User: arn:aws:iam::123456789012:user/x is not authorized "
		     "to perform: es:ESHttpPut\"}", EACCES, "http_403",
		     "User: arn:aws:iam::123456789012:user/x is not authorized to perform: es:ESHttpPut");
}

static void test_anonymous_denied(void)
{
	check_answer(403, "{\"Message\":\"User: anonymous is not authorized to perform: es:ESHttpGet "
		     "with an explicit deny in a resource-based policy\"}", EACCES, "http_403",
		     "User: anonymous is not authorized to perform: es:ESHttpGet with an explicit "
		     "deny in a resource-based policy");
}

static void test_signature_mismatch(void)
{
	const char *msg = "The request signature we calculated does not match the signature you "
			  "provided. Check your AWS Secret Access Key and signing method. Consult "
			  "the service documentation for details.";
	char body[512];

	snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
	check_answer(403, body, EACCES, "http_403", msg);
}

static void test_signature_expired(void)
{
	check_answer(403, "{\"message\":\"Signature expired: 20240101T000000Z is now earlier than "
		     "20240101T000500Z (20240101T001000Z - 5 min.)\"}", EACCES, "http_403",
		     "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z "
		     "(20240101T001000Z - 5 min.)");
}

static void test_missing_authentication_token(void)
{
	check_answer(403, "{\"message\":\"Missing Authentication Token\"}", EACCES, "http_403",
		     "Missing Authentication Token");
}

/* The coral shape some AWS front ends use: "__type" is not read, the message is. */
static void test_coral_type_and_message(void)
{
	check_answer(403, "{\"__type\":\"com.amazon.coral.service#UnrecognizedClientException\","
		     "\"message\":\"The security token included in the request is invalid.\"}",
		     EACCES, "http_403", "The security token included in the request is invalid.");
}

/* With fine-grained access control the engine itself refuses, in its own shape. */
static void test_fine_grained_access_control(void)
{
	check_answer(403, "{\"error\":{\"root_cause\":[{\"type\":\"security_exception\",\"reason\":"
		     "\"no permissions for [cluster:admin/snapshot/create]\"}],\"type\":"
		     "\"security_exception\",\"reason\":\"no permissions for "
		     "[cluster:admin/snapshot/create] and User [name=arn:aws:iam::123456789012:role/ops, "
		     "backend_roles=[arn:aws:iam::123456789012:role/ops]]\"},\"status\":403}",
		     EACCES, "security_exception", "no permissions for [cluster:admin/snapshot/create] "
		     "and User [name=arn:aws:iam::123456789012:role/ops, "
		     "backend_roles=[arn:aws:iam::123456789012:role/ops]]");
}

/* A refusal whose text says "read-only" is still a refusal, not a read-only file system. */
static void test_denied_mentioning_read_only(void)
{
	check_answer(403, "{\"Message\":\"User: arn:aws:sts::123456789012:assumed-role/read-only/s "
		     "is not authorized to perform: es:ESHttpPut\"}", EACCES, "http_403",
		     "User: arn:aws:sts::123456789012:assumed-role/read-only/s is not authorized to "
		     "perform: es:ESHttpPut");
}

static void test_request_too_large(void)
{
	check_answer(413, "{\"Message\":\"Request size exceeded 10485760 bytes\"}", EFBIG, "http_413",
		     "Request size exceeded 10485760 bytes");
}

static void test_throttled(void)
{
	check_answer(429, "{\"message\":\"Too Many Requests\"}", EAGAIN, "http_429",
		     "Too Many Requests");
}

static void test_plain_text_unauthorized(void)
{
	check_answer(401, "Unauthorized", EACCES, "http_401", "Unauthorized");
}

static void test_load_balancer_timeout_page(void)
{
	check_answer(504, "<html>\r\n<body>504 Gateway Time-out</body>\r\n</html>", ETIMEDOUT,
		     "http_504", "<html>  <body>504 Gateway Time-out</body>  </html>");
}

static void test_empty_forbidden(void)
{
	struct esfs_error e;

	errmap_from_response(&e, 403, "", 0);
	CHECK_INT(e.err, EACCES);
	CHECK_STR(e.reason, "HTTP status 403");
}

static const struct unit_case cases[] = {
	{ "invalid_security_token", test_invalid_security_token },
	{ "expired_security_token", test_expired_security_token },
	{ "not_authorized_capital_message", test_not_authorized_capital_message },
	{ "anonymous_denied", test_anonymous_denied },
	{ "signature_mismatch", test_signature_mismatch },
	{ "signature_expired", test_signature_expired },
	{ "missing_authentication_token", test_missing_authentication_token },
	{ "coral_type_and_message", test_coral_type_and_message },
	{ "fine_grained_access_control", test_fine_grained_access_control },
	{ "denied_mentioning_read_only", test_denied_mentioning_read_only },
	{ "request_too_large", test_request_too_large },
	{ "throttled", test_throttled },
	{ "plain_text_unauthorized", test_plain_text_unauthorized },
	{ "load_balancer_timeout_page", test_load_balancer_timeout_page },
	{ "empty_forbidden", test_empty_forbidden },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
