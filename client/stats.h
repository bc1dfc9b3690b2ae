/*
 * esfs's own counters, shown in /_esfs/stats as "name value" lines, and in
 * /_esfs/metrics in the Prometheus text format together with the finer
 * counts kept beside them (answers by method and status class, request
 * latency, errors by errno), which have no line in /_esfs/stats.
 */
#ifndef ESFS_STATS_H
#define ESFS_STATS_H

#include <stdatomic.h>

#include "client/buf.h"

#define ESFS_STATS(X) \
	X(requests)            /* HTTP requests sent, retries on another node included */ \
	X(requests_get)        /* ... of them by method: reads are GET and HEAD alone */ \
	X(requests_head) \
	X(requests_put) \
	X(requests_post) \
	X(requests_delete) \
	X(request_errors)      /* requests that got no 2xx answer */ \
	X(transport_errors)    /* requests that got no answer at all */ \
	X(timeouts) \
	X(node_failovers)      /* a request moved on to the next node */ \
	X(retries)             /* reads sent again after a 429 or 503 answer */ \
	X(connections_opened)  /* new TCP connections; the rest were reused */ \
	X(bytes_received) \
	X(cache_hits) \
	X(cache_misses) \
	X(cache_invalidations) \
	X(errors)              /* failed operations, as listed in /_esfs/errors */ \
	X(fuse_getattr)        /* the kernel's calls that reached esfs: the rest it answered */ \
	X(fuse_open)           /* ... from its own caches (entry_timeout, attr_timeout, pages) */ \
	X(fuse_read) \
	X(page_cache_kept)     /* opens whose pages the kernel kept from the last one */ \
	X(kernel_views_dropped) /* times the kernel was told to drop /_indices: a snapshot in it went */

struct stats {
#define STATS_FIELD(name) atomic_ulong name;
	ESFS_STATS(STATS_FIELD)
#undef STATS_FIELD
};

extern struct stats esfs_stats;

#define STATS_INC(name) atomic_fetch_add_explicit(&esfs_stats.name, 1, memory_order_relaxed)
#define STATS_ADD(name, n) atomic_fetch_add_explicit(&esfs_stats.name, (n), memory_order_relaxed)

int stats_render(struct buf *out);
/* One request sent: counts it in requests and in its method's counter. */
void stats_count_request(const char *method);
/*
 * How a request sent ended: the HTTP status of its answer (0: none came)
 * and the seconds it took, for the status classes and the latency histogram.
 */
void stats_count_answer(const char *method, long status, double seconds);
/* One failed operation (as in /_esfs/errors), by its errno. */
void stats_count_error(int err);
/* esfs's whole cache dropped at once (/_esfs/flush, SIGHUP). */
void stats_count_flush(void);
/* Every counter in the Prometheus text exposition format; started: when esfs started (Unix time). */
int stats_render_metrics(struct buf *out, long started);

#endif
