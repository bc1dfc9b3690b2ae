#include <errno.h>

#include "client/errmap.h"
#include "unit.h"

static struct esfs_error mapped(long status, const char *body)
{
	struct esfs_error e;

	errmap_from_response(&e, status, body, body ? strlen(body) : 0);
	return e;
}

static void missing_things_are_enoent(void)
{
	struct esfs_error e = mapped(404,
		"{\"error\":{\"root_cause\":[{\"type\":\"repository_missing_exception\",\"reason\":\"[nope] missing\"}],"
		"\"type\":\"repository_missing_exception\",\"reason\":\"[nope] missing\"},\"status\":404}");

	CHECK_INT(e.err, ENOENT);
	CHECK_STR(e.type, "repository_missing_exception");
	CHECK_STR(e.reason, "[nope] missing");
	e = mapped(404, "{\"error\":{\"type\":\"snapshot_missing_exception\",\"reason\":\"[r:s] is missing\"},\"status\":404}");
	CHECK_INT(e.err, ENOENT);
}

static void taken_name_is_eexist_bad_name_einval(void)
{
	struct esfs_error e = mapped(400,
		"{\"error\":{\"type\":\"invalid_snapshot_name_exception\","
		"\"reason\":\"[r:s] Invalid snapshot name [s], snapshot with the same name already exists\"},\"status\":400}");

	CHECK_INT(e.err, EEXIST);
	e = mapped(400, "{\"error\":{\"type\":\"invalid_snapshot_name_exception\","
			"\"reason\":\"[r:Bad] Invalid snapshot name [Bad], must be lowercase\"},\"status\":400}");
	CHECK_INT(e.err, EINVAL);
}

static void concurrency_is_ebusy_readonly_is_erofs(void)
{
	struct esfs_error e = mapped(503,
		"{\"error\":{\"type\":\"concurrent_snapshot_execution_exception\",\"reason\":\"[r:s] a snapshot is already running\"},\"status\":503}");

	CHECK_INT(e.err, EBUSY);
	e = mapped(500, "{\"error\":{\"type\":\"repository_exception\",\"reason\":\"[ro] cannot create snapshot in a readonly repository\"},\"status\":500}");
	CHECK_INT(e.err, EROFS);
}

static void refused_credentials_are_eacces(void)
{
	struct esfs_error e = mapped(401, "Unauthorized");

	CHECK_INT(e.err, EACCES);
	CHECK_STR(e.reason, "Unauthorized");
	CHECK_STR(e.type, "http_401");
	e = mapped(403, "{\"error\":{\"type\":\"security_exception\",\"reason\":\"no permissions for [cluster:admin/snapshot/create]\"},\"status\":403}");
	CHECK_INT(e.err, EACCES);
	CHECK_STR(e.type, "security_exception");
}

static void cause_is_kept_with_the_reason(void)
{
	struct esfs_error e = mapped(500,
		"{\"error\":{\"type\":\"repository_exception\",\"reason\":\"[broken] cannot create blob store\","
		"\"caused_by\":{\"type\":\"file_system_exception\",\"reason\":\"/x/sub: Not a directory\"}},\"status\":500}");

	CHECK_INT(e.err, EIO);
	CHECK_STR(e.reason, "[broken] cannot create blob store; caused by: /x/sub: Not a directory");
}

static void plain_error_string_and_empty_body(void)
{
	struct esfs_error e = mapped(400, "{\"error\":\"no handler found for uri [/x] and method [PUT]\",\"status\":400}");

	CHECK_INT(e.err, EINVAL);
	CHECK_STR(e.reason, "no handler found for uri [/x] and method [PUT]");
	e = mapped(502, NULL);
	CHECK_INT(e.err, EIO);
	CHECK_STR(e.reason, "HTTP status 502");
	e = mapped(429, "");
	CHECK_INT(e.err, EAGAIN);
}

static void text_bodies_stay_on_one_line(void)
{
	struct esfs_error e = mapped(502, "<html>\n<body>Bad\tGateway</body>\n</html>");

	CHECK(strchr(e.reason, '\n') == NULL);
	CHECK(strchr(e.reason, '\t') == NULL);
}

/* The type is a field of /_esfs/errors too; one of only blanks is no type. */
static void types_stay_on_one_line(void)
{
	struct esfs_error e = mapped(400, "{\"error\":{\"type\":\"parse\\texception\\n\",\"reason\":\"r\"}}");

	CHECK_STR(e.type, "parse exception");
	e = mapped(400, "{\"error\":{\"type\":\"\\t\",\"reason\":\"r\"}}");
	CHECK_STR(e.type, "http_400");
}

static void errno_names(void)
{
	CHECK_STR(errmap_errno_name(ENOENT), "ENOENT");
	CHECK_STR(errmap_errno_name(ETIMEDOUT), "ETIMEDOUT");
	CHECK_STR(errmap_errno_name(EROFS), "EROFS");
}

static const struct unit_case cases[] = {
	{ "missing_things_are_enoent", missing_things_are_enoent },
	{ "taken_name_is_eexist_bad_name_einval", taken_name_is_eexist_bad_name_einval },
	{ "concurrency_is_ebusy_readonly_is_erofs", concurrency_is_ebusy_readonly_is_erofs },
	{ "refused_credentials_are_eacces", refused_credentials_are_eacces },
	{ "cause_is_kept_with_the_reason", cause_is_kept_with_the_reason },
	{ "plain_error_string_and_empty_body", plain_error_string_and_empty_body },
	{ "text_bodies_stay_on_one_line", text_bodies_stay_on_one_line },
	{ "types_stay_on_one_line", types_stay_on_one_line },
	{ "errno_names", errno_names },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
