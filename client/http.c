#include "client/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client/log.h"
#include "client/stats.h"
#include "client/sys.h"

/* An answer larger than this is refused rather than held in memory. */
#define HTTP_MAX_BODY (256u << 20)
#define HTTP_POOL_MAX 16
/*
 * A node that gave no answer is left alone this long: its next requests fail
 * (or go to another node) at once instead of each waiting out a timeout, so
 * one "ls" on a hung cluster costs one timeout, not one per system call.
 */
#define HTTP_NODE_REST_SECONDS 1.0
/*
 * A read answered 429 or 503 (the engine, or a proxy before it, is busy and
 * says so) goes again, at most this many times, after 100, 200, 400 ms, or
 * after the answer's Retry-After when it asks for longer. Every try, and
 * every wait between them, fits in the read's one timeout: a wait that would
 * end past it is not waited, and the busy answer is the read's.
 */
#define HTTP_BUSY_RETRIES 3
#define HTTP_BUSY_FIRST_WAIT_MS 100
/* A try given less time than this would only time out: the busy answer stands instead. */
#define HTTP_BUSY_MIN_TRY_SECONDS 0.5

struct http {
	const struct http_config *cfg;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_lock;
	CURL *pool[HTTP_POOL_MAX];	/* idle handles, each with its live connections */
	int npool;
	atomic_int node;		/* the node that answered last: tried first */
	pthread_mutex_t nodes_lock;
	struct node_health *nodes;	/* one per URL */
};

struct node_health {
	double resting_until;		/* monotonic seconds */
	struct esfs_error last_error;
	int gzip;			/* its answers are asked for gzipped */
};

/* 0 if the node may be asked now; otherwise its last error, in err. */
static int node_is_resting(struct http *h, int node, struct esfs_error *err)
{
	int resting;

	pthread_mutex_lock(&h->nodes_lock);
	resting = monotonic_seconds() < h->nodes[node].resting_until;
	if (resting)
		*err = h->nodes[node].last_error;
	pthread_mutex_unlock(&h->nodes_lock);
	return resting;
}

static void node_failed(struct http *h, int node, const struct esfs_error *err)
{
	pthread_mutex_lock(&h->nodes_lock);
	h->nodes[node].resting_until = monotonic_seconds() + HTTP_NODE_REST_SECONDS;
	h->nodes[node].last_error = *err;
	pthread_mutex_unlock(&h->nodes_lock);
}

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *userp)
{
	struct http *h = userp;

	(void)handle;
	(void)access;
	pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *userp)
{
	struct http *h = userp;

	(void)handle;
	pthread_mutex_unlock(&h->share_locks[data]);
}

/*
 * DNS answers and TLS sessions are shared between handles; connections are
 * not, as libcurl does not support sharing them between concurrent threads.
 */
static CURLSH *share_new(struct http *h)
{
	CURLSH *share = curl_share_init();

	if (!share)
		return NULL;
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return share;
}

struct http *http_new(const struct http_config *cfg)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cfg = cfg;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	pthread_mutex_init(&h->pool_lock, NULL);
	pthread_mutex_init(&h->nodes_lock, NULL);
	h->nodes = calloc((size_t)cfg->nurls, sizeof(*h->nodes));
	h->share = share_new(h);
	if (!h->share || !h->nodes) {
		http_free(h);
		return NULL;
	}
	for (int i = 0; i < cfg->nurls; i++)
		h->nodes[i].gzip = http_wants_gzip(cfg->compression, cfg->urls[i]);
	return h;
}

/* 127.0.0.0/8, ::1 and localhost, which every resolver keeps on this machine. */
static int host_is_loopback(const char *host)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return !strcmp(host, "[::1]") || !strcasecmp(host, "localhost");
}

/*
 * gzip shrinks a listing about tenfold, which pays across a network; from a
 * node on loopback it is only the engine's CPU, spent on every answer: 10 to
 * 25 % more time for a listing of 10,000 snapshots (bench/README, Scale).
 */
int http_wants_gzip(enum http_compression mode, const char *url)
{
	CURLU *u;
	char *host = NULL;
	int loopback = 0;

	if (mode != HTTP_COMPRESSION_AUTO)
		return mode == HTTP_COMPRESSION_GZIP;
	u = curl_url();
	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_get(u, CURLUPART_HOST, &host, 0))
		loopback = host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return !loopback;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_mutex_destroy(&h->pool_lock);
	pthread_mutex_destroy(&h->nodes_lock);
	free(h->nodes);
	free(h);
}

static CURL *handle_take(struct http *h)
{
	CURL *curl = NULL;

	pthread_mutex_lock(&h->pool_lock);
	if (h->npool)
		curl = h->pool[--h->npool];
	pthread_mutex_unlock(&h->pool_lock);
	return curl ? curl : curl_easy_init();
}

static void handle_give_back(struct http *h, CURL *curl)
{
	/*
	 * Forget the finished request's URL, body, headers and buffers, which
	 * the handle would otherwise point to until its next use; the reset
	 * keeps the live connections.
	 */
	curl_easy_reset(curl);
	pthread_mutex_lock(&h->pool_lock);
	if (h->npool < HTTP_POOL_MAX) {
		h->pool[h->npool++] = curl;
		curl = NULL;
	}
	pthread_mutex_unlock(&h->pool_lock);
	if (curl)
		curl_easy_cleanup(curl);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct buf *body = userp;
	size_t n = size * nmemb;

	if (body->len + n > HTTP_MAX_BODY || buf_append(body, data, n))
		return 0;	/* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
	return n;
}

static void set_tls_options(CURL *curl, const struct http_config *cfg)
{
	if (cfg->cacert)
		curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->cacert);
	if (cfg->insecure) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static void set_auth_options(CURL *curl, const struct http_config *cfg)
{
	if (cfg->user) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
}

static struct curl_slist *request_headers(const struct http_config *cfg, int has_body)
{
	struct curl_slist *headers = NULL;

	headers = curl_slist_append(headers, "Accept: application/json");
	/* No 100-continue round trip: our bodies are small. */
	headers = curl_slist_append(headers, "Expect:");
	if (has_body)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	if (cfg->api_key) {
		struct buf line = BUF_INIT;

		buf_printf(&line, "Authorization: ApiKey %s", cfg->api_key);
		headers = curl_slist_append(headers, line.data);
		buf_free(&line);
	}
	return headers;
}

static int is_read(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD");
}

/* libcurl calls this about once a second, and on every chunk: non-zero aborts the transfer. */
static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	int (*interrupted)(void) = (int (*)(void))(uintptr_t)userp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return interrupted();
}

static void set_request_options(struct http *h, CURL *curl, int node, const char *method,
				const char *url, const char *body, size_t len, long timeout_ms,
				struct buf *out)
{
	const struct http_config *cfg = h->cfg;

	if (cfg->interrupted) {
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)(uintptr_t)cfg->interrupted);
	}

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_SHARE, h->share);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, cfg->connect_timeout_ms);
	/*
	 * A total timeout, not a low-speed limit: an answer that trickles a byte
	 * a second ends at it all the same, and frees its FUSE worker.
	 */
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->nodes[node].gzip)
		curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");	/* whatever libcurl decodes */
	/* An answer that says it is too big is refused before its first byte; on_body checks the rest. */
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "esfs/" ESFS_VERSION);
	/*
	 * libcurl sends a request again, on its own, when a kept-alive connection
	 * it reused turns out dead before any answer; the first may have reached
	 * the engine all the same. A write must never go twice, so it takes a
	 * connection of its own: a handshake more, for the rare mkdir or rmdir.
	 * It is closed after the answer: no write may reuse it, and kept, it
	 * would pile up next to the reads' connection in the pooled handle (up
	 * to libcurl's 5 a handle), which the soak (bench/soak.py) showed as open
	 * descriptors climbing for as long as writes came.
	 */
	if (!is_read(method)) {
		curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
	}
	/* A POST or PUT without a body still says Content-Length: 0, or some proxies answer 411. */
	if (body || !is_read(method)) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	set_tls_options(curl, cfg);
	set_auth_options(curl, cfg);
}

static int errno_for_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:		return ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:		return ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:	return EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_PARTIAL_FILE:		/* an answer cut short of its length */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:	/* bytes that are not HTTP: "HTTP/0.9" */
	case CURLE_BAD_CONTENT_ENCODING:	return EPROTO;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:			return ECONNRESET;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:		return EFBIG;
	case CURLE_OUT_OF_MEMORY:		return ENOMEM;
	default:				return EIO;
	}
}

/* What a failed attempt says about the node, and so what to do next. */
enum attempt_failure {
	FAILED_UNREACHABLE,	/* the node is not answering: rest it, try the next */
	FAILED_LOST,		/* the connection broke after the request went out */
	FAILED_REQUEST,		/* this request failed; the node may be fine: report it */
	FAILED_LOCAL,		/* on esfs's side (an answer over the cap, memory): report it */
	FAILED_INTERRUPTED,	/* the caller gave up (Ctrl-C): stop at once */
};

struct attempt {
	CURLcode rc;
	char curl_error[CURL_ERROR_SIZE];
	enum attempt_failure failure;
	int sent;		/* whether any byte of the request reached the node */
};

/*
 * Only a node that cannot be reached, or that leaves a read unanswered past
 * its timeout, is rested: an answer too big for us, a broken connection or a
 * slow delete past write_timeout say nothing against the node, and resting it
 * would fail the next requests without sending them.
 */
static enum attempt_failure classify_failure(const struct attempt *at, const char *method)
{
	switch (at->rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return FAILED_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return !at->sent || is_read(method) ? FAILED_UNREACHABLE : FAILED_REQUEST;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return FAILED_LOST;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_OUT_OF_MEMORY:
		return FAILED_LOCAL;
	case CURLE_ABORTED_BY_CALLBACK:	/* only on_progress aborts a transfer */
		return FAILED_INTERRUPTED;
	default:
		return FAILED_REQUEST;
	}
}

/*
 * Whether the same request may go to the next node: when this one never got
 * it, or when it was a read (GET, HEAD: sending one twice changes nothing)
 * whose connection broke or whose node went away. A read that timed out is
 * not sent again: the caller has waited one timeout already. A write is
 * never sent twice.
 */
static int may_retry_elsewhere(const struct attempt *at, const char *method)
{
	if (!at->sent)
		return at->failure == FAILED_UNREACHABLE;
	if (at->rc == CURLE_OPERATION_TIMEDOUT)
		return 0;
	/*
	 * libcurl sends a request again, once, on a fresh connection when a
	 * reused one died unanswered: a node killed under a read ends in a
	 * refused connect after the request went out, and that read is as safe
	 * to send elsewhere as one whose connection broke.
	 */
	return is_read(method) && (at->failure == FAILED_LOST || at->failure == FAILED_UNREACHABLE);
}

static void perform_once(struct http *h, CURL *curl, int node, const char *method,
			 const char *target, const char *body, size_t len, long timeout_ms,
			 struct http_response *resp, struct attempt *at, struct esfs_error *err)
{
	struct buf url = BUF_INIT;
	struct curl_slist *headers = request_headers(h->cfg, body != NULL);
	long connects = 0;
	curl_off_t received = 0, took_us = 0, retry_after = 0;

	buf_printf(&url, "%s%s", h->cfg->urls[node], target);
	curl_easy_reset(curl);
	set_request_options(h, curl, node, method, url.data, body, len, timeout_ms, &resp->body);
	at->curl_error[0] = '\0';
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, at->curl_error);
	at->rc = CURLE_OK;
	if (h->cfg->signer && h->cfg->signer->sign(h->cfg->signer->ctx, method, url.data, body, len,
						    &headers, err)) {
		at->rc = CURLE_ABORTED_BY_CALLBACK;
		at->failure = FAILED_LOCAL;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	stats_count_request(method);
	at->rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &received);
	curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &took_us);
	curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
	resp->retry_after = (long long)retry_after;
	stats_count_answer(method, at->rc == CURLE_OK ? resp->status : 0, (double)took_us / 1e6);
	STATS_ADD(connections_opened, (unsigned long)connects);
	STATS_ADD(bytes_received, (unsigned long)received);
	if (at->rc != CURLE_OK) {
		long sent = 0;

		curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent);
		at->sent = sent > 0;
		at->failure = classify_failure(at, method);
	}
out:
	curl_slist_free_all(headers);
	buf_free(&url);
}

/* A write that reached the node and got no answer: the engine may or may not have done it. */
static int outcome_unknown(const struct attempt *at, const char *method)
{
	return at->sent && !is_read(method) && (at->failure == FAILED_LOST || at->failure == FAILED_UNREACHABLE ||
						 at->rc == CURLE_OPERATION_TIMEDOUT);
}

static void transport_error(struct esfs_error *err, const struct http_config *cfg, int node,
			    const char *method, const struct attempt *at)
{
	const char *what = at->curl_error[0] ? at->curl_error : curl_easy_strerror(at->rc);

	if (at->rc == CURLE_OPERATION_TIMEDOUT)
		STATS_INC(timeouts);
	STATS_INC(transport_errors);
	if (outcome_unknown(at, method))
		errmap_set(err, errno_for_curl(at->rc), "outcome_unknown", "%s: %s: the %s reached the node "
			   "and its answer was lost: whether the cluster did it is unknown, so it was not sent "
			   "again; the tree shows what the cluster did", cfg->urls[node], what, method);
	else
		errmap_set(err, errno_for_curl(at->rc), "transport_error", "%s: %s", cfg->urls[node], what);
}

/*
 * Tries the nodes in turn, starting with the one that answered last, and
 * moves on only when a node was never reached (or a read lost its
 * connection), so no write is sent twice.
 */
static int send_to_some_node(struct http *h, CURL *curl, const char *method, const char *target,
			     const char *body, size_t len, long timeout_ms,
			     struct http_response *resp, struct esfs_error *err)
{
	const struct http_config *cfg = h->cfg;
	int first = atomic_load(&h->node) % cfg->nurls;
	struct attempt at = { .rc = CURLE_COULDNT_CONNECT };
	int asked = 0;

	for (int i = 0; i < cfg->nurls; i++) {
		int node = (first + i) % cfg->nurls;

		if (node_is_resting(h, node, err))
			continue;
		asked = 1;
		resp->status = 0;
		resp->retry_after = 0;
		buf_reset(&resp->body);
		perform_once(h, curl, node, method, target, body, len, timeout_ms, resp, &at, err);
		if (at.rc == CURLE_OK) {
			atomic_store(&h->node, node);
			return 0;
		}
		if (at.rc == CURLE_ABORTED_BY_CALLBACK && at.failure == FAILED_LOCAL)
			return -err->err;	/* the signer said why */
		if (at.failure == FAILED_INTERRUPTED) {
			errmap_set(err, EINTR, "interrupted", "the request to %s was abandoned: interrupted",
				   cfg->urls[node]);
			return -EINTR;
		}
		transport_error(err, cfg, node, method, &at);
		if (at.failure == FAILED_UNREACHABLE)
			node_failed(h, node, err);
		if (!may_retry_elsewhere(&at, method))
			break;
		if (i + 1 < cfg->nurls) {
			STATS_INC(node_failovers);
			log_warn("%s: no answer (%s), trying the next node", cfg->urls[node], err->reason);
		}
	}
	if (!asked)
		STATS_INC(transport_errors);	/* every node is resting: its last error stands */
	return -err->err;
}

static int is_busy(long status)
{
	return status == 429 || status == 503;
}

/* How long to wait before busy retry number tries (0, 1, ...): the answer's Retry-After if longer. */
static double busy_wait_seconds(int tries, const struct http_response *resp)
{
	double backoff = HTTP_BUSY_FIRST_WAIT_MS / 1000.0 * (double)(1 << tries);

	return resp->retry_after > backoff ? (double)resp->retry_after : backoff;
}

/* Sleeps, in short steps so that Ctrl-C ends it at once: 0, or -EINTR. */
static int sleep_unless_interrupted(const struct http_config *cfg, double seconds)
{
	double until = monotonic_seconds() + seconds;

	for (double left = seconds; left > 0; left = until - monotonic_seconds()) {
		double step = left < 0.05 ? left : 0.05;
		struct timespec ts = { 0, (long)(step * 1e9) };

		if (cfg->interrupted && cfg->interrupted())
			return -EINTR;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Sends the request; a read answered 429 or 503 goes again after a wait (see
 * HTTP_BUSY_RETRIES) while the wait and a try of HTTP_BUSY_MIN_TRY_SECONDS
 * more fit in its timeout. A write never goes again: its 429 says the engine refused
 * it, its 503 may come from a proxy after the engine did it.
 */
static int send_with_busy_retries(struct http *h, CURL *curl, const char *method,
				  const char *target, const char *body, size_t len,
				  struct http_response *resp, struct esfs_error *err)
{
	const struct http_config *cfg = h->cfg;
	long timeout_ms = is_read(method) ? cfg->timeout_ms : cfg->write_timeout_ms;
	double deadline = monotonic_seconds() + (double)timeout_ms / 1000.0;
	int rc;

	for (int tries = 0;; tries++) {
		double wait, left;

		rc = send_to_some_node(h, curl, method, target, body, len, timeout_ms, resp, err);
		if (rc || !is_read(method) || !is_busy(resp->status) || tries == HTTP_BUSY_RETRIES)
			return rc;
		wait = busy_wait_seconds(tries, resp);
		left = deadline - monotonic_seconds() - wait;
		if (left < HTTP_BUSY_MIN_TRY_SECONDS)
			return 0;	/* no time for another try: the busy answer stands */
		log_info("%s %s -> %ld: asking again in %.1f s", method, target, resp->status, wait);
		if (sleep_unless_interrupted(cfg, wait)) {
			errmap_set(err, EINTR, "interrupted", "%s %s: interrupted while waiting to ask again",
				   method, target);
			return -EINTR;
		}
		STATS_INC(retries);
		timeout_ms = (long)(left * 1000);
	}
}

int http_request(struct http *h, const char *method, const char *target, const char *body,
		 size_t len, struct http_response *resp, struct esfs_error *err)
{
	CURL *curl = handle_take(h);
	int rc;

	if (!curl) {
		errmap_set(err, ENOMEM, "out_of_memory", "cannot create an HTTP handle");
		return -ENOMEM;
	}
	rc = send_with_busy_retries(h, curl, method, target, body, len, resp, err);
	handle_give_back(h, curl);
	if (rc) {
		log_debug("%s %s -> %s", method, target, err->reason);
		return rc;
	}
	log_debug("%s %s -> %ld (%zu bytes)", method, target, resp->status, resp->body.len);
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	STATS_INC(request_errors);
	errmap_from_response(err, resp->status, resp->body.data, resp->body.len);
	return -err->err;
}

const char *http_node_url(struct http *h)
{
	return h->cfg->urls[atomic_load(&h->node) % h->cfg->nurls];
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
}
