/*
 * One set of AWS credentials, as every source of the chain hands it over:
 * clearing (secrets are wiped, never just freed), copying, the expiry and
 * refresh decision, AWS time stamps, and the JSON that credential endpoints
 * answer with. Nothing here depends on another file of client/aws/.
 */
#ifndef ESFS_AWS_KEYS_H
#define ESFS_AWS_KEYS_H

#include <stddef.h>
#include <time.h>

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;	/* NULL for long-term keys */
	time_t expiration;	/* 0: they do not expire */
	time_t obtained;	/* when they were fetched: their lifetime starts there */
};

void aws_credentials_clear(struct aws_credentials *c);
int aws_credentials_copy(struct aws_credentials *dst, const struct aws_credentials *src);
/* Moves src into dst (cleared first), leaving src empty. */
void aws_credentials_move(struct aws_credentials *dst, struct aws_credentials *src);
/* *dst = a copy of src, or NULL for NULL. Returns 0 or -ENOMEM. */
int aws_dup_field(char **dst, const char *src);

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
 * Reads the JSON that container and instance metadata endpoints and
 * credential_process commands answer with (AccessKeyId, SecretAccessKey,
 * Token or SessionToken, Expiration). Returns 0 or -EINVAL.
 */
int aws_credentials_from_json(const char *json, size_t len, time_t now,
			      struct aws_credentials *out, char *why, size_t why_len);

/* cJSON helpers for the sources: a member's string, and a delete that wipes strings first. */
struct cJSON;
const char *aws_json_string(const struct cJSON *obj, const char *name);
void aws_json_wipe_delete(struct cJSON *root);

#endif
