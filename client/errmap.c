#include "client/errmap.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Engine error types whose meaning does not depend on the reason text. */
static const struct {
	const char *type;
	int err;
} type_errnos[] = {
	{ "repository_missing_exception", ENOENT },
	{ "snapshot_missing_exception", ENOENT },
	{ "index_not_found_exception", ENOENT },
	{ "resource_not_found_exception", ENOENT },
	{ "invalid_index_name_exception", EINVAL },
	{ "concurrent_snapshot_execution_exception", EBUSY },
	{ "snapshot_in_progress_exception", EBUSY },
	{ "version_conflict_engine_exception", EBUSY },
	{ "security_exception", EACCES },
	{ "cluster_block_exception", EROFS },
	{ "process_cluster_event_timeout_exception", ETIMEDOUT },
	{ "receive_timeout_transport_exception", ETIMEDOUT },
	{ "es_rejected_execution_exception", EAGAIN },
	{ "opensearch_rejected_execution_exception", EAGAIN },
	{ "circuit_breaking_exception", EAGAIN },
	{ "repository_verification_exception", EIO },
	{ "parse_exception", EINVAL },
	{ "x_content_parse_exception", EINVAL },
	{ "json_parse_exception", EINVAL },
	{ "json_e_o_f_exception", EINVAL },
	{ "illegal_argument_exception", EINVAL },
	{ "action_request_validation_exception", EINVAL },
	{ "mapper_parsing_exception", EINVAL },
	{ "illegal_state_exception", EINVAL },
};

static int errno_for_status(long status)
{
	switch (status) {
	case 400: return EINVAL;
	case 401:
	case 403: return EACCES;
	case 404: return ENOENT;
	case 405: return EOPNOTSUPP;
	case 408:
	case 504: return ETIMEDOUT;
	case 409: return EBUSY;
	case 413: return EFBIG;
	case 429:
	case 503: return EAGAIN;
	default:  return EIO;
	}
}

static int contains(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

/*
 * Some engine types cover several situations that a shell user must tell
 * apart (a taken name, a read-only repository), and only the reason says which.
 */
static int errno_for_type(const char *type, const char *reason, long status)
{
	if (status == 401 || status == 403)
		return EACCES;
	if (contains(reason, "readonly") || contains(reason, "read-only"))
		return EROFS;
	if (contains(reason, "already exists") || contains(reason, "already in-progress"))
		return EEXIST;
	if (contains(reason, "repository type ["))
		return EINVAL;	/* "repository type [x] does not exist": a typo, not a failure */
	if (contains(reason, "currently used"))
		return EBUSY;	/* unregistering a repository a snapshot runs in: OS 500 illegal_state_exception */
	if (!strcmp(type, "snapshot_restore_exception") && contains(reason, "snapshot does not exist"))
		return ENOENT;	/* restore of a missing snapshot: 500 on both engines */
	if (!strcmp(type, "invalid_snapshot_name_exception") || !strcmp(type, "snapshot_restore_exception"))
		return EINVAL;
	for (size_t i = 0; i < sizeof(type_errnos) / sizeof(type_errnos[0]); i++)
		if (!strcmp(type, type_errnos[i].type))
			return type_errnos[i].err;
	return errno_for_status(status);
}

static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* The causes often say what the summary hides ("Not a directory"): keep the chain. */
static void append_causes(struct esfs_error *e, const cJSON *cause)
{
	for (int depth = 0; cJSON_IsObject(cause) && depth < 8; depth++) {
		const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cause, "reason"));
		size_t used = strlen(e->reason);

		if (reason && used + 1 < sizeof(e->reason))
			snprintf(e->reason + used, sizeof(e->reason) - used, "%scaused by: %s",
				 used ? "; " : "", reason);
		cause = cJSON_GetObjectItemCaseSensitive(cause, "caused_by");
	}
}

/* The engine's {"error": {"type", "reason"}} or {"error": "text"}; AWS's {"message"} / {"Message"}. */
static void read_error_body(struct esfs_error *e, const cJSON *root)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *msg;

	if (cJSON_IsObject(error)) {
		copy_field(e->type, sizeof(e->type),
			   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "type")));
		copy_field(e->reason, sizeof(e->reason),
			   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(error, "reason")));
		append_causes(e, cJSON_GetObjectItemCaseSensitive(error, "caused_by"));
		return;
	}
	if (cJSON_IsString(error)) {
		copy_field(e->reason, sizeof(e->reason), error->valuestring);
		return;
	}
	msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	if (!cJSON_IsString(msg))
		msg = cJSON_GetObjectItemCaseSensitive(root, "Message");
	if (cJSON_IsString(msg))
		copy_field(e->reason, sizeof(e->reason), msg->valuestring);
}

void errmap_one_line(char *s)
{
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (n = strlen(s); n > 0 && s[n - 1] == ' '; n--)
		s[n - 1] = '\0';
}

/* A body that is not JSON (a proxy's page, "Unauthorized") is kept as the reason, on one line. */
static void read_text_body(struct esfs_error *e, const char *body, size_t len)
{
	size_t n = len < sizeof(e->reason) - 1 ? len : sizeof(e->reason) - 1;

	memcpy(e->reason, body, n);
	e->reason[n] = '\0';
	errmap_one_line(e->reason);
}

void errmap_from_response(struct esfs_error *e, long status, const char *body, size_t len)
{
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;

	memset(e, 0, sizeof(*e));
	e->status = status;
	if (root)
		read_error_body(e, root);
	else if (body && len)
		read_text_body(e, body, len);
	cJSON_Delete(root);
	/* The type too: it is a field of /_esfs/errors, where a tab or line break would start another. */
	errmap_one_line(e->type);
	errmap_one_line(e->reason);
	if (!e->type[0])
		snprintf(e->type, sizeof(e->type), "http_%ld", status);
	if (!e->reason[0])
		snprintf(e->reason, sizeof(e->reason), "HTTP status %ld", status);
	e->err = errno_for_type(e->type, e->reason, status);
}

void errmap_set(struct esfs_error *e, int err, const char *type, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->err = err;
	copy_field(e->type, sizeof(e->type), type);
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
}

const char *errmap_errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EIO";
}
