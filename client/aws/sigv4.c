/*
 * AWS Signature Version 4, as specified in
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * and checked against the AWS signing test suite (tools/sigv4-suite.c).
 *
 * The signature covers a canonical form of the request that the service
 * rebuilds on its side from what it receives, so every rule here (encoding,
 * ordering, whitespace) must match AWS byte for byte.
 */
#include "client/aws/sigv4.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "client/buf.h"
#include "client/urlenc.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"
#define SHA256_LEN 32

/* A header in canonical form. */
struct canon_header {
	char *name;		/* lower case */
	char *value;		/* trimmed, inner whitespace folded */
	size_t order;		/* position in the request */
};

/* A query parameter with key and value re-encoded. */
struct query_param {
	char *key;
	char *value;
};

/* ---- encoding ---- */

static int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* AWS escapes every byte outside RFC 3986's unreserved set, in upper-case hex. */
static int append_uri_encoded(struct buf *b, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
		int rc;

		if (urlenc_is_unreserved(c) || (keep_slash && c == '/'))
			rc = buf_append(b, &s[i], 1);
		else
			rc = buf_append(b, esc, 3);
		if (rc)
			return rc;
	}
	return 0;
}

/* A '%' not followed by two hex digits stays a literal '%' (and is encoded as "%25"). */
static int append_uri_decoded(struct buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int rc;

		if (c == '%' && i + 2 < len && hex_digit_value(s[i + 1]) >= 0 &&
		    hex_digit_value(s[i + 2]) >= 0) {
			c = (char)(hex_digit_value(s[i + 1]) << 4 | hex_digit_value(s[i + 2]));
			i += 2;
		}
		rc = buf_append(b, &c, 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- digests ---- */

static int sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1])
{
	unsigned char md[SHA256_LEN];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != SHA256_LEN)
		return -EIO;
	hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int hmac_sha256(const void *key, size_t keylen, const char *msg, size_t msglen,
		       unsigned char out[SHA256_LEN])
{
	unsigned int outlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, out, &outlen) ||
	    outlen != SHA256_LEN)
		return -EIO;
	return 0;
}

/* ---- canonical URI ---- */

/*
 * Drops empty and "." segments and lets ".." remove the one before, keeping
 * a trailing slash only when the path had one, the way botocore and
 * aws-c-auth normalize (so "/a/b/.." gives "/a", "/./" gives "/").
 */
static int append_normalized_path(struct buf *b, const char *path)
{
	size_t start = b->len;
	size_t pathlen = strlen(path);
	const char *p = path;
	int rc;

	while (*p) {
		const char *seg;
		size_t seglen;

		while (*p == '/')
			p++;
		seg = p;
		seglen = strcspn(p, "/");
		p += seglen;
		if (seglen == 0 || (seglen == 1 && seg[0] == '.'))
			continue;
		if (seglen == 2 && seg[0] == '.' && seg[1] == '.') {
			while (b->len > start && b->data[b->len - 1] != '/')
				b->len--;
			if (b->len > start)
				b->len--;
			if (b->data)
				b->data[b->len] = '\0';
			continue;
		}
		if ((rc = buf_append(b, "/", 1)) || (rc = buf_append(b, seg, seglen)))
			return rc;
	}
	if (b->len == start || (pathlen > 0 && path[pathlen - 1] == '/'))
		return buf_append(b, "/", 1);
	return 0;
}

/*
 * Services other than S3 take the path as sent and encode it once more, so
 * "%2F" in a document ID is signed as "%252F".
 */
static int append_canonical_uri(struct buf *b, const char *path, unsigned flags)
{
	struct buf normalized = BUF_INIT;
	size_t len;
	int rc = 0;

	if (!path || !*path)
		path = "/";
	if (flags & SIGV4_NORMALIZE_PATH) {
		rc = append_normalized_path(&normalized, path);
		path = normalized.data;
		len = normalized.len;
	} else {
		len = strlen(path);
	}
	if (!rc)
		rc = (flags & SIGV4_ENCODE_PATH) ? append_uri_encoded(b, path, len, 1) :
						   buf_append(b, path, len);
	buf_free(&normalized);
	return rc;
}

/* ---- canonical query string ---- */

/* Decoding first makes "%e1", "%E1" and a raw byte all sign the same. */
static char *reencode_query_part(const char *s, size_t len)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;
	char *res = NULL;

	if (!append_uri_decoded(&raw, s, len) && !append_uri_encoded(&enc, raw.data, raw.len, 0))
		res = buf_steal(&enc);
	buf_free(&raw);
	buf_free(&enc);
	return res;
}

static int parse_query_param(const char *s, size_t len, struct query_param *param)
{
	const char *eq = memchr(s, '=', len);
	size_t keylen = eq ? (size_t)(eq - s) : len;

	param->key = reencode_query_part(s, keylen);
	param->value = eq ? reencode_query_part(eq + 1, len - keylen - 1) : strdup("");
	return param->key && param->value ? 0 : -ENOMEM;
}

static int compare_query_params(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/* An upper bound: one more than the number of '&'. */
static size_t max_query_params(const char *query)
{
	size_t max = 1;

	for (const char *q = query; *q; q++)
		max += *q == '&';
	return max;
}

/* Fills params (room for max_query_params()) skipping empty pieces; returns the count or -ENOMEM. */
static long split_query(const char *query, struct query_param *params)
{
	size_t n = 0;

	while (*query) {
		size_t len = strcspn(query, "&");

		if (len > 0 && parse_query_param(query, len, &params[n++]))
			return -ENOMEM;
		query += len;
		if (*query == '&')
			query++;
	}
	return (long)n;
}

static void free_query_params(struct query_param *params, size_t max)
{
	if (!params)
		return;
	for (size_t i = 0; i < max; i++) {
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
}

static int append_canonical_query(struct buf *b, const char *query)
{
	struct query_param *params;
	size_t max;
	long n;
	int rc = 0;

	if (!query || !*query)
		return 0;
	max = max_query_params(query);
	params = calloc(max, sizeof(*params));
	if (!params)
		return -ENOMEM;
	n = split_query(query, params);
	if (n < 0)
		rc = (int)n;
	else
		qsort(params, (size_t)n, sizeof(*params), compare_query_params);
	for (long i = 0; i < n && !rc; i++)
		rc = buf_printf(b, "%s%s=%s", i ? "&" : "", params[i].key, params[i].value);
	free_query_params(params, max);
	return rc;
}

/* ---- canonical headers ---- */

static char *lowercase_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Trims the value and folds each run of blanks into one space. Line breaks
 * count as blanks so that an obs-folded value signs as AWS expects.
 */
static char *canonical_value_dup(const char *v)
{
	char *d = malloc(strlen(v) + 1), *o = d;

	if (!d)
		return NULL;
	while (is_blank(*v))
		v++;
	while (*v) {
		if (is_blank(*v)) {
			while (is_blank(*v))
				v++;
			if (*v)
				*o++ = ' ';
			continue;
		}
		*o++ = *v++;
	}
	*o = '\0';
	return d;
}

/* Appends at h[*n]; the position doubles as the sort tie-breaker. */
static int push_canon_header(struct canon_header *h, size_t *n, const char *name, const char *value)
{
	struct canon_header *e = &h[*n];

	e->order = (*n)++;
	e->name = lowercase_dup(name);
	e->value = canonical_value_dup(value);
	return e->name && e->value ? 0 : -ENOMEM;
}

static void free_canon_headers(struct canon_header *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Keeps repeated names in request order, since their values are joined in that order. */
static int compare_canon_headers(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Headers the signer adds itself may not come with the request, or the two would disagree. */
static int is_reserved_header(const char *lname, const struct sigv4_key *key, unsigned flags)
{
	return !strcmp(lname, "authorization") || !strcmp(lname, "x-amz-date") ||
	       (key->session_token && !strcmp(lname, "x-amz-security-token")) ||
	       ((flags & SIGV4_SIGN_CONTENT_SHA256) && !strcmp(lname, "x-amz-content-sha256"));
}

/*
 * Gathers the request's headers plus the ones the signer adds, in canonical
 * form and sorted. Returns the count, or -EINVAL / -ENOMEM.
 */
static long collect_headers(const struct sigv4_request *req, const struct sigv4_key *key,
			    unsigned flags, const struct sigv4_result *out, struct canon_header **headers)
{
	struct canon_header *h = calloc(req->nheaders + 3, sizeof(*h));
	size_t n = 0;
	int has_host = 0, rc = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < req->nheaders && !rc; i++) {
		const struct sigv4_header *in = &req->headers[i];

		if (!in->name || !*in->name || !in->value) {
			rc = -EINVAL;
			break;
		}
		rc = push_canon_header(h, &n, in->name, in->value);
		if (!rc && is_reserved_header(h[n - 1].name, key, flags))
			rc = -EINVAL;
		if (!rc && !strcmp(h[n - 1].name, "host"))
			has_host = 1;
	}
	if (!rc && !has_host)
		rc = -EINVAL;
	if (!rc)
		rc = push_canon_header(h, &n, "x-amz-date", out->amz_date);
	if (!rc && key->session_token && !(flags & SIGV4_UNSIGNED_SESSION_TOKEN))
		rc = push_canon_header(h, &n, "x-amz-security-token", key->session_token);
	if (!rc && (flags & SIGV4_SIGN_CONTENT_SHA256))
		rc = push_canon_header(h, &n, "x-amz-content-sha256", out->content_sha256);
	if (rc) {
		free_canon_headers(h, n);
		return rc;
	}
	qsort(h, n, sizeof(*h), compare_canon_headers);
	*headers = h;
	return (long)n;
}

/* Writes "name:v1,v2\n" per distinct name to b, and "name;name" to names. */
static int append_canonical_headers(struct buf *b, struct buf *names,
				    const struct canon_header *h, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		int repeat = i > 0 && !strcmp(h[i].name, h[i - 1].name);
		int last = i + 1 == n || strcmp(h[i].name, h[i + 1].name);

		if (repeat)
			rc = buf_printf(b, ",%s", h[i].value);
		else
			rc = buf_printf(b, "%s:%s", h[i].name, h[i].value);
		if (!rc && last)
			rc = buf_append(b, "\n", 1);
		if (!rc && !repeat)
			rc = buf_printf(names, "%s%s", names->len ? ";" : "", h[i].name);
	}
	return rc;
}

/* ---- the signature ---- */

static int build_canonical_request(struct buf *b, struct buf *signed_names,
				   const struct sigv4_request *req, const struct sigv4_key *key,
				   unsigned flags, const struct sigv4_result *out)
{
	struct canon_header *headers = NULL;
	long n;
	int rc;

	n = collect_headers(req, key, flags, out, &headers);
	if (n < 0)
		return (int)n;
	if ((rc = buf_printf(b, "%s\n", req->method)) ||
	    (rc = append_canonical_uri(b, req->path, flags)) ||
	    (rc = buf_append(b, "\n", 1)) ||
	    (rc = append_canonical_query(b, req->query)) ||
	    (rc = buf_append(b, "\n", 1)) ||
	    (rc = append_canonical_headers(b, signed_names, headers, (size_t)n)))
		goto out;
	rc = buf_printf(b, "\n%s\n%s", signed_names->data, out->content_sha256);
out:
	free_canon_headers(headers, (size_t)n);
	return rc;
}

static int build_string_to_sign(struct buf *b, const char *amz_date, const char *cred_scope,
				 const struct buf *canonical)
{
	char hash[2 * SHA256_LEN + 1];
	int rc = sha256_hex(canonical->data, canonical->len, hash);

	if (rc)
		return rc;
	return buf_printf(b, SIGV4_ALGORITHM "\n%s\n%s\n%s", amz_date, cred_scope, hash);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int derive_signing_key(const char *secret, const char *date, const struct sigv4_scope *scope,
			      unsigned char key[SHA256_LEN])
{
	const char *parts[] = { scope->region, scope->service, SIGV4_TERMINATOR };
	unsigned char tmp[SHA256_LEN];
	struct buf k0 = BUF_INIT;
	int rc;

	rc = buf_printf(&k0, "AWS4%s", secret);
	if (!rc)
		rc = hmac_sha256(k0.data, k0.len, date, strlen(date), key);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && !rc; i++) {
		rc = hmac_sha256(key, SHA256_LEN, parts[i], strlen(parts[i]), tmp);
		memcpy(key, tmp, SHA256_LEN);
	}
	OPENSSL_cleanse(tmp, sizeof(tmp));
	if (k0.data)
		OPENSSL_cleanse(k0.data, k0.len);
	buf_free(&k0);
	return rc;
}

static int compute_signature(const char *secret, const char *date, const struct sigv4_scope *scope,
			     const struct buf *string_to_sign, char out[2 * SHA256_LEN + 1])
{
	unsigned char key[SHA256_LEN], sig[SHA256_LEN];
	int rc = derive_signing_key(secret, date, scope, key);

	if (!rc)
		rc = hmac_sha256(key, SHA256_LEN, string_to_sign->data, string_to_sign->len, sig);
	if (!rc)
		hex_encode(sig, SHA256_LEN, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

static int format_amz_date(time_t now, char out[17])
{
	struct tm tm;

	if (!gmtime_r(&now, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		return -EINVAL;
	return 0;
}

static void list_added_headers(struct sigv4_result *out, const struct sigv4_key *key, unsigned flags)
{
	struct sigv4_header *h = out->headers;

	if (key->session_token)
		*h++ = (struct sigv4_header){ "X-Amz-Security-Token", key->session_token };
	*h++ = (struct sigv4_header){ "X-Amz-Date", out->amz_date };
	if (flags & SIGV4_SIGN_CONTENT_SHA256)
		*h++ = (struct sigv4_header){ "X-Amz-Content-Sha256", out->content_sha256 };
	*h++ = (struct sigv4_header){ "Authorization", out->authorization };
	out->nheaders = (size_t)(h - out->headers);
}

static int is_set(const char *s)
{
	return s && *s;
}

static int is_valid_input(const struct sigv4_request *req, const struct sigv4_key *key,
			  const struct sigv4_scope *scope)
{
	return req && key && scope && is_set(req->method) && (req->headers || !req->nheaders) &&
	       (req->payload || !req->payload_len) && is_set(key->access_key_id) &&
	       is_set(key->secret_access_key) && is_set(scope->region) && is_set(scope->service);
}

unsigned sigv4_service_flags(const char *service)
{
	/* S3 signs the path as sent; OpenSearch Serverless wants the payload hash header. */
	if (service && !strcmp(service, "s3"))
		return SIGV4_SIGN_CONTENT_SHA256;
	if (service && !strcmp(service, "aoss"))
		return SIGV4_NORMALIZE_PATH | SIGV4_ENCODE_PATH | SIGV4_SIGN_CONTENT_SHA256;
	return SIGV4_NORMALIZE_PATH | SIGV4_ENCODE_PATH;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	       const struct sigv4_scope *scope, time_t now, unsigned flags,
	       struct sigv4_result *out)
{
	struct buf canonical = BUF_INIT, signed_names = BUF_INIT, cred_scope = BUF_INIT;
	struct buf string_to_sign = BUF_INIT, auth = BUF_INIT;
	char date[9];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!is_valid_input(req, key, scope))
		return -EINVAL;
	if ((rc = format_amz_date(now, out->amz_date)) ||
	    (rc = sha256_hex(req->payload, req->payload_len, out->content_sha256)))
		goto out;
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	if ((rc = buf_printf(&cred_scope, "%s/%s/%s/" SIGV4_TERMINATOR, date, scope->region,
			     scope->service)) ||
	    (rc = build_canonical_request(&canonical, &signed_names, req, key, flags, out)) ||
	    (rc = build_string_to_sign(&string_to_sign, out->amz_date, cred_scope.data, &canonical)) ||
	    (rc = compute_signature(key->secret_access_key, date, scope, &string_to_sign, out->signature)) ||
	    (rc = buf_printf(&auth, SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			     key->access_key_id, cred_scope.data, signed_names.data, out->signature)))
		goto out;
	out->canonical_request = buf_steal(&canonical);
	out->string_to_sign = buf_steal(&string_to_sign);
	out->authorization = buf_steal(&auth);
	if (!out->canonical_request || !out->string_to_sign || !out->authorization)
		rc = -ENOMEM;
	else
		list_added_headers(out, key, flags);
out:
	buf_free(&canonical);
	buf_free(&signed_names);
	buf_free(&cred_scope);
	buf_free(&string_to_sign);
	buf_free(&auth);
	if (rc)
		sigv4_result_free(out);
	return rc;
}

void sigv4_result_free(struct sigv4_result *out)
{
	if (!out)
		return;
	free(out->authorization);
	free(out->canonical_request);
	free(out->string_to_sign);
	memset(out, 0, sizeof(*out));
}

/* ---- endpoint host names ---- */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Lower-case letters, digits and inner hyphens, at least one of which is required if need_hyphen. */
static int is_dns_word(const char *s, size_t len, int need_hyphen)
{
	int hyphens = 0;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			hyphens++;
		else if (!is_lower_alnum(s[i]))
			return 0;
	}
	return hyphens || !need_hyphen;
}

/* The first label: "search-NAME-ID" or "vpc-NAME-ID" for "es", a bare collection ID for "aoss". */
static int is_endpoint_label(const char *s, size_t len, const char *service)
{
	if (!strcmp(service, "aoss"))
		return is_dns_word(s, len, 0) && !memchr(s, '-', len);
	if (len > 7 && !memcmp(s, "search-", 7))
		return is_dns_word(s + 7, len - 7, 1);
	if (len > 4 && !memcmp(s, "vpc-", 4))
		return is_dns_word(s + 4, len - 4, 1);
	return 0;
}

int sigv4_parse_host(const char *host, struct sigv4_endpoint *out)
{
	static const struct { const char *suffix, *service; } kinds[] = {
		{ ".es.amazonaws.com", "es" },
		{ ".aoss.amazonaws.com", "aoss" },
	};
	char name[254];
	size_t len = host ? strlen(host) : 0;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(name))
		return -EINVAL;
	/* DNS names are case-insensitive; the region in the scope must be lower case. */
	for (size_t i = 0; i <= len; i++)
		name[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t slen = strlen(kinds[k].suffix);
		const char *dot;
		size_t labellen, regionlen;

		if (len <= slen || strcmp(name + len - slen, kinds[k].suffix))
			continue;
		name[len - slen] = '\0';
		dot = strchr(name, '.');
		if (!dot || strchr(dot + 1, '.'))
			return -EINVAL;
		labellen = (size_t)(dot - name);
		regionlen = strlen(dot + 1);
		if (!is_endpoint_label(name, labellen, kinds[k].service) ||
		    !is_dns_word(dot + 1, regionlen, 1) || regionlen >= sizeof(out->region))
			return -EINVAL;
		memcpy(out->region, dot + 1, regionlen + 1);
		out->service = kinds[k].service;
		return 0;
	}
	return -EINVAL;
}
