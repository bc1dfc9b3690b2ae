/*
 * AWS STS, the Query API: AssumeRole, signed with SigV4 by the source
 * credentials, and AssumeRoleWithWebIdentity, unsigned, with the token read
 * from its file at each call (Kubernetes rotates it). Used by the chain
 * (client/aws/credentials.c) for role_arn profiles and web identity.
 */
#ifndef ESFS_AWS_STS_H
#define ESFS_AWS_STS_H

#include <stddef.h>
#include <time.h>

#include "client/aws/keys.h"

struct aws_sts_endpoint {
	const char *url;		/* https://sts.REGION.amazonaws.com, or an override */
	const char *region;		/* what AssumeRole is signed for */
	long timeout_ms;
};

struct aws_sts_role {
	const char *role_arn;
	const char *session_name;
	const char *external_id;	/* NULL for none */
	long duration_seconds;		/* 0: STS's default, an hour */
	const char *web_identity_token_file;	/* set: AssumeRoleWithWebIdentity */
};

/*
 * Assumes role, signing with source (AssumeRole) or with the web identity
 * token (source NULL). Returns 0; -EACCES when STS refuses, with its Code and
 * Message in why; -EINVAL for an answer without credentials; or the transport's
 * errno. Never puts a secret in why.
 */
int aws_sts_fetch(const struct aws_sts_endpoint *ep, const struct aws_sts_role *role,
		  const struct aws_credentials *source, time_t now, struct aws_credentials *out,
		  char *why, size_t why_len);

/*
 * Reads an STS answer: the Credentials of an AssumeRole(WithWebIdentity)Result
 * when status is 200, else the ErrorResponse's Code and Message in why
 * (-EACCES). Exposed for tests and fuzzing.
 */
int aws_sts_parse(long status, const char *xml, size_t len, time_t now,
		  struct aws_credentials *out, char *why, size_t why_len);

#endif
