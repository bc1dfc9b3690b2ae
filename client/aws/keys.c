/*
 * One set of AWS credentials: what every source hands the chain, their
 * expiry and refresh decision, and the JSON most credential endpoints answer
 * with. It depends on nothing else in client/aws/, so that each source
 * (metadata.c, sts.c, sso.c, process.c) and the chain (credentials.c) can use
 * it without depending on one another.
 */
#include "client/aws/keys.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sys.h"

#define FIVE_MINUTES 300

/* ---- one set of credentials ---- */

void aws_credentials_clear(struct aws_credentials *c)
{
	secret_free(&c->access_key_id);
	secret_free(&c->secret_access_key);
	secret_free(&c->session_token);
	c->expiration = 0;
	c->obtained = 0;
}

int aws_dup_field(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int aws_credentials_copy(struct aws_credentials *dst, const struct aws_credentials *src)
{
	memset(dst, 0, sizeof(*dst));
	if (aws_dup_field(&dst->access_key_id, src->access_key_id) ||
	    aws_dup_field(&dst->secret_access_key, src->secret_access_key) ||
	    aws_dup_field(&dst->session_token, src->session_token)) {
		aws_credentials_clear(dst);
		return -ENOMEM;
	}
	dst->expiration = src->expiration;
	dst->obtained = src->obtained;
	return 0;
}

void aws_credentials_move(struct aws_credentials *dst, struct aws_credentials *src)
{
	aws_credentials_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int aws_credentials_valid(const struct aws_credentials *c, time_t now)
{
	return c->access_key_id && c->secret_access_key && (!c->expiration || now < c->expiration);
}

long aws_refresh_margin(const struct aws_credentials *c, long margin_override)
{
	long lifetime;

	if (margin_override >= 0)
		return margin_override;
	lifetime = c->expiration > c->obtained ? (long)(c->expiration - c->obtained) : 0;
	return lifetime / 4 < FIVE_MINUTES ? lifetime / 4 : FIVE_MINUTES;
}

int aws_credentials_need_refresh(const struct aws_credentials *c, time_t now, long margin_override)
{
	if (!c->access_key_id || !c->secret_access_key)
		return 1;
	if (!c->expiration)
		return 0;
	return now >= c->expiration - aws_refresh_margin(c, margin_override);
}

/* ---- time stamps ---- */

static int parse_offset(const char *p, long *seconds)
{
	int hh, mm, n = 0;

	if (*p == 'Z' || *p == 'z')
		return p[1] ? -EINVAL : (*seconds = 0, 0);
	if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || p[1 + n])
		return -EINVAL;
	*seconds = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	return 0;
}

int aws_parse_time(const char *text, time_t *out)
{
	struct tm tm = { 0 };
	long offset;
	int n = 0;
	const char *p;

	if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -EINVAL;
	p = text + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (parse_offset(p, &offset) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - offset;
	return 0;
}

/* ---- metadata JSON ---- */

const char *aws_json_string(const cJSON *obj, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

void aws_json_wipe_delete(cJSON *root)
{
	for (cJSON *item = root ? root->child : NULL; item; item = item->next)
		if (cJSON_IsString(item) && item->valuestring)
			explicit_bzero(item->valuestring, strlen(item->valuestring));
	cJSON_Delete(root);
}

static int read_metadata_object(const cJSON *root, time_t now, struct aws_credentials *out,
				char *why, size_t why_len)
{
	const char *code = aws_json_string(root, "Code");
	const char *expiration = aws_json_string(root, "Expiration");
	const char *token = aws_json_string(root, "Token");
	const char *key_id = aws_json_string(root, "AccessKeyId");
	const char *secret = aws_json_string(root, "SecretAccessKey");

	/* credential_process output names it SessionToken; the metadata endpoints, Token. */
	if (!token)
		token = aws_json_string(root, "SessionToken");
	if (code && strcmp(code, "Success")) {
		snprintf(why, why_len, "the endpoint answered Code %.64s", code);
		return -EINVAL;
	}
	/* "\u0000..." parses to an empty C string: no key at all, not a key to sign with. */
	if (!key_id || !*key_id || !secret || !*secret) {
		snprintf(why, why_len, "the answer has no AccessKeyId and SecretAccessKey");
		return -EINVAL;
	}
	if (expiration && aws_parse_time(expiration, &out->expiration)) {
		snprintf(why, why_len, "unreadable Expiration \"%.40s\"", expiration);
		return -EINVAL;
	}
	out->obtained = now;
	if (aws_dup_field(&out->access_key_id, key_id) ||
	    aws_dup_field(&out->secret_access_key, secret) ||
	    aws_dup_field(&out->session_token, token && *token ? token : NULL)) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int aws_credentials_from_json(const char *json, size_t len, time_t now,
			      struct aws_credentials *out, char *why, size_t why_len)
{
	cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root)) {
		snprintf(why, why_len, "the answer is not a JSON object");
		aws_json_wipe_delete(root);
		return -EINVAL;
	}
	rc = read_metadata_object(root, now, out, why, why_len);
	if (rc)
		aws_credentials_clear(out);
	aws_json_wipe_delete(root);
	return rc;
}

