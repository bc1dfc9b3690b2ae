/* Which engine answers, from GET /: the tree adapts to each one's differences. */
#ifndef ESFS_ENGINE_H
#define ESFS_ENGINE_H

struct cJSON;

enum engine_kind {
	ENGINE_UNKNOWN = 0,
	ENGINE_ELASTICSEARCH,
	ENGINE_OPENSEARCH,
};

struct engine {
	enum engine_kind kind;
	int major;
	int minor;
	char version[32];
	int no_root_endpoint;	/* GET / is refused: ask GET _nodes/_local instead */
};

/* Fills e from the body of GET /; returns 0, or -EPROTO for an answer that is no engine's. */
int engine_detect(const struct cJSON *root, struct engine *e);
const char *engine_name(enum engine_kind kind);

#endif
