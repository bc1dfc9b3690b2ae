/*
 * Fuzzes the restore preflight (fs/restoreplan.c): a restore body a user
 * writes to restore.plan, and the engine's answers it is checked against.
 * Input: the body, a NUL byte, the snapshot (GET _snapshot/<repo>/<snap>'s
 * one snapshot), a NUL byte, the live indices (_cat/indices rows), a NUL
 * byte, the snapshot's _status. Checks: the plan's first line says
 * accepted exactly when the answer is 0, and refused otherwise; every
 * other line is a comment or five tab-separated fields with a known
 * verdict; an accepted plan's targets are valid index names, none twice.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/names.h"
#include "fs/restoreplan.h"
#include "fuzz.h"

static int known_verdict(const char *v, size_t len)
{
	static const char *const verdicts[] = { "restore", "replace", "skip", "refuse", "unchecked" };

	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (strlen(verdicts[i]) == len && !memcmp(v, verdicts[i], len))
			return 1;
	return 0;
}

/* One plan line: verdict, index, target, bytes, reason. Returns the target's copy for a restore, or NULL. */
static char *check_line(const char *line, size_t len)
{
	const char *field[5], *p = line, *end = line + len;
	size_t lens[5];
	int n = 0;

	while (n < 5) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));

		field[n] = p;
		lens[n] = (size_t)((tab ? tab : end) - p);
		n++;
		if (!tab)
			break;
		p = tab + 1;
	}
	FUZZ_CHECK(n == 5 && !memchr(field[4], '\t', lens[4]));
	FUZZ_CHECK(known_verdict(field[0], lens[0]));
	if (strncmp(field[0], "restore\t", 8) && strncmp(field[0], "replace\t", 8))
		return NULL;
	return fuzz_text((const uint8_t *)field[2], lens[2]);
}

static void check_plan(const struct buf *plan, int rc)
{
	char *targets[256];
	int ntargets = 0;
	const char *p = plan->data;

	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(rc ? !strncmp(p, "# refused: ", 11) : !strncmp(p, "# accepted", 10));
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *target = *p == '#' ? NULL : check_line(p, len);

		if (target && !rc) {
			FUZZ_CHECK(name_check_index(target, NULL, 0) == 0);
			for (int i = 0; i < ntargets; i++)
				FUZZ_CHECK(strcmp(targets[i], target) != 0);
		}
		if (target && ntargets < 256)
			targets[ntargets++] = target;
		else
			free(target);
		p = nl ? nl + 1 : NULL;
	}
	for (int i = 0; i < ntargets; i++)
		free(targets[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *texts[4];
	cJSON *json[4];
	struct buf plan = BUF_INIT;
	char why[1000] = "";
	int rc;

	for (int i = 0; i < 4; i++) {
		texts[i] = fuzz_until(&in, 0);
		json[i] = cJSON_Parse(texts[i]);
	}
	if (json[1]) {
		struct restore_inputs ri = { .body = json[0], .snapshot = json[1], .status = json[3],
					     .indices = json[2], .aliases = NULL, .managed = size & 1 };

		rc = restore_plan_make(&ri, &plan, why, sizeof(why));
		FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -EEXIST || rc == -EPERM ||
			   rc == -EOPNOTSUPP || rc == -ENOMEM);
		FUZZ_CHECK(!rc || why[0]);
		if (rc != -ENOMEM)
			check_plan(&plan, rc);
	}
	buf_free(&plan);
	for (int i = 0; i < 4; i++) {
		cJSON_Delete(json[i]);
		free(texts[i]);
	}
	return 0;
}
