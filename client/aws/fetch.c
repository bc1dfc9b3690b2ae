/*
 * One bounded HTTP exchange with a credential endpoint, and the URL parts SigV4 signs (see
 * fetch.h).
 */
#include "client/aws/fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FETCH_MAX_BODY (64u << 10)

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct buf *body = userp;
	size_t n = size * nmemb;

	if (body->len + n > FETCH_MAX_BODY || buf_append(body, data, n))
		return 0;
	return n;
}

/* The host part of an http(s) URL, for messages: paths may carry a task's credential ID. */
static void url_origin(const char *url, char *out, size_t size)
{
	const char *host = strstr(url, "://");
	size_t n;

	host = host ? host + 3 : url;
	n = strcspn(host, "/?#");
	snprintf(out, size, "%.*s", (int)(host - url + (long)n), url);
}

void aws_wipe_buf(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

static void set_method(CURL *curl, const struct aws_fetch_request *req)
{
	if (strcmp(req->method, "GET")) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(req->body ? req->body_len : 0));
	}
}

long aws_fetch(const struct aws_fetch_request *req, struct buf *body, char *why, size_t why_len)
{
	char curl_error[CURL_ERROR_SIZE] = "", origin[256];
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (!curl)
		return -ENOMEM;
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (req->direct)
		curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers);
	set_method(curl, req);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc == CURLE_OK)
		return status;
	url_origin(req->url, origin, sizeof(origin));
	snprintf(why, why_len, "%s: %s", origin, curl_error[0] ? curl_error : curl_easy_strerror(rc));
	return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

/* Keeps an error answer's first line or "message", so the reason reaches /_esfs/. */
void aws_fetch_failure(const char *what, const char *url, long status, const struct buf *body,
		       char *why, size_t why_len)
{
	char origin[256];
	size_t n = body->data ? strcspn(body->data, "\r\n") : 0;

	url_origin(url, origin, sizeof(origin));
	snprintf(why, why_len, "%s %s: HTTP %ld%s%.*s", what, origin, status, n ? ": " : "",
		 (int)(n > 200 ? 200 : n), n ? body->data : "");
}

struct curl_slist *aws_fetch_header(struct curl_slist *list, const char *name, const char *value)
{
	struct buf line = BUF_INIT;
	struct curl_slist *grown = NULL;

	if (!buf_printf(&line, "%s: %s", name, value))
		grown = curl_slist_append(list, line.data);
	aws_wipe_buf(&line);
	if (!grown)
		curl_slist_free_all(list);
	return grown;
}

void aws_url_parts_free(struct aws_url_parts *p)
{
	free(p->host);
	free(p->path);
	free(p->query);
	memset(p, 0, sizeof(*p));
}

/* Where the host ends and the port begins (or the authority ends); NULL for a bad IPv6 literal. */
static const char *port_start(const char *auth, size_t len)
{
	const char *close;

	if (auth[0] != '[')
		return memchr(auth, ':', len) ? memchr(auth, ':', len) : auth + len;
	close = memchr(auth, ']', len);
	if (!close || (close + 1 < auth + len && close[1] != ':'))
		return NULL;
	return close + 1;
}

/*
 * The Host header as curl would send it: without the scheme's default port.
 * esfs sends it itself all the same, so what is signed is what goes out.
 */
static char *host_header(const char *auth, size_t len, int https)
{
	const char *colon = port_start(auth, len);
	const char *port;
	size_t portlen;

	if (!colon || colon == auth)
		return NULL;
	port = colon < auth + len ? colon + 1 : colon;
	portlen = (size_t)(auth + len - port);
	if (portlen == 0 || (portlen == 2 && !memcmp(port, "80", 2) && !https) ||
	    (portlen == 3 && !memcmp(port, "443", 3) && https))
		return strndup(auth, (size_t)(colon - auth));
	for (size_t i = 0; i < portlen; i++)
		if (port[i] < '0' || port[i] > '9')
			return NULL;
	return strndup(auth, len);
}

int aws_url_split(const char *url, struct aws_url_parts *out)
{
	int https = url && !strncasecmp(url, "https://", 8);
	const char *auth, *path, *query;
	size_t authlen, pathlen;

	memset(out, 0, sizeof(*out));
	if (!url || (!https && strncasecmp(url, "http://", 7)))
		return -EINVAL;
	auth = url + (https ? 8 : 7);
	authlen = strcspn(auth, "/?#");
	if (authlen == 0 || memchr(auth, '@', authlen))
		return -EINVAL;
	path = auth + authlen;
	pathlen = strcspn(path, "?#");
	query = path[pathlen] == '?' ? path + pathlen + 1 : "";
	out->host = host_header(auth, authlen, https);
	out->path = pathlen ? strndup(path, pathlen) : strdup("/");
	out->query = strndup(query, strcspn(query, "#"));
	if (!out->host || !out->path || !out->query) {
		aws_url_parts_free(out);
		return -EINVAL;
	}
	return 0;
}

