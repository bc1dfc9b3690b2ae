/*
 * IAM Identity Center: the cached SSO token traded for role credentials at the portal (see
 * sso.h).
 */
#include "client/aws/sso.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/aws/fetch.h"
#include "client/buf.h"
#include "client/sys.h"
#include "client/urlenc.h"

#define CACHE_MAX (64u << 10)

int aws_sso_read_token(const char *json, size_t len, time_t now, char **token, char *why,
		       size_t why_len)
{
	cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL;
	const char *access = aws_json_string(root, "accessToken");
	const char *expires = aws_json_string(root, "expiresAt");
	time_t at;
	int rc = 0;

	if (!access || !*access || !expires) {
		snprintf(why, why_len, "it has no accessToken and expiresAt");
		rc = -EINVAL;
	} else if (aws_parse_time(expires, &at)) {
		snprintf(why, why_len, "unreadable expiresAt \"%.40s\"", expires);
		rc = -EINVAL;
	} else if (now >= at) {
		snprintf(why, why_len, "the SSO token expired at %.40s: run aws sso login", expires);
		rc = -EACCES;
	} else if (strpbrk(access, "\r\n")) {
		snprintf(why, why_len, "its accessToken contains a line break");
		rc = -EINVAL;
	} else if (!(*token = strdup(access))) {
		rc = -ENOMEM;
	}
	aws_json_wipe_delete(root);
	return rc;
}

/* The SDKs name the cache file by the SHA-1 of the session name or start URL, in hex. */
static int cache_path(const struct aws_sso_role *role, struct buf *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(role->cache_key, strlen(role->cache_key), md, &n, EVP_sha1(), NULL))
		return -EIO;
	if (buf_printf(path, "%s/", role->cache_dir))
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		if (buf_printf(path, "%02x", md[i]))
			return -ENOMEM;
	return buf_puts(path, ".json") ? -ENOMEM : 0;
}

static int read_cache(const char *path, struct buf *text, char *why, size_t why_len)
{
	char chunk[4096];
	FILE *f = fopen(path, "re");
	size_t n;
	int rc = 0;

	if (!f) {
		snprintf(why, why_len, "no SSO token in %s (%s): run aws sso login", path,
			 strerror(errno));
		return -EACCES;
	}
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (text->len + n > CACHE_MAX || buf_append(text, chunk, n))
			rc = -EFBIG;
	explicit_bzero(chunk, sizeof(chunk));
	fclose(f);
	if (rc)
		snprintf(why, why_len, "%s is too large", path);
	return rc;
}

static int cached_token(const struct aws_sso_role *role, time_t now, char **token, char *why,
			size_t why_len)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	char inner[256] = "";
	int rc = cache_path(role, &path);

	if (!rc)
		rc = read_cache(path.data, &text, why, why_len);
	if (!rc) {
		rc = aws_sso_read_token(text.data, text.len, now, token, inner, sizeof(inner));
		if (rc)
			snprintf(why, why_len, "%s: %s", path.data, inner);
	}
	buf_free(&path);
	aws_wipe_buf(&text);
	return rc;
}

/* ---- the portal ---- */

static int portal_url(const struct aws_sso_role *role, struct buf *url)
{
	size_t n = strlen(role->portal_url);

	while (n && role->portal_url[n - 1] == '/')
		n--;
	if (buf_printf(url, "%.*s/federation/credentials?account_id=", (int)n, role->portal_url) ||
	    urlenc_segment(url, role->account_id) || buf_puts(url, "&role_name=") ||
	    urlenc_segment(url, role->role_name))
		return -ENOMEM;
	return 0;
}

/* {"roleCredentials": {accessKeyId, secretAccessKey, sessionToken, expiration (ms)}} */
static int read_role_credentials(const struct buf *body, time_t now, struct aws_credentials *out,
				 char *why, size_t why_len)
{
	cJSON *root = body->data ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	cJSON *rc_obj = cJSON_GetObjectItemCaseSensitive(root, "roleCredentials");
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(rc_obj, "expiration");
	struct aws_credentials c = { 0 };
	int rc = -EINVAL;

	if (!aws_json_string(rc_obj, "accessKeyId") || !aws_json_string(rc_obj, "secretAccessKey") ||
	    !cJSON_IsNumber(ms) || ms->valuedouble <= 0) {
		snprintf(why, why_len, "the answer has no roleCredentials with keys and expiration");
	} else if (aws_dup_field(&c.access_key_id, aws_json_string(rc_obj, "accessKeyId")) ||
		   aws_dup_field(&c.secret_access_key, aws_json_string(rc_obj, "secretAccessKey")) ||
		   aws_dup_field(&c.session_token, aws_json_string(rc_obj, "sessionToken"))) {
		rc = -ENOMEM;
	} else {
		c.expiration = (time_t)(ms->valuedouble / 1000);
		c.obtained = now;
		*out = c;
		memset(&c, 0, sizeof(c));
		rc = 0;
	}
	aws_credentials_clear(&c);
	if (rc_obj)
		aws_json_wipe_delete(cJSON_DetachItemViaPointer(root, rc_obj));
	aws_json_wipe_delete(root);
	return rc;
}

static int ask_portal(const struct aws_sso_role *role, const char *token, time_t now,
		      struct aws_credentials *out, char *why, size_t why_len)
{
	struct curl_slist *headers = aws_fetch_header(NULL, "x-amz-sso_bearer_token", token);
	struct buf url = BUF_INIT, body = BUF_INIT;
	long status;
	int rc = headers ? portal_url(role, &url) : -ENOMEM;

	if (!rc) {
		const struct aws_fetch_request req = { "GET", url.data, headers, NULL, 0,
						       role->timeout_ms, role->timeout_ms, 0 };

		status = aws_fetch(&req, &body, why, why_len);
		if (status < 0) {
			rc = (int)status;
		} else if (status != 200) {
			aws_fetch_failure("SSO GetRoleCredentials", url.data, status, &body, why, why_len);
			rc = -EACCES;
		} else {
			rc = read_role_credentials(&body, now, out, why, why_len);
		}
	}
	curl_slist_free_all(headers);
	buf_free(&url);
	aws_wipe_buf(&body);
	return rc;
}

int aws_sso_fetch(const struct aws_sso_role *role, time_t now, struct aws_credentials *out,
		  char *why, size_t why_len)
{
	char *token = NULL;
	int rc = cached_token(role, now, &token, why, why_len);

	if (!rc)
		rc = ask_portal(role, token, now, out, why, why_len);
	secret_free(&token);
	return rc;
}
