/*
 * AWS Signature Version 4, Authorization header form, for Amazon OpenSearch
 * Service ("es") and OpenSearch Serverless ("aoss").
 *
 * The signer knows nothing of the HTTP library. The caller describes the
 * request exactly as it will go on the wire, signs it just before sending it,
 * and adds the headers listed in the result. Any header that is signed must
 * then be sent unchanged, so pass only headers the caller sets itself (not the
 * User-Agent or Accept that libcurl adds on its own).
 */
#ifndef ESFS_SIGV4_H
#define ESFS_SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_key {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL for long-term credentials */
};

struct sigv4_scope {
	const char *region;		/* "eu-west-1" */
	const char *service;		/* "es", "aoss" */
};

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *path;		/* as sent, already percent-encoded, no query */
	const char *query;		/* as sent, without the '?'; NULL or "" for none */
	const struct sigv4_header *headers;	/* all are signed; Host is required */
	size_t nheaders;
	const void *payload;
	size_t payload_len;
};

/* Flags for sigv4_sign(); sigv4_service_flags() gives the right set per service. */
enum {
	SIGV4_NORMALIZE_PATH = 1 << 0,		/* resolve ".", ".." and "//" in the path */
	SIGV4_ENCODE_PATH = 1 << 1,		/* percent-encode the sent path once more */
	SIGV4_SIGN_CONTENT_SHA256 = 1 << 2,	/* add and sign X-Amz-Content-Sha256 */
	SIGV4_UNSIGNED_SESSION_TOKEN = 1 << 3,	/* add the token without signing it */
};

#define SIGV4_MAX_ADDED_HEADERS 4

struct sigv4_result {
	char amz_date[17];		/* "YYYYMMDDTHHMMSSZ" */
	char content_sha256[65];	/* hex SHA-256 of the payload */
	char signature[65];		/* hex */
	char *authorization;		/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
	char *canonical_request;	/* kept for tests and debugging */
	char *string_to_sign;
	/*
	 * Headers the caller adds to the request, in this order. Values point
	 * into this result, or at key->session_token.
	 */
	struct sigv4_header headers[SIGV4_MAX_ADDED_HEADERS];
	size_t nheaders;
};

/* SIGV4_* flags that the named service expects. */
unsigned sigv4_service_flags(const char *service);

/*
 * Signs req as of now (UNIX time). Returns 0, or -EINVAL for an incomplete
 * request or key (no Host, or a header the signer adds itself), -ENOMEM, or
 * -EIO when libcrypto fails. On error out holds nothing to free; on success
 * release it with sigv4_result_free().
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	       const struct sigv4_scope *scope, time_t now, unsigned flags,
	       struct sigv4_result *out);
void sigv4_result_free(struct sigv4_result *out);

struct sigv4_endpoint {
	char region[32];
	const char *service;		/* "es" or "aoss", static */
};

/*
 * Reads the region and service from an Amazon OpenSearch endpoint host name:
 * search-NAME-ID.REGION.es.amazonaws.com, vpc-NAME-ID.REGION.es.amazonaws.com
 * or ID.REGION.aoss.amazonaws.com (no port, no scheme). Returns 0, or -EINVAL
 * for any other host, such as a custom domain endpoint.
 */
int sigv4_parse_host(const char *host, struct sigv4_endpoint *out);

#endif
