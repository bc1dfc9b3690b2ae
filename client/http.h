/*
 * HTTP to the cluster's nodes over libcurl. Handles are pooled so that each
 * keeps its connections alive across requests and threads; every request has
 * a connect and a total timeout; a node that does not answer is skipped.
 */
#ifndef ESFS_HTTP_H
#define ESFS_HTTP_H

#include <stddef.h>

#include "client/buf.h"
#include "client/errmap.h"

struct curl_slist;

/* Adds whatever headers authenticate one request (AWS SigV4, say) just before it is sent. */
struct http_signer {
	int (*sign)(void *ctx, const char *method, const char *url, const char *body, size_t len,
		    struct curl_slist **headers, struct esfs_error *err);
	void *ctx;
};

/* Whether answers are asked for gzipped (-o compression=). */
enum http_compression {
	HTTP_COMPRESSION_AUTO,		/* from every node but one on this machine's loopback */
	HTTP_COMPRESSION_GZIP,
	HTTP_COMPRESSION_NONE,
};

struct http_config {
	char **urls;			/* base URLs of the cluster's nodes, no trailing slash */
	int nurls;
	enum http_compression compression;
	long connect_timeout_ms;
	long timeout_ms;		/* reads */
	long write_timeout_ms;		/* requests that change something: a delete can take long */
	const char *user;		/* basic auth, with password */
	const char *password;
	const char *api_key;		/* sent as "Authorization: ApiKey <api_key>" */
	const char *cacert;
	int insecure;			/* skip TLS verification: only when asked for */
	const struct http_signer *signer;
	/*
	 * Whether the caller of the request under way gave up (Ctrl-C): polled
	 * while a request runs, which then ends at once with EINTR. NULL: never.
	 */
	int (*interrupted)(void);
};

struct http_response {
	long status;
	struct buf body;
	long long retry_after;		/* seconds the answer's Retry-After asks for, 0 if none */
};

struct http;

struct http *http_new(const struct http_config *cfg);
void http_free(struct http *h);

/* Whether answers from the node at url are asked for gzipped: 1 or 0. */
int http_wants_gzip(enum http_compression mode, const char *url);

/*
 * Sends METHOD target (an already encoded "/path?query") with an optional JSON
 * body. Returns 0 on a 2xx answer; otherwise a negative errno, with err filled
 * in and resp still holding whatever answer came. A read answered 429 or 503
 * is sent again, a few times, within its timeout; a write never is.
 */
int http_request(struct http *h, const char *method, const char *target, const char *body,
		 size_t len, struct http_response *resp, struct esfs_error *err);

void http_response_free(struct http_response *resp);

/* The base URL of the node that answered last (the one tried first next): for status lines. */
const char *http_node_url(struct http *h);

#endif
