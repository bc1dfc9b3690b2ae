/*
 * AWS credentials for SigV4, found where the AWS SDKs look for them and in
 * the same order:
 *
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE or "default"
 *   3. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI
 *   4. EC2 instance metadata, IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true)
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

#include "client/buf.h"

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;	/* NULL for long-term keys */
	time_t expiration;	/* 0: they do not expire */
	time_t obtained;	/* when they were fetched: their lifetime starts there */
};

void aws_credentials_clear(struct aws_credentials *c);
int aws_credentials_copy(struct aws_credentials *dst, const struct aws_credentials *src);

/* True while c holds a key that has not expired at now. */
int aws_credentials_valid(const struct aws_credentials *c, time_t now);

/*
 * Seconds before expiry at which to fetch new credentials: margin_override
 * when it is >= 0, else five minutes or a quarter of their lifetime,
 * whichever is shorter, so that short-lived ones are not fetched constantly.
 */
long aws_refresh_margin(const struct aws_credentials *c, long margin_override);
int aws_credentials_need_refresh(const struct aws_credentials *c, time_t now, long margin_override);

/* "2024-05-01T12:00:00Z", with optional fraction and "+hh:mm" offset. Returns 0 or -EINVAL. */
int aws_parse_time(const char *text, time_t *out);

/*
 * Reads the profile's keys from the shared credentials file, then from the
 * config file ("[profile NAME]", or "[default]"). Either path may be NULL or
 * missing. Returns 0; -ENOENT when neither has the profile; -EINVAL for a
 * profile that has only half a key pair or needs a feature esfs lacks
 * (role_arn, credential_process, SSO), with why saying which.
 */
int aws_shared_files_read(const char *credentials_path, const char *config_path,
			  const char *profile, struct aws_credentials *out, char *why, size_t why_len);

/*
 * Reads the JSON that container and instance metadata endpoints answer with
 * (AccessKeyId, SecretAccessKey, Token, Expiration). Returns 0 or -EINVAL.
 */
int aws_credentials_from_json(const char *json, size_t len, time_t now,
			      struct aws_credentials *out, char *why, size_t why_len);

struct aws_chain;

/* Reads the AWS_* settings from the environment (secrets are removed from it). */
struct aws_chain *aws_chain_new(void);
void aws_chain_free(struct aws_chain *chain);

/*
 * A copy of the current credentials, fetched or refreshed first when needed.
 * Thread-safe. Returns 0, or a negative errno with why explaining.
 */
int aws_chain_get(struct aws_chain *chain, struct aws_credentials *out, char *why, size_t why_len);

/* Where the credentials came from: "environment", "shared-file:PROFILE", "container", "instance-metadata" or "none". */
void aws_chain_source(struct aws_chain *chain, char *out, size_t size);

/* "source", "access_key_id", "expiration"... as "name value" lines, for /_esfs/. */
int aws_chain_render(struct aws_chain *chain, struct buf *out);

#endif
