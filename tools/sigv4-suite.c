/*
 * sigv4-suite DIR: runs the AWS SigV4 signing test suite (one folder per
 * case, as in awslabs/aws-c-auth tests/aws-signing-test-suite/v4) against
 * client/aws/sigv4.c. Each case is signed from its request.txt and context.json
 * alone and checked against the header-*.txt files it has. Prints one
 * "PASS case" or "FAIL case: reason" line per case; exits 1 if any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "client/buf.h"
#include "client/aws/sigv4.h"

#define MSG_MAX 256
#define SHOWN_MAX 48

/* request.txt taken apart; the strings point into text, which is cut up in place. */
struct parsed_request {
	char *text;
	const char *method, *path, *query;
	struct sigv4_header *headers;
	size_t nheaders;
	size_t head_len;	/* bytes of the original up to the end of the headers */
	const char *body;
	size_t body_len;
};

struct case_input {
	struct sigv4_key key;
	struct sigv4_scope scope;
	time_t now;
	unsigned flags;
};

static char *read_case_file(const char *dir, const char *name, const char *file, size_t *lenp)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	char chunk[4096];
	FILE *f = NULL;
	size_t n;
	char *res = NULL;

	if (buf_printf(&path, "%s/%s/%s", dir, name, file) || !(f = fopen(path.data, "rb")))
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&data, chunk, n))
			goto out;
	if (ferror(f))
		goto out;
	if (lenp)
		*lenp = data.len;
	res = buf_steal(&data);
out:
	if (f)
		fclose(f);
	buf_free(&path);
	buf_free(&data);
	return res;
}

/* ---- request.txt ---- */

static char *line_end(char *p)
{
	return p + strcspn(p, "\n");
}

/* Cuts the line at p, dropping a CR before the LF, and returns the next line. */
static char *cut_line(char *p)
{
	char *end = line_end(p), *next = *end ? end + 1 : end;

	if (end > p && end[-1] == '\r')
		end[-1] = '\0';
	*end = '\0';
	return next;
}

/* "METHOD TARGET HTTP/1.1", where the target may hold spaces ("/example space/"). */
static int parse_request_line(char *line, struct parsed_request *req)
{
	char *sp = strchr(line, ' '), *last = strrchr(line, ' '), *q;

	if (!sp || sp == last)
		return -1;
	*sp = *last = '\0';
	req->method = line;
	req->path = sp + 1;
	q = strchr(sp + 1, '?');
	if (q)
		*q++ = '\0';
	req->query = q;
	return 0;
}

static int is_continuation(const char *p)
{
	return *p == ' ' || *p == '\t';
}

/*
 * Parses "Name:value" lines up to a blank line. A value keeps its folded
 * continuation lines; the signer treats the line breaks as blanks.
 */
static char *parse_headers(char *p, struct parsed_request *req)
{
	while (*p && *p != '\n' && strncmp(p, "\r\n", 2) != 0) {
		char *colon = strchr(p, ':'), *end = line_end(p);
		struct sigv4_header *h;

		if (!colon || colon > end)
			return NULL;
		while (*end && is_continuation(end + 1))
			end = line_end(end + 1);
		*colon = '\0';
		h = &req->headers[req->nheaders++];
		h->name = p;
		h->value = colon + 1;
		p = *end ? end + 1 : end;
		*end = '\0';
	}
	return p;
}

static int parse_request(char *text, size_t len, struct parsed_request *req)
{
	size_t lines = 1;
	char *p, *body;

	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	req->text = text;
	req->headers = calloc(lines, sizeof(*req->headers));
	if (!req->headers)
		return -1;
	p = cut_line(text);
	if (parse_request_line(text, req))
		return -1;
	p = parse_headers(p, req);
	if (!p)
		return -1;
	req->head_len = (size_t)(p - text);
	body = *p == '\r' ? p + 1 : p;
	body = *body == '\n' ? body + 1 : body;
	req->body = body;
	req->body_len = len - (size_t)(body - text);
	return 0;
}

/* ---- context.json ---- */

static const char *json_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* true sets flag, false clears it, absent keeps the service's default. */
static unsigned apply_bool_flag(const cJSON *ctx, const char *name, unsigned flags, unsigned flag)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(ctx, name);

	if (cJSON_IsTrue(item))
		return flags | flag;
	if (cJSON_IsFalse(item))
		return flags & ~flag;
	return flags;
}

static int parse_timestamp(const char *s, time_t *now)
{
	struct tm tm = { 0 };
	char z = 0;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*now = timegm(&tm);
	return 0;
}

static int parse_context(const cJSON *ctx, struct case_input *in)
{
	const cJSON *cred = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");

	in->key.access_key_id = json_string(cred, "access_key_id");
	in->key.secret_access_key = json_string(cred, "secret_access_key");
	in->key.session_token = json_string(cred, "token");
	in->scope.region = json_string(ctx, "region");
	in->scope.service = json_string(ctx, "service");
	if (!in->key.access_key_id || !in->key.secret_access_key || !in->scope.region ||
	    !in->scope.service || parse_timestamp(json_string(ctx, "timestamp"), &in->now))
		return -1;
	in->flags = sigv4_service_flags(in->scope.service);
	in->flags = apply_bool_flag(ctx, "normalize", in->flags, SIGV4_NORMALIZE_PATH);
	in->flags = apply_bool_flag(ctx, "sign_body", in->flags, SIGV4_SIGN_CONTENT_SHA256);
	in->flags = apply_bool_flag(ctx, "omit_session_token", in->flags, SIGV4_UNSIGNED_SESSION_TOKEN);
	return 0;
}

/* ---- comparing ---- */

/* The line at p quoted and cut short for a one-line report. */
static void quote_line(char *dst, size_t size, const char *p)
{
	size_t len = strcspn(p, "\n");

	if (len > SHOWN_MAX)
		snprintf(dst, size, "\"%.*s...\"", SHOWN_MAX, p);
	else
		snprintf(dst, size, "\"%.*s\"", (int)len, p);
}

/* Header names are case-insensitive, so in the header block only the values must match exactly. */
static int lines_equal(const char *a, const char *b, int in_headers)
{
	size_t alen = strcspn(a, "\n"), blen = strcspn(b, "\n");
	const char *acolon = memchr(a, ':', alen), *bcolon = memchr(b, ':', blen);

	if (alen != blen)
		return 0;
	if (!in_headers || !acolon || !bcolon || acolon - a != bcolon - b)
		return !memcmp(a, b, alen);
	return !strncasecmp(a, b, (size_t)(acolon - a)) && !memcmp(acolon, bcolon, alen - (size_t)(acolon - a));
}

/* Returns 0 if got matches want, else writes where they first differ to msg. */
static int compare_text(const char *what, const char *got, const char *want, int http,
			char *msg, size_t size)
{
	char g[SHOWN_MAX + 8], w[SHOWN_MAX + 8];
	int in_headers = 0;

	for (int line = 1;; line++) {
		if (!lines_equal(got, want, in_headers)) {
			quote_line(g, sizeof(g), got);
			quote_line(w, sizeof(w), want);
			snprintf(msg, size, "%s line %d: got %s, want %s", what, line, g, w);
			return -1;
		}
		got += strcspn(got, "\n");
		want += strcspn(want, "\n");
		if (!*got || !*want)
			break;
		got++;
		want++;
		in_headers = http && *got != '\n' && (line == 1 || in_headers);
	}
	if (*got || *want) {
		snprintf(msg, size, "%s: %s ends early", what, *got ? "expected" : "result");
		return -1;
	}
	return 0;
}

/* The request as it goes out: its header block, the added headers, a blank line, the body. */
static char *signed_request(const char *original, const struct parsed_request *req,
			    const struct sigv4_result *res)
{
	struct buf b = BUF_INIT;
	int rc = buf_append(&b, original, req->head_len);

	if (!rc && req->head_len && original[req->head_len - 1] != '\n')
		rc = buf_append(&b, "\n", 1);
	for (size_t i = 0; i < res->nheaders && !rc; i++)
		rc = buf_printf(&b, "%s:%s\n", res->headers[i].name, res->headers[i].value);
	if (!rc)
		rc = buf_append(&b, "\n", 1);
	if (!rc)
		rc = buf_append(&b, req->body, req->body_len);
	if (rc) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* Checks each expected file the case has; returns how many were compared, or -1 on a mismatch. */
static int check_expected(const char *dir, const char *name, const char *original,
			  const struct parsed_request *req, const struct sigv4_result *res,
			  char *msg, size_t size)
{
	static const struct { const char *file, *what; int http; } files[] = {
		{ "header-canonical-request.txt", "canonical request", 0 },
		{ "header-string-to-sign.txt", "string to sign", 0 },
		{ "header-signature.txt", "signature", 0 },
		{ "header-signed-request.txt", "signed request", 1 },
	};
	char *signed_req = signed_request(original, req, res);
	const char *got[] = { res->canonical_request, res->string_to_sign, res->signature, signed_req };
	int compared = 0;

	if (!signed_req) {
		snprintf(msg, size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && compared >= 0; i++) {
		char *want = read_case_file(dir, name, files[i].file, NULL);

		if (!want)
			continue;
		compared++;
		if (compare_text(files[i].what, got[i], want, files[i].http, msg, size))
			compared = -1;
		free(want);
	}
	free(signed_req);
	return compared;
}

/* ---- running ---- */

static int run_case(const char *dir, const char *name, char *msg, size_t size)
{
	struct parsed_request req = { 0 };
	struct sigv4_request sreq;
	struct sigv4_result res = { 0 };
	struct case_input in = { 0 };
	size_t len = 0;
	char *original = read_case_file(dir, name, "request.txt", &len);
	char *json = read_case_file(dir, name, "context.json", NULL);
	char *text = original ? strdup(original) : NULL;
	cJSON *ctx = json ? cJSON_Parse(json) : NULL;
	int rc = -1, compared;

	if (!original || !json) {
		snprintf(msg, size, "cannot read %s", original ? "context.json" : "request.txt");
		goto out;
	}
	if (!ctx || parse_context(ctx, &in)) {
		snprintf(msg, size, "bad context.json");
		goto out;
	}
	if (!text || parse_request(text, len, &req)) {
		snprintf(msg, size, "bad request.txt");
		goto out;
	}
	sreq = (struct sigv4_request){ req.method, req.path, req.query, req.headers, req.nheaders,
				       req.body, req.body_len };
	if ((rc = sigv4_sign(&sreq, &in.key, &in.scope, in.now, in.flags, &res))) {
		snprintf(msg, size, "sigv4_sign: %s", strerror(-rc));
		goto out;
	}
	compared = check_expected(dir, name, original, &req, &res, msg, size);
	if (compared == 0)
		snprintf(msg, size, "no header-*.txt files to compare");
	rc = compared > 0 ? 0 : -1;
out:
	sigv4_result_free(&res);
	cJSON_Delete(ctx);
	free(req.headers);
	free(text);
	free(json);
	free(original);
	return rc;
}

static int skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Byte order, so the listing does not depend on the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_case_dir(const char *dir, const char *name)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int yes = !buf_printf(&path, "%s/%s", dir, name) && stat(path.data, &st) == 0 &&
		  S_ISDIR(st.st_mode);

	buf_free(&path);
	return yes;
}

int main(int argc, char **argv)
{
	struct dirent **names;
	int n, failed = 0, ran = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	n = scandir(argv[1], &names, skip_hidden, by_name);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char msg[MSG_MAX];

		if (is_case_dir(argv[1], names[i]->d_name)) {
			ran++;
			if (run_case(argv[1], names[i]->d_name, msg, sizeof(msg))) {
				printf("FAIL %s: %s\n", names[i]->d_name, msg);
				failed++;
			} else {
				printf("PASS %s\n", names[i]->d_name);
			}
		}
		free(names[i]);
	}
	free(names);
	if (ran == 0) {
		fprintf(stderr, "%s: no cases\n", argv[1]);
		return 2;
	}
	return failed ? 1 : 0;
}
