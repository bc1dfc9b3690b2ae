/*
 * A thread of the mount's own that does one thing now and then (systemd's
 * status, the kernel's stale views) and ends at once when asked, however
 * long its period.
 */
#ifndef ESFS_TICKER_H
#define ESFS_TICKER_H

struct ticker;

/*
 * Calls tick(ctx) at once, then every period seconds, until ticker_stop or
 * until tick returns nonzero. NULL when out of memory or threads.
 */
struct ticker *ticker_start(int period, int (*tick)(void *ctx), void *ctx);
/* Ends the thread (a tick under way first finishes) and frees it; NULL is fine. */
void ticker_stop(struct ticker *t);

#endif
