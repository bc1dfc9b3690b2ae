/*
 * Fuzzes SigV4 canonicalization and signing (client/aws/sigv4.c) and the
 * URL and host name parsing the signer relies on (client/aws/sign.c:
 * aws_url_split; sigv4_parse_host). Input, one item per line: method,
 * path, query, then "Name:value" headers up to an empty line, then the
 * payload. Each request is signed with the flags of each service, with
 * and without a session token: the check is that nothing crashes or leaks,
 * and that a request signed twice gets the same signature, canonical
 * request and string to sign, byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/aws/sign.h"
#include "client/aws/sigv4.h"
#include "fuzz.h"

#define MAX_HEADERS 64
#define NOW 1440938160	/* 20150830T123600Z, the AWS suite's time */

struct parsed {
	char *method, *path, *query;
	char *lines[MAX_HEADERS];
	struct sigv4_header headers[MAX_HEADERS];
	size_t nheaders;
	const uint8_t *payload;
	size_t payload_len;
};

static void parse(struct fuzz_input *in, struct parsed *p)
{
	p->method = fuzz_until(in, '\n');
	p->path = fuzz_until(in, '\n');
	p->query = fuzz_until(in, '\n');
	while (in->left && *in->data != '\n' && p->nheaders < MAX_HEADERS) {
		char *line = fuzz_until(in, '\n'), *colon = strchr(line, ':');

		p->lines[p->nheaders] = line;
		if (colon)
			*colon = '\0';
		p->headers[p->nheaders++] = (struct sigv4_header){ line, colon ? colon + 1 : NULL };
	}
	fuzz_byte(in);	/* the empty line */
	p->payload = in->data;
	p->payload_len = in->left;
}

static void parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->nheaders; i++)
		free(p->lines[i]);
	free(p->method);
	free(p->path);
	free(p->query);
}

static int same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void check_result(const struct sigv4_request *req, const struct sigv4_result *r)
{
	FUZZ_CHECK(r->canonical_request && r->string_to_sign && r->authorization);
	FUZZ_CHECK(strlen(r->signature) == 64 && strspn(r->signature, "0123456789abcdef") == 64);
	FUZZ_CHECK(!strncmp(r->canonical_request, req->method, strlen(req->method)));
	FUZZ_CHECK(r->nheaders >= 2 && r->nheaders <= SIGV4_MAX_ADDED_HEADERS);
}

/* Signs once, or twice to compare (HMACs are the cost: one service is enough for that). */
static void sign(const struct sigv4_request *req, const struct sigv4_key *key, const char *service,
		 unsigned flags, int twice)
{
	const struct sigv4_scope scope = { "us-east-1", service };
	struct sigv4_result a, b;
	int rc = sigv4_sign(req, key, &scope, NOW, flags, &a);

	if (rc == 0)
		check_result(req, &a);
	if (twice) {
		FUZZ_CHECK(sigv4_sign(req, key, &scope, NOW, flags, &b) == rc);
		FUZZ_CHECK(rc || (same(a.canonical_request, b.canonical_request) &&
				  same(a.string_to_sign, b.string_to_sign) &&
				  same(a.authorization, b.authorization)));
		sigv4_result_free(&b);
	}
	sigv4_result_free(&a);
}

/* The URL esfs would have sent this to, read back by the signer's own split. */
static void check_url(const struct parsed *p)
{
	const char *host = NULL;
	struct aws_url_parts parts;
	struct sigv4_endpoint endpoint;
	char *url;

	for (size_t i = 0; i < p->nheaders && !host; i++)
		if (!strcasecmp(p->headers[i].name, "host"))
			host = p->headers[i].value;
	if (!host)
		return;
	(void)sigv4_parse_host(host, &endpoint);
	if (asprintf(&url, "https://%s%s%s%s", host, p->path, *p->query ? "?" : "", p->query) < 0)
		abort();
	if (aws_url_split(url, &parts) == 0) {
		FUZZ_CHECK(parts.host && parts.path && parts.query && parts.path[0] == '/');
		aws_url_parts_free(&parts);
	}
	free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sigv4_key plain = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
	static const struct sigv4_key temporary = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
						    "IQoJb3JpZ2luX2VjEMn//////////wEaCXVzLWVhc3QtMSJH" };
	struct fuzz_input in = { data, size };
	struct parsed p = { 0 };
	struct sigv4_request req;

	parse(&in, &p);
	req = (struct sigv4_request){ p.method, p.path, p.query, p.headers, p.nheaders, p.payload,
				      p.payload_len };
	sign(&req, &plain, "es", sigv4_service_flags("es"), 1);
	sign(&req, &temporary, "aoss", sigv4_service_flags("aoss"), 0);
	sign(&req, &temporary, "s3", sigv4_service_flags("s3") | SIGV4_UNSIGNED_SESSION_TOKEN, 0);
	check_url(&p);
	parsed_free(&p);
	return 0;
}
