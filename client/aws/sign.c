#include "client/aws/sign.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/aws/credentials.h"
#include "client/aws/fetch.h"
#include "client/errmap.h"
#include "client/log.h"
#include "client/aws/sigv4.h"
#include "client/sys.h"

struct aws_signer {
	struct http_signer hook;
	struct aws_chain *chain;
	char region[32];
	char service[32];
	unsigned flags;
};

/* ---- signing ---- */

static int has_line_break(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

static int append_header(struct curl_slist **headers, const char *name, const char *value)
{
	char *line;
	struct curl_slist *grown;

	if (has_line_break(value) || asprintf(&line, "%s: %s", name, value) < 0)
		return -EINVAL;
	grown = curl_slist_append(*headers, line);
	explicit_bzero(line, strlen(line));
	free(line);
	if (!grown)
		return -ENOMEM;
	*headers = grown;
	return 0;
}

static int append_signed_headers(struct curl_slist **headers, const char *host,
				 const struct sigv4_result *res)
{
	int rc = append_header(headers, "Host", host);

	for (size_t i = 0; i < res->nheaders && !rc; i++)
		rc = append_header(headers, res->headers[i].name, res->headers[i].value);
	return rc;
}

/*
 * Only Host and the x-amz-* headers are signed. Content-Type and Accept go
 * out unsigned, which SigV4 allows, so that nothing libcurl or a proxy adds
 * or rewrites there can break a signature.
 */
static int sign_parts(const struct aws_signer *s, const char *method, const struct aws_url_parts *u,
		      const char *body, size_t len, const struct aws_credentials *cred,
		      struct curl_slist **headers)
{
	const struct sigv4_header host[] = { { "Host", u->host } };
	const struct sigv4_request req = { method, u->path, u->query, host, 1, body, body ? len : 0 };
	const struct sigv4_key key = { cred->access_key_id, cred->secret_access_key,
				       cred->session_token };
	const struct sigv4_scope scope = { s->region, s->service };
	struct sigv4_result res;
	int rc;

	if (has_line_break(cred->session_token))
		return -EINVAL;
	rc = sigv4_sign(&req, &key, &scope, time(NULL), s->flags, &res);
	if (rc)
		return rc;
	rc = append_signed_headers(headers, u->host, &res);
	sigv4_result_free(&res);
	return rc;
}

static int aws_sign(void *ctx, const char *method, const char *url, const char *body, size_t len,
		    struct curl_slist **headers, struct esfs_error *err)
{
	struct aws_signer *s = ctx;
	struct aws_credentials cred;
	struct aws_url_parts parts;
	char why[512] = "";
	int rc;

	if (aws_url_split(url, &parts)) {
		errmap_set(err, EINVAL, "aws_sigv4", "cannot sign a request to %s", url);
		return -EINVAL;
	}
	rc = aws_chain_get(s->chain, &cred, why, sizeof(why));
	if (rc) {
		errmap_set(err, EACCES, "aws_credentials", "%s", why);
		aws_url_parts_free(&parts);
		return -EACCES;
	}
	rc = sign_parts(s, method, &parts, body, len, &cred, headers);
	if (rc)
		errmap_set(err, -rc, "aws_sigv4", "cannot sign %s %s: %s", method, parts.path,
			   strerror(-rc));
	aws_credentials_clear(&cred);
	aws_url_parts_free(&parts);
	return rc;
}

/* ---- setup ---- */

static int is_scope_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* The region and service in an Amazon endpoint's host name, port and brackets aside. */
static int endpoint_scope(const char *url, struct sigv4_endpoint *ep)
{
	struct aws_url_parts parts;
	int rc;

	memset(ep, 0, sizeof(*ep));
	if (aws_url_split(url, &parts))
		return -EINVAL;
	parts.host[strcspn(parts.host, ":")] = '\0';
	rc = sigv4_parse_host(parts.host, ep);
	aws_url_parts_free(&parts);
	return rc;
}

static int choose_scope(struct aws_signer *s, const char *url, const char *region,
			const char *service, char *why, size_t why_len)
{
	struct sigv4_endpoint ep;
	int from_host = endpoint_scope(url, &ep) == 0;

	if (!region)
		region = from_host ? ep.region : env_value("AWS_REGION");
	if (!region)
		region = env_value("AWS_DEFAULT_REGION");
	if (!service)
		service = from_host ? ep.service : "es";
	if (!region) {
		snprintf(why, why_len, "%s is not an Amazon OpenSearch endpoint name: give the region "
			 "with -o aws_region=REGION", url);
		return -EINVAL;
	}
	if (!is_scope_word(region) || strlen(region) >= sizeof(s->region) ||
	    !is_scope_word(service) || strlen(service) >= sizeof(s->service)) {
		snprintf(why, why_len, "aws_region and aws_service take lower-case names such as "
			 "eu-west-1 and es");
		return -EINVAL;
	}
	snprintf(s->region, sizeof(s->region), "%s", region);
	snprintf(s->service, sizeof(s->service), "%s", service);
	s->flags = sigv4_service_flags(s->service);
	return 0;
}

/* Fetching once now puts a missing or refused key on the terminal, not in a log later. */
static int check_credentials(struct aws_signer *s, char *why, size_t why_len)
{
	struct aws_credentials cred;
	char source[300];
	int rc = aws_chain_get(s->chain, &cred, why, why_len);

	if (rc)
		return rc;
	aws_chain_source(s->chain, source, sizeof(source));
	log_info("signing for %s in %s with AWS credentials from %s (access key %s)", s->service,
		 s->region, source, cred.access_key_id);
	aws_credentials_clear(&cred);
	return 0;
}

struct aws_signer *aws_signer_new(const char *url, const char *region, const char *service,
				  long timeout_ms, char *why, size_t why_len)
{
	struct aws_chain_options chain = { NULL, timeout_ms };
	struct aws_signer *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	s->hook.sign = aws_sign;
	s->hook.ctx = s;
	if (choose_scope(s, url, region, service, why, why_len))
		goto fail;
	chain.region = s->region;
	s->chain = aws_chain_new(&chain);
	if (!s->chain) {
		snprintf(why, why_len, "out of memory");
		goto fail;
	}
	if (check_credentials(s, why, why_len))
		goto fail;
	return s;
fail:
	aws_signer_free(s);
	return NULL;
}

void aws_signer_free(struct aws_signer *s)
{
	if (!s)
		return;
	aws_chain_free(s->chain);
	free(s);
}

const struct http_signer *aws_signer_hook(struct aws_signer *s)
{
	return &s->hook;
}

int aws_signer_render(const struct http_signer *hook, struct buf *out)
{
	const struct aws_signer *s;

	if (!hook || hook->sign != aws_sign)
		return -ENOENT;
	s = hook->ctx;
	if (buf_printf(out, "region %s\nservice %s\n", s->region, s->service))
		return -ENOMEM;
	return aws_chain_render(s->chain, out);
}
