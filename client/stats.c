#include "client/stats.h"

struct stats esfs_stats;

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
