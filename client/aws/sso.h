/*
 * IAM Identity Center (SSO): the access token that `aws sso login` left in
 * ~/.aws/sso/cache/SHA1.json, traded at the SSO portal's GetRoleCredentials
 * for the role's credentials. esfs never logs in or refreshes the token
 * itself: an expired token is the user's to renew.
 */
#ifndef ESFS_AWS_SSO_H
#define ESFS_AWS_SSO_H

#include <stddef.h>
#include <time.h>

#include "client/aws/keys.h"

struct aws_sso_role {
	const char *cache_key;		/* the sso_session name, or the legacy sso_start_url */
	const char *cache_dir;		/* ~/.aws/sso/cache */
	const char *portal_url;		/* https://portal.sso.REGION.amazonaws.com, or an override */
	const char *account_id;
	const char *role_name;
	long timeout_ms;
};

/*
 * Reads the cached token and asks the portal. Returns 0; -EACCES for a
 * missing or expired token ("run aws sso login") or a refusal, with why.
 */
int aws_sso_fetch(const struct aws_sso_role *role, time_t now, struct aws_credentials *out,
		  char *why, size_t why_len);

/*
 * The access token in a cache file's JSON, if expiresAt is after now.
 * Returns 0, -EACCES when it has expired, -EINVAL otherwise. Exposed for tests.
 */
int aws_sso_read_token(const char *json, size_t len, time_t now, char **token, char *why,
		       size_t why_len);

#endif
