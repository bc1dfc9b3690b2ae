/*
 * STS AssumeRole and AssumeRoleWithWebIdentity over the Query API, for the credential chain
 * (see sts.h).
 */
#include "client/aws/sts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/aws/fetch.h"
#include "client/aws/sigv4.h"
#include "client/buf.h"
#include "client/sys.h"
#include "client/urlenc.h"

#define STS_VERSION "2011-06-15"
#define TOKEN_FILE_MAX (16u << 10)

/* ---- the answer ---- */

/* The text between <tag> and </tag> in [p, end), or NULL; *len is its length. */
static const char *xml_find(const char *p, const char *end, const char *tag, size_t *len)
{
	char open[64], close[64];
	size_t n = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	const char *start, *stop;

	snprintf(close, sizeof(close), "</%s>", tag);
	start = memmem(p, (size_t)(end - p), open, n);
	if (!start)
		return NULL;
	start += n;
	stop = memmem(start, (size_t)(end - start), close, strlen(close));
	if (!stop)
		return NULL;
	*len = (size_t)(stop - start);
	return start;
}

/* XML text with its five predefined entities decoded; NULL for anything else after '&'. */
static char *xml_text(const char *p, size_t len)
{
	static const struct { const char *name; char c; } entities[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	char *out = malloc(len + 1), *o = out;
	const char *end = p + len;

	while (out && p < end) {
		size_t i, n = 0;

		if (*p != '&') {
			*o++ = *p++;
			continue;
		}
		for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
			n = strlen(entities[i].name);
			if ((size_t)(end - p) >= n && !memcmp(p, entities[i].name, n))
				break;
		}
		if (i == sizeof(entities) / sizeof(entities[0])) {
			explicit_bzero(out, (size_t)(o - out));
			free(out);
			return NULL;
		}
		*o++ = entities[i].c;
		p += n;
	}
	if (out)
		*o = '\0';
	return out;
}

static char *xml_field(const char *p, const char *end, const char *tag)
{
	size_t len;
	const char *text = xml_find(p, end, tag, &len);

	return text ? xml_text(text, len) : NULL;
}

/* STS says why it refused in <Error><Code> and <Message>: that is the line the user needs. */
static int sts_refusal(long status, const char *xml, size_t len, char *why, size_t why_len)
{
	const char *end = xml + len;
	char *code = xml ? xml_field(xml, end, "Code") : NULL;
	char *message = xml ? xml_field(xml, end, "Message") : NULL;

	snprintf(why, why_len, "HTTP %ld%s%.64s%s%.300s", status, code ? " " : "", code ? code : "",
		 message ? ": " : "", message ? message : "");
	free(code);
	free(message);
	return -EACCES;
}

static int read_credentials(const char *p, const char *end, time_t now, struct aws_credentials *c,
			    char *why, size_t why_len)
{
	char *expiration = xml_field(p, end, "Expiration");
	int rc = 0;

	c->access_key_id = xml_field(p, end, "AccessKeyId");
	c->secret_access_key = xml_field(p, end, "SecretAccessKey");
	c->session_token = xml_field(p, end, "SessionToken");
	c->obtained = now;
	if (!c->access_key_id || !*c->access_key_id || !c->secret_access_key ||
	    !*c->secret_access_key || !c->session_token || !*c->session_token) {
		snprintf(why, why_len, "the answer's Credentials lack AccessKeyId, SecretAccessKey "
			 "or SessionToken");
		rc = -EINVAL;
	} else if (!expiration || aws_parse_time(expiration, &c->expiration)) {
		snprintf(why, why_len, "the answer's Credentials have no readable Expiration");
		rc = -EINVAL;
	}
	free(expiration);
	return rc;
}

int aws_sts_parse(long status, const char *xml, size_t len, time_t now,
		  struct aws_credentials *out, char *why, size_t why_len)
{
	struct aws_credentials c = { 0 };
	const char *creds;
	size_t n = 0;
	int rc;

	if (status != 200)
		return sts_refusal(status, xml, len, why, why_len);
	creds = xml ? xml_find(xml, xml + len, "Credentials", &n) : NULL;
	if (!creds) {
		snprintf(why, why_len, "the answer has no Credentials");
		return -EINVAL;
	}
	rc = read_credentials(creds, creds + n, now, &c, why, why_len);
	if (rc) {
		aws_credentials_clear(&c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- the request ---- */

/* application/x-www-form-urlencoded, with SigV4's idea of unreserved bytes. */
static int form_add(struct buf *body, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	if (body->len && buf_puts(body, "&"))
		return -ENOMEM;
	if (buf_printf(body, "%s=", name))
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

		if (urlenc_is_unreserved(*p) ? buf_append(body, p, 1) : buf_append(body, esc, 3))
			return -ENOMEM;
	}
	return 0;
}

/* The token file, whole but for trailing line breaks: re-read at every call, as it rotates. */
static int read_token_file(const char *path, char **token, char *why, size_t why_len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(why, why_len, "web identity token file %s: %s", path, strerror(errno));
		return -EACCES;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= TOKEN_FILE_MAX)
		if (buf_append(&b, chunk, n))
			break;
	explicit_bzero(chunk, sizeof(chunk));
	fclose(f);
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	if (!b.len || b.len > TOKEN_FILE_MAX) {
		snprintf(why, why_len, "web identity token file %s is %s", path,
			 b.len ? "too large" : "empty");
		aws_wipe_buf(&b);
		return -EACCES;
	}
	*token = buf_steal(&b);
	return *token ? 0 : -ENOMEM;
}

static int build_body(const struct aws_sts_role *role, const char *token, struct buf *body)
{
	char duration[24];
	int rc;

	rc = form_add(body, "Action", token ? "AssumeRoleWithWebIdentity" : "AssumeRole");
	rc = rc ? rc : form_add(body, "Version", STS_VERSION);
	rc = rc ? rc : form_add(body, "RoleArn", role->role_arn);
	rc = rc ? rc : form_add(body, "RoleSessionName", role->session_name);
	if (!rc && role->external_id)
		rc = form_add(body, "ExternalId", role->external_id);
	if (!rc && role->duration_seconds > 0) {
		snprintf(duration, sizeof(duration), "%ld", role->duration_seconds);
		rc = form_add(body, "DurationSeconds", duration);
	}
	if (!rc && token)
		rc = form_add(body, "WebIdentityToken", token);
	return rc;
}

/* AssumeRole is signed like any AWS call, by esfs's one signer, for service "sts". */
static int sign_into(const struct aws_sts_endpoint *ep, const struct buf *body,
		     const struct aws_credentials *source, time_t now, struct curl_slist **headers)
{
	struct aws_url_parts u;
	struct sigv4_result res;
	int rc = aws_url_split(ep->url, &u);

	if (rc)
		return rc;
	{
		const struct sigv4_header host[] = { { "Host", u.host } };
		const struct sigv4_request req = { "POST", u.path, u.query, host, 1, body->data,
						   body->len };
		const struct sigv4_key key = { source->access_key_id, source->secret_access_key,
					       source->session_token };
		const struct sigv4_scope scope = { ep->region, "sts" };

		rc = sigv4_sign(&req, &key, &scope, now, sigv4_service_flags("sts"), &res);
	}
	if (!rc) {
		*headers = aws_fetch_header(*headers, "Host", u.host);
		for (size_t i = 0; i < res.nheaders && *headers; i++)
			*headers = aws_fetch_header(*headers, res.headers[i].name, res.headers[i].value);
		rc = *headers ? 0 : -ENOMEM;
		sigv4_result_free(&res);
	}
	aws_url_parts_free(&u);
	return rc;
}

static int post(const struct aws_sts_endpoint *ep, const struct buf *body,
		const struct aws_credentials *source, time_t now, struct buf *answer, long *status,
		char *why, size_t why_len)
{
	struct curl_slist *headers = aws_fetch_header(NULL, "Content-Type",
		"application/x-www-form-urlencoded; charset=utf-8");
	int rc = headers ? 0 : -ENOMEM;

	if (!rc && source)
		rc = sign_into(ep, body, source, now, &headers);
	if (!rc) {
		const struct aws_fetch_request req = { "POST", ep->url, headers, body->data, body->len,
						       ep->timeout_ms, ep->timeout_ms, 0 };

		*status = aws_fetch(&req, answer, why, why_len);
		rc = *status < 0 ? (int)*status : 0;
	} else if (rc != -ENOMEM) {
		snprintf(why, why_len, "cannot sign for %s: %s", ep->url, strerror(-rc));
	}
	curl_slist_free_all(headers);
	return rc;
}

int aws_sts_fetch(const struct aws_sts_endpoint *ep, const struct aws_sts_role *role,
		  const struct aws_credentials *source, time_t now, struct aws_credentials *out,
		  char *why, size_t why_len)
{
	const char *action = source ? "AssumeRole" : "AssumeRoleWithWebIdentity";
	struct buf body = BUF_INIT, answer = BUF_INIT;
	char *token = NULL, inner[400] = "";
	long status = 0;
	int rc = 0;

	if (!source)
		rc = read_token_file(role->web_identity_token_file, &token, why, why_len);
	if (rc)
		return rc;
	rc = build_body(role, token, &body);
	secret_free(&token);
	if (!rc)
		rc = post(ep, &body, source, now, &answer, &status, inner, sizeof(inner));
	if (!rc)
		rc = aws_sts_parse(status, answer.data, answer.len, now, out, inner, sizeof(inner));
	if (rc)
		snprintf(why, why_len, "STS %s %s for %s: %s", action, ep->url, role->role_arn,
			 rc == -ENOMEM ? "out of memory" : inner);
	aws_wipe_buf(&body);
	aws_wipe_buf(&answer);
	return rc;
}
