/*
 * AWS credentials for SigV4, found where the AWS SDKs look for them and in
 * the same order (botocore's):
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. assume-role: the profile's role_arn with source_profile or
 *      credential_source, through STS AssumeRole (client/aws/sts.c)
 *   3. web-identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the
 *      profile's web_identity_token_file, through AssumeRoleWithWebIdentity
 *   4. sso: the profile's sso_session or sso_start_url (client/aws/sso.c)
 *   5. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials), then
 *      the profile's credential_process (client/aws/process.c), then
 *      AWS_CONFIG_FILE (~/.aws/config); profile AWS_PROFILE or "default"
 *   6. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI
 *   7. EC2 instance metadata, IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true)
 *
 * The first source that has credentials is kept for the life of the mount.
 * Temporary credentials are fetched again from it shortly before they
 * expire; until new ones come, the old ones serve while they are valid.
 *
 * Secrets are held in memory only: never logged, never rendered, and taken
 * out of the environment once read.
 */
#ifndef ESFS_AWS_CREDENTIALS_H
#define ESFS_AWS_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "client/aws/keys.h"
#include "client/buf.h"

/*
 * Reads the profile's keys from the shared credentials file, then from the
 * config file ("[profile NAME]", or "[default]"). Either path may be NULL or
 * missing. Returns 0; -ENOENT when neither has the profile, or when it gets
 * credentials another way (role_arn, web identity, SSO, credential_process),
 * with why saying which; -EINVAL for half a key pair or a way esfs lacks
 * (login_session).
 */
int aws_shared_files_read(const char *credentials_path, const char *config_path,
			  const char *profile, struct aws_credentials *out, char *why, size_t why_len);

struct aws_chain;

struct aws_chain_options {
	const char *region;	/* the mount's: STS's region when neither AWS_REGION nor the profile names one */
	long timeout_ms;	/* STS, SSO and credential_process; 0: ten seconds */
};

/* Reads the AWS_* settings from the environment (secrets are removed from it); o may be NULL. */
struct aws_chain *aws_chain_new(const struct aws_chain_options *o);
void aws_chain_free(struct aws_chain *chain);

/*
 * A copy of the current credentials, fetched or refreshed first when needed.
 * Thread-safe. Returns 0, or a negative errno with why explaining.
 */
int aws_chain_get(struct aws_chain *chain, struct aws_credentials *out, char *why, size_t why_len);

/*
 * Where the credentials came from: "environment", "assume-role:PROFILE",
 * "web-identity" (from the environment) or "web-identity:PROFILE",
 * "sso:PROFILE", "shared-file:PROFILE", "process:PROFILE", "container",
 * "instance-metadata" or "none".
 */
void aws_chain_source(struct aws_chain *chain, char *out, size_t size);

/* "source", "access_key_id", "expiration"... as "name value" lines, for /_esfs/. */
int aws_chain_render(struct aws_chain *chain, struct buf *out);

#endif
