/*
 * Fuzzes path parsing (fs/path.c: path_parse, path_parse_parent) and the
 * name checks (fs/names.c) with the paths and names the kernel hands esfs.
 * Checks: a parsed node's names are the path's own, valid UTF-8 and at most
 * NAME_MAX_BYTES; a name the checks accept has none of what the engines
 * refuse; and the reason given for a refusal is one line of valid UTF-8
 * (it goes into the log and /_esfs/errors), even when cut short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/utf8.h"
#include "fs/names.h"
#include "fs/nodes.h"
#include "fs/path.h"
#include "fuzz.h"

static void check_name_slot(const char *name, const char *path)
{
	size_t len = strlen(name);

	FUZZ_CHECK(len <= NAME_MAX_BYTES);
	FUZZ_CHECK(utf8_invalid_at(name, len) == len);
	FUZZ_CHECK(!len || strstr(path, name));
}

static void check_parse(const char *path)
{
	struct node n;
	int rc = path_parse(path, &n);

	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG || rc == -EINVAL);
	if (rc)
		return;
	FUZZ_CHECK(n.kind >= NODE_ROOT && n.kind < NODE_KIND_COUNT);
	check_name_slot(n.repo, path);
	check_name_slot(n.snap, path);
	check_name_slot(n.entry, path);
	/* Only the cluster's own names go in the slots, never esfs's "_" names. */
	FUZZ_CHECK(n.repo[0] != '_' && n.snap[0] != '_' && n.entry[0] != '_');
}

static void check_parent(const char *path)
{
	struct node parent;
	char name[NAME_MAX_BYTES + 1];
	int rc = path_parse_parent(path, &parent, name);

	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG || rc == -EINVAL);
	if (rc)
		return;
	/* Whether the parent is a directory is for mkdir to say (ENOTDIR). */
	FUZZ_CHECK(strlen(name) <= NAME_MAX_BYTES && *name && !strchr(name, '/'));
	FUZZ_CHECK(parent.kind >= NODE_ROOT && parent.kind < NODE_KIND_COUNT);
}

/* A refusal's reason, in a buffer as small as the input says: still one line of UTF-8. */
static void check_reason(const char *why, int rc)
{
	size_t len = strlen(why);

	if (!rc)
		return;
	FUZZ_CHECK(utf8_invalid_at(why, len) == len);
	FUZZ_CHECK(!strpbrk(why, "\n\r"));
}

static void check_accepted(const char *name, int snapshot)
{
	size_t len = strlen(name);

	FUZZ_CHECK(len > 0 && len <= NAME_MAX_BYTES && name[0] != '_');
	FUZZ_CHECK(utf8_invalid_at(name, len) == len);
	FUZZ_CHECK(strcmp(name, ".") && strcmp(name, ".."));
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		FUZZ_CHECK(*p >= 0x20 && *p != 0x7f && !strchr("\\/*?\"<>|,# ", *p));
		FUZZ_CHECK(!snapshot || *p < 'A' || *p > 'Z');
	}
}

static void check_names(const char *name, size_t why_len)
{
	char why[512];
	int rc;

	why[0] = '\0';
	rc = name_check_repository(name, why, why_len);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	check_reason(why, rc);
	if (!rc)
		check_accepted(name, 0);
	why[0] = '\0';
	rc = name_check_snapshot(name, why, why_len);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	check_reason(why, rc);
	if (!rc)
		check_accepted(name, 1);
}

/* The first byte sizes the reason's buffer (1 to 256 bytes); the rest is the path, and the name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	size_t why_len = (size_t)fuzz_byte(&in) + 1;
	char *path = fuzz_text(in.data, in.left);

	check_parse(path);
	check_parent(path);
	check_names(path, why_len);
	free(path);
	return 0;
}
