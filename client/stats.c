#include "client/stats.h"

#include <string.h>

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

void stats_count_request(const char *method)
{
	STATS_INC(requests);
	if (!strcmp(method, "GET"))
		STATS_INC(requests_get);
	else if (!strcmp(method, "HEAD"))
		STATS_INC(requests_head);
	else if (!strcmp(method, "PUT"))
		STATS_INC(requests_put);
	else if (!strcmp(method, "POST"))
		STATS_INC(requests_post);
	else if (!strcmp(method, "DELETE"))
		STATS_INC(requests_delete);
}
