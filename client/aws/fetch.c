#include "client/aws/fetch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
