/*
 * One HTTP exchange with an endpoint that hands out credentials (instance
 * metadata, the container agent, STS, the SSO portal): bounded in time and
 * size, never redirected, and with messages that name the endpoint's origin
 * only, since paths and queries may carry a credential ID.
 */
#ifndef ESFS_AWS_FETCH_H
#define ESFS_AWS_FETCH_H

#include <curl/curl.h>
#include <stddef.h>

#include "client/buf.h"

struct aws_fetch_request {
	const char *method;		/* "GET", "PUT" or "POST" */
	const char *url;
	struct curl_slist *headers;	/* may be NULL */
	const char *body;		/* POST and PUT; NULL for none */
	size_t body_len;
	long connect_timeout_ms;
	long timeout_ms;
	int direct;			/* 1: never through a proxy (link-local endpoints) */
};

/*
 * Sends req. Returns the HTTP status, or a negative errno when no answer
 * came (why says why). The body is kept whatever the status, up to 64 KiB.
 */
long aws_fetch(const struct aws_fetch_request *req, struct buf *body, char *why, size_t why_len);

/* "WHAT ORIGIN: HTTP STATUS: first line of the body", for an answer that is not a 200. */
void aws_fetch_failure(const char *what, const char *url, long status, const struct buf *body,
		       char *why, size_t why_len);

/* Appends "Name: value", wiping the line it built; on failure frees list and returns NULL. */
struct curl_slist *aws_fetch_header(struct curl_slist *list, const char *name, const char *value);

/* Wipes and frees a buffer that held a secret. */
void aws_wipe_buf(struct buf *b);

/*
 * The parts of an http(s) URL that SigV4 signs: the Host header as it is
 * sent (no default port), the path as sent, and the query without '?'.
 * Used to sign requests; exposed for tests. Returns 0 or -EINVAL; release with aws_url_parts_free.
 */
struct aws_url_parts {
	char *host;
	char *path;
	char *query;
};

int aws_url_split(const char *url, struct aws_url_parts *out);
void aws_url_parts_free(struct aws_url_parts *p);

#endif
