#include "client/aws/metadata.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/aws/fetch.h"
#include "client/aws/keys.h"
#include "client/buf.h"

/* The SDKs wait one second for these local endpoints: there is no point waiting longer. */
#define MD_CONNECT_TIMEOUT_MS 1000L
#define MD_TIMEOUT_MS 3000L
#define IMDS_TOKEN_TTL "21600"
#define IMDS_CREDENTIALS_PATH "/latest/meta-data/iam/security-credentials/"

/* Straight to the link-local address: no proxy, and no waiting for one that is not there. */
static long md_request(const char *method, const char *url, struct curl_slist *headers,
		       struct buf *body, char *why, size_t why_len)
{
	const struct aws_fetch_request req = { method, url, headers, NULL, 0, MD_CONNECT_TIMEOUT_MS,
					       MD_TIMEOUT_MS, 1 };

	return aws_fetch(&req, body, why, why_len);
}

/* ---- container credentials ---- */

static int is_loopback_or_agent(const char *host)
{
	static const char *const agents[] = { "169.254.170.2", "169.254.170.23", "fd00:ec2::23" };
	struct in6_addr a6;
	struct in_addr a4;

	if (!strcmp(host, "localhost"))
		return 1;
	for (size_t i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
		if (!strcmp(host, agents[i]))
			return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* http:// to any other host would hand a task's credentials to whoever answers there. */
static int full_uri_allowed(const char *url)
{
	char host[256];
	const char *h;
	size_t n;

	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return 0;
	h = url + 7;
	/* "http://127.0.0.1:80@evil.example/": the host libcurl goes to is after the '@'. */
	if (memchr(h, '@', strcspn(h, "/?#")))
		return 0;
	if (*h == '[') {
		n = strcspn(++h, "]");
		if (h[n] != ']')
			return 0;
	} else {
		n = strcspn(h, ":/?#");
	}
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	return is_loopback_or_agent(host);
}

int aws_container_url(const char *relative_uri, const char *full_uri, const char *endpoint,
		      char **url, char *why, size_t why_len)
{
	*url = NULL;
	if (relative_uri) {
		size_t n;

		if (relative_uri[0] != '/') {
			snprintf(why, why_len, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
			return -EINVAL;
		}
		if (!endpoint)
			endpoint = AWS_CONTAINER_DEFAULT_ENDPOINT;
		n = strlen(endpoint);
		while (n && endpoint[n - 1] == '/')
			n--;
		return asprintf(url, "%.*s%s", (int)n, endpoint, relative_uri) < 0 ? -ENOMEM : 0;
	}
	if (!full_uri)
		return -ENOENT;
	if (!full_uri_allowed(full_uri)) {
		snprintf(why, why_len, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to "
			 "a loopback address or the ECS/EKS agent");
		return -EINVAL;
	}
	*url = strdup(full_uri);
	return *url ? 0 : -ENOMEM;
}

/* The token file, first line; a token with a line break could inject a header. */
static int read_token_file(const char *path, char **token, char *why, size_t why_len)
{
	char line[8192] = "";
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -EACCES;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	*token = strdup(line);
	explicit_bzero(line, sizeof(line));
	return *token ? 0 : -ENOMEM;
}

static int container_token(const struct aws_container_source *src, char **token, char *why,
			   size_t why_len)
{
	*token = NULL;
	if (src->auth_token_file)
		return read_token_file(src->auth_token_file, token, why, why_len);
	if (!src->auth_token)
		return 0;
	if (strpbrk(src->auth_token, "\r\n")) {
		snprintf(why, why_len, "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break");
		return -EINVAL;
	}
	*token = strdup(src->auth_token);
	return *token ? 0 : -ENOMEM;
}

static int read_credentials_answer(const char *what, const char *url, long status,
				   const struct buf *body, time_t now, struct aws_credentials *out,
				   char *why, size_t why_len)
{
	char inner[256];
	int rc;

	if (status < 0)
		return (int)status;
	if (status != 200) {
		aws_fetch_failure(what, url, status, body, why, why_len);
		return -EACCES;
	}
	rc = aws_credentials_from_json(body->data, body->len, now, out, inner, sizeof(inner));
	if (rc)
		snprintf(why, why_len, "%s: %s", what, inner);
	return rc;
}

int aws_container_fetch(const struct aws_container_source *src, time_t now,
			struct aws_credentials *out, char *why, size_t why_len)
{
	struct curl_slist *headers = NULL;
	struct buf body = BUF_INIT;
	char *token = NULL;
	long status;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = container_token(src, &token, why, why_len);
	if (rc)
		return rc;
	headers = aws_fetch_header(NULL, "Accept", "application/json");
	if (headers && token)
		headers = aws_fetch_header(headers, "Authorization", token);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	if (!headers)
		return -ENOMEM;
	status = md_request("GET", src->url, headers, &body, why, why_len);
	rc = read_credentials_answer("container endpoint", src->url, status, &body, now, out, why,
				     why_len);
	curl_slist_free_all(headers);
	aws_wipe_buf(&body);
	return rc;
}

/* ---- EC2 instance metadata, IMDSv2 ---- */

static int imds_token(const char *endpoint, char **token, char *why, size_t why_len)
{
	struct curl_slist *headers = aws_fetch_header(NULL, "X-aws-ec2-metadata-token-ttl-seconds",
						 IMDS_TOKEN_TTL);
	struct buf url = BUF_INIT, body = BUF_INIT;
	long status;

	*token = NULL;
	if (!headers || buf_printf(&url, "%s/latest/api/token", endpoint)) {
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	status = md_request("PUT", url.data, headers, &body, why, why_len);
	if (status == 200 && body.len && !memchr(body.data, '\n', body.len))
		*token = strdup(body.data);
	else if (status >= 0)
		aws_fetch_failure("instance metadata token", url.data, status, &body, why, why_len);
	curl_slist_free_all(headers);
	buf_free(&url);
	aws_wipe_buf(&body);
	if (status < 0)
		return (int)status;
	return *token ? 0 : -EACCES;
}

static long imds_get(const char *endpoint, const char *path, const char *token, struct buf *body,
		     char *why, size_t why_len)
{
	struct curl_slist *headers = aws_fetch_header(NULL, "X-aws-ec2-metadata-token", token);
	struct buf url = BUF_INIT;
	long status;

	if (!headers || buf_printf(&url, "%s%s", endpoint, path)) {
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	status = md_request("GET", url.data, headers, body, why, why_len);
	if (status >= 0 && status != 200)
		aws_fetch_failure("instance metadata", url.data, status, body, why, why_len);
	curl_slist_free_all(headers);
	buf_free(&url);
	return status;
}

/* The instance profile's role: the first line of the listing. */
static int imds_role(const char *endpoint, const char *token, char **role, char *why,
		     size_t why_len)
{
	struct buf body = BUF_INIT;
	long status = imds_get(endpoint, IMDS_CREDENTIALS_PATH, token, &body, why, why_len);
	size_t n = body.data ? strcspn(body.data, "\r\n") : 0;

	*role = NULL;
	if (status == 200 && n == 0)
		snprintf(why, why_len, "instance metadata: the instance has no IAM role");
	else if (status == 200 && memchr(body.data, '/', n))
		snprintf(why, why_len, "instance metadata: unexpected role name");
	else if (status == 200)
		*role = strndup(body.data, n);
	buf_free(&body);
	if (status < 0)
		return (int)status;
	return *role ? 0 : -EACCES;
}

int aws_imds_fetch(const char *endpoint, time_t now, struct aws_credentials *out, char *why,
		   size_t why_len)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	char *token = NULL, *role = NULL;
	long status;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = imds_token(endpoint, &token, why, why_len);
	if (!rc)
		rc = imds_role(endpoint, token, &role, why, why_len);
	if (!rc && buf_printf(&path, IMDS_CREDENTIALS_PATH "%s", role))
		rc = -ENOMEM;
	if (!rc) {
		status = imds_get(endpoint, path.data, token, &body, why, why_len);
		rc = status == 200 ? read_credentials_answer("instance metadata", endpoint, status,
							      &body, now, out, why, why_len) :
				     status < 0 ? (int)status : -EACCES;
	}
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(role);
	buf_free(&path);
	aws_wipe_buf(&body);
	return rc;
}
