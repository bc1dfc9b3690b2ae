#include "client/stats.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "client/errmap.h"

struct stats esfs_stats;

/* The methods esfs sends, in the order of the metrics' series. */
static const char *const methods[] = { "GET", "HEAD", "PUT", "POST", "DELETE" };
#define METHODS (sizeof(methods) / sizeof(methods[0]))

/* Status classes: none (no answer came), then 1xx .. 5xx. */
static const char *const classes[] = { "none", "1xx", "2xx", "3xx", "4xx", "5xx" };
#define CLASSES (sizeof(classes) / sizeof(classes[0]))

/* Request latency buckets, in seconds: from a cached-connection GET to a write_timeout. */
static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define BUCKETS (sizeof(bounds) / sizeof(bounds[0]))

/* errno values from 1 up to this have a slot each; any other is counted in the last, as "other". */
#define ERRNOS 134

/* What /_esfs/metrics shows beyond the counters of /_esfs/stats. */
static struct {
	atomic_ulong answers[METHODS][CLASSES];
	atomic_ulong latency[BUCKETS + 1];	/* per bucket, not cumulative; the last is +Inf */
	atomic_ulong latency_us;		/* the sum, in microseconds */
	atomic_ulong errors[ERRNOS + 1];
	atomic_ulong flushes;
} detail;

#define DETAIL_INC(field) atomic_fetch_add_explicit(&(field), 1, memory_order_relaxed)

int stats_render(struct buf *out)
{
	int rc = 0;

#define STATS_LINE(name) \
	if (!rc) \
		rc = buf_printf(out, "%s %lu\n", #name, atomic_load(&esfs_stats.name));
	ESFS_STATS(STATS_LINE)
#undef STATS_LINE
	return rc;
}

static int method_index(const char *method)
{
	for (size_t i = 0; i < METHODS; i++)
		if (!strcmp(method, methods[i]))
			return (int)i;
	return -1;
}

void stats_count_request(const char *method)
{
	static atomic_ulong *const by_method[METHODS] = {
		&esfs_stats.requests_get, &esfs_stats.requests_head, &esfs_stats.requests_put,
		&esfs_stats.requests_post, &esfs_stats.requests_delete,
	};
	int m = method_index(method);

	STATS_INC(requests);
	if (m >= 0)
		DETAIL_INC(*by_method[m]);
}

void stats_count_answer(const char *method, long status, double seconds)
{
	int m = method_index(method);
	size_t c = status >= 100 && status < 600 ? (size_t)(status / 100) : 0;
	size_t b = 0;

	if (m >= 0)
		DETAIL_INC(detail.answers[m][c]);
	while (b < BUCKETS && seconds > bounds[b])
		b++;
	DETAIL_INC(detail.latency[b]);
	atomic_fetch_add_explicit(&detail.latency_us, (unsigned long)(seconds * 1e6),
				  memory_order_relaxed);
}

void stats_count_error(int err)
{
	DETAIL_INC(detail.errors[err > 0 && err < ERRNOS ? err : ERRNOS]);
}

void stats_count_flush(void)
{
	DETAIL_INC(detail.flushes);
}

/* ---------------------------------------------------------------- /_esfs/metrics */

static int family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int counter(struct buf *out, const char *name, const char *help, unsigned long value)
{
	return family(out, name, "counter", help) || buf_printf(out, "%s %lu\n", name, value);
}

#define LOAD(field) atomic_load(&(field))

static int render_requests(struct buf *out)
{
	int rc = family(out, "esfs_http_requests_total", "counter",
			"HTTP requests sent to the cluster, by method and status class of the answer "
			"(code=\"none\": no answer came)");

	for (size_t m = 0; m < METHODS && !rc; m++)
		for (size_t c = 0; c < CLASSES && !rc; c++)
			if (c != 1)	/* 1xx is never a final answer */
				rc = buf_printf(out, "esfs_http_requests_total{method=\"%s\",code=\"%s\"} %lu\n",
						methods[m], classes[c], LOAD(detail.answers[m][c]));
	return rc;
}

static int render_latency(struct buf *out)
{
	const char *name = "esfs_http_request_duration_seconds";
	unsigned long total = 0;
	int rc = family(out, name, "histogram",
			"Seconds an HTTP request took, from its start to the end of its answer or its failure");

	for (size_t b = 0; b <= BUCKETS && !rc; b++) {
		total += LOAD(detail.latency[b]);
		if (b < BUCKETS)
			rc = buf_printf(out, "%s_bucket{le=\"%g\"} %lu\n", name, bounds[b], total);
		else
			rc = buf_printf(out, "%s_bucket{le=\"+Inf\"} %lu\n", name, total);
	}
	if (!rc)
		rc = buf_printf(out, "%s_sum %.6f\n%s_count %lu\n", name,
				(double)LOAD(detail.latency_us) / 1e6, name, total);
	return rc;
}

static int render_errors(struct buf *out)
{
	int rc = family(out, "esfs_errors_total", "counter",
			"Failed operations, as listed in /_esfs/errors, by errno");

	for (int e = 1; e <= ERRNOS && !rc; e++)
		if (LOAD(detail.errors[e]))
			rc = buf_printf(out, "esfs_errors_total{errno=\"%s\"} %lu\n",
					e < ERRNOS ? errmap_errno_name(e) : "other", LOAD(detail.errors[e]));
	return rc;
}

static int render_fuse(struct buf *out)
{
	return family(out, "esfs_fuse_requests_total", "counter",
		      "The kernel's calls that reached esfs; the rest it answered from its own caches") ||
	       buf_printf(out, "esfs_fuse_requests_total{op=\"getattr\"} %lu\n"
			       "esfs_fuse_requests_total{op=\"open\"} %lu\n"
			       "esfs_fuse_requests_total{op=\"read\"} %lu\n",
			  LOAD(esfs_stats.fuse_getattr), LOAD(esfs_stats.fuse_open),
			  LOAD(esfs_stats.fuse_read)) ||
	       counter(out, "esfs_page_cache_kept_total",
		       "Opens whose pages the kernel kept from the last open", LOAD(esfs_stats.page_cache_kept)) ||
	       counter(out, "esfs_kernel_views_dropped_total",
		       "Times the kernel was told to drop /_indices, as a snapshot in it went",
		       LOAD(esfs_stats.kernel_views_dropped));
}

static int render_process(struct buf *out, long started)
{
	long now = (long)time(NULL);

	return family(out, "esfs_build_info", "gauge", "The esfs version; always 1") ||
	       buf_printf(out, "esfs_build_info{version=\"%s\"} 1\n", ESFS_VERSION) ||
	       family(out, "esfs_start_time_seconds", "gauge", "When esfs started, in seconds since the Unix epoch") ||
	       buf_printf(out, "esfs_start_time_seconds %ld\n", started) ||
	       family(out, "esfs_uptime_seconds", "gauge", "Seconds since esfs started") ||
	       buf_printf(out, "esfs_uptime_seconds %ld\n", now > started ? now - started : 0);
}

static int render_transport(struct buf *out)
{
	return counter(out, "esfs_http_transport_errors_total",
		       "Requests that got no answer at all, those failed at once while every node was resting included",
		       LOAD(esfs_stats.transport_errors)) ||
	       counter(out, "esfs_http_timeouts_total", "Requests that timed out",
		       LOAD(esfs_stats.timeouts)) ||
	       counter(out, "esfs_node_failovers_total", "Requests that moved on to the next node",
		       LOAD(esfs_stats.node_failovers)) ||
	       counter(out, "esfs_http_retries_total", "Reads sent again after a 429 or 503 answer",
		       LOAD(esfs_stats.retries)) ||
	       counter(out, "esfs_http_connections_opened_total",
		       "TCP connections opened to the cluster; the other requests reused one",
		       LOAD(esfs_stats.connections_opened)) ||
	       counter(out, "esfs_http_received_bytes_total", "Bytes of answers received",
		       LOAD(esfs_stats.bytes_received));
}

static int render_cache(struct buf *out)
{
	return counter(out, "esfs_cache_hits_total", "Answers served from esfs's cache",
		       LOAD(esfs_stats.cache_hits)) ||
	       counter(out, "esfs_cache_misses_total", "Answers asked of the cluster",
		       LOAD(esfs_stats.cache_misses)) ||
	       counter(out, "esfs_cache_invalidations_total",
		       "Cached answers dropped because esfs changed what they said",
		       LOAD(esfs_stats.cache_invalidations)) ||
	       counter(out, "esfs_cache_flushes_total",
		       "Times the whole cache was dropped (/_esfs/flush, SIGHUP)", LOAD(detail.flushes));
}

int stats_render_metrics(struct buf *out, long started)
{
	if (render_process(out, started) || render_requests(out) || render_latency(out) ||
	    render_transport(out) || render_cache(out) || render_errors(out) || render_fuse(out))
		return -ENOMEM;
	return 0;
}
