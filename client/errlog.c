#include "client/errlog.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/log.h"
#include "client/stats.h"
#include "client/utf8.h"

struct errlog_entry {
	time_t when;
	char op[16];
	char path[256];
	struct esfs_error e;
};

static struct errlog_entry ring[ERRLOG_SIZE];
static unsigned long ring_count;
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

void errlog_add(const char *op, const char *path, const struct esfs_error *e)
{
	struct errlog_entry *slot;

	char shown[sizeof(slot->path)];

	STATS_INC(errors);
	stats_count_error(e->err);
	/* A path is any bytes a program chose: shown escaped, so one failure stays one line. */
	utf8_escape(shown, sizeof(shown), path);
	log_err("%s %s: %s (%s: %s)", op, shown, errmap_errno_name(e->err), e->type, e->reason);
	pthread_mutex_lock(&ring_lock);
	slot = &ring[ring_count++ % ERRLOG_SIZE];
	slot->when = time(NULL);
	snprintf(slot->op, sizeof(slot->op), "%s", op);
	memcpy(slot->path, shown, sizeof(shown));
	slot->e = *e;
	/* One failure, one line, fields split by tabs: the engine's text must not break that. */
	errmap_one_line(slot->e.reason);
	pthread_mutex_unlock(&ring_lock);
}

static int render_entry(struct buf *out, const struct errlog_entry *en)
{
	char when[32];
	struct tm tm;

	gmtime_r(&en->when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf_printf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", when, en->op, en->path,
			  errmap_errno_name(en->e.err), en->e.type, en->e.reason);
}

int errlog_render(struct buf *out)
{
	unsigned long first;
	int rc = 0;

	pthread_mutex_lock(&ring_lock);
	first = ring_count > ERRLOG_SIZE ? ring_count - ERRLOG_SIZE : 0;
	for (unsigned long i = first; i < ring_count && !rc; i++)
		rc = render_entry(out, &ring[i % ERRLOG_SIZE]);
	pthread_mutex_unlock(&ring_lock);
	return rc;
}
