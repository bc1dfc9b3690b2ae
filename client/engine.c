#include "client/engine.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * OpenSearch says so in version.distribution; Elasticsearch has no such field.
 * OpenSearch 1.x in compatibility mode reports 7.10.2 as its number, so the
 * distribution is read before the number is trusted.
 */
int engine_detect(const cJSON *root, struct engine *e)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	const char *number = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(version, "number"));
	const char *distribution =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(version, "distribution"));

	memset(e, 0, sizeof(*e));
	if (!number || sscanf(number, "%d.%d", &e->major, &e->minor) != 2)
		return -EPROTO;
	snprintf(e->version, sizeof(e->version), "%s", number);
	e->kind = distribution && !strcmp(distribution, "opensearch") ? ENGINE_OPENSEARCH
								       : ENGINE_ELASTICSEARCH;
	return 0;
}

const char *engine_name(enum engine_kind kind)
{
	switch (kind) {
	case ENGINE_ELASTICSEARCH: return "elasticsearch";
	case ENGINE_OPENSEARCH:    return "opensearch";
	default:                   return "unknown";
	}
}
