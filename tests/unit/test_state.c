/* fs/state.c: texts and pending repositories, and their file in the cluster's state folder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/state.h"
#include "unit.h"

static int collect(void *ctx, const char *name)
{
	buf_printf(ctx, "%s;", name);
	return 0;
}

static void texts_are_kept_and_replaced(void)
{
	struct mount_state *st = state_new();
	struct buf b = BUF_INIT;

	CHECK_INT(state_get(st, "defaults/r", &b), -ENOENT);
	CHECK_INT(state_set(st, "defaults/r", "{\"a\": 1}\n"), 0);
	CHECK_INT(state_get(st, "defaults/r", &b), 0);
	CHECK_STR(b.data, "{\"a\": 1}\n");
	buf_reset(&b);
	CHECK_INT(state_set(st, "defaults/r", "{}\n"), 0);
	CHECK_INT(state_get(st, "defaults/r", &b), 0);
	CHECK_STR(b.data, "{}\n");
	buf_free(&b);
	state_free(st);
}

static void pending_repositories_keep_their_order(void)
{
	struct mount_state *st = state_new();
	struct buf b = BUF_INIT;

	CHECK_INT(state_pending_add(st, "b"), 0);
	CHECK_INT(state_pending_add(st, "a"), 0);
	CHECK_INT(state_pending_add(st, "b"), -EEXIST);
	CHECK(state_pending_has(st, "a"));
	state_pending_each(st, collect, &b);
	CHECK_STR(b.data, "b;a;");
	CHECK_INT(state_pending_remove(st, "b"), 0);
	CHECK_INT(state_pending_remove(st, "b"), -ENOENT);
	CHECK(!state_pending_has(st, "b"));
	buf_free(&b);
	state_free(st);
}

static char *state_root(void)
{
	char tmpl[] = "/tmp/esfs-unit-mstate-XXXXXX";
	char *dir = mkdtemp(tmpl);

	CHECK(dir != NULL);
	return dir ? strdup(dir) : NULL;
}

static struct mount_state *attached(const char *root, const char *key)
{
	struct mount_state *st = state_new();
	struct statedir *sd;

	CHECK_INT(statedir_open(root, key, &sd), 0);
	CHECK_INT(state_attach(st, sd), 0);
	return st;
}

static void the_state_outlives_the_mount(void)
{
	char *root = state_root();
	struct mount_state *st = attached(root, "c1");
	struct buf b = BUF_INIT;

	CHECK_INT(state_set(st, "defaults/r", "{\"indices\": \"a\"}\n"), 0);
	CHECK_INT(state_pending_add(st, "p1"), 0);
	CHECK_INT(state_pending_add(st, "p2"), 0);
	CHECK_INT(state_pending_remove(st, "p1"), 0);
	state_free(st);
	st = attached(root, "c1");
	CHECK_INT(state_get(st, "defaults/r", &b), 0);
	CHECK_STR(b.data, "{\"indices\": \"a\"}\n");
	buf_reset(&b);
	state_pending_each(st, collect, &b);
	CHECK_STR(b.data, "p2;");
	state_free(st);
	/* Another cluster's folder holds none of it. */
	st = attached(root, "c2");
	CHECK_INT(state_get(st, "defaults/r", &b), -ENOENT);
	CHECK(!state_pending_has(st, "p2"));
	state_free(st);
	buf_free(&b);
	free(root);
}

static void what_this_mount_set_wins_over_the_file(void)
{
	char *root = state_root();
	struct mount_state *st = attached(root, "c");
	struct statedir *sd;
	struct buf b = BUF_INIT;

	state_set(st, "defaults/r", "{\"saved\": 1}");
	state_set(st, "defaults/s", "{\"saved\": 2}");
	state_pending_add(st, "old");
	state_free(st);
	/* Set before the cluster's UUID was known: kept, and merged with the file. */
	st = state_new();
	state_set(st, "defaults/r", "{\"new\": 1}");
	state_pending_add(st, "new");
	CHECK_INT(statedir_open(root, "c", &sd), 0);
	CHECK_INT(state_attach(st, sd), 0);
	CHECK_INT(state_get(st, "defaults/r", &b), 0);
	CHECK_STR(b.data, "{\"new\": 1}");
	buf_reset(&b);
	CHECK_INT(state_get(st, "defaults/s", &b), 0);
	CHECK_STR(b.data, "{\"saved\": 2}");
	buf_reset(&b);
	state_pending_each(st, collect, &b);
	CHECK_STR(b.data, "old;new;");
	state_free(st);
	/* ... and the merge was written. */
	st = attached(root, "c");
	buf_reset(&b);
	state_pending_each(st, collect, &b);
	CHECK_STR(b.data, "old;new;");
	state_free(st);
	buf_free(&b);
	free(root);
}

/* A file that is not what esfs writes: an empty state, the file kept aside, and a working state. */
static void check_bad_file(const char *content)
{
	char *root = state_root(), cmd[600], line[256] = "";
	struct mount_state *st;
	struct statedir *sd;
	struct buf b = BUF_INIT;
	FILE *p;

	CHECK_INT(statedir_open(root, "c", &sd), 0);
	CHECK_INT(statedir_write(sd, STATE_FILE, content, strlen(content)), 0);
	statedir_free(sd);
	st = attached(root, "c");
	CHECK_INT(state_get(st, "defaults/r", &b), -ENOENT);
	CHECK_INT(state_set(st, "defaults/r", "{}"), 0);
	state_free(st);
	snprintf(cmd, sizeof(cmd), "cat '%s'/c/" STATE_FILE ".bad-*", root);
	p = popen(cmd, "r");
	CHECK(p && fgets(line, sizeof(line), p));
	if (p)
		pclose(p);
	CHECK(!strncmp(line, content, strlen(line)));
	st = attached(root, "c");
	CHECK_INT(state_get(st, "defaults/r", &b), 0);
	state_free(st);
	buf_free(&b);
	free(root);
}

/* Each kind of text esfs keeps comes back from the file; one unset stays unset. */
static void every_kind_of_text_survives_and_unset_is_saved(void)
{
	static const char *const keys[] = { "defaults/r", "restore/r/s", "policy/r", "policy-run/r" };
	char *root = state_root();
	struct mount_state *st = attached(root, "c");
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK_INT(state_set(st, keys[i], "{\"k\": 1}"), 0);
	CHECK_INT(state_unset(st, "policy-run/r"), 0);
	CHECK_INT(state_unset(st, "policy-run/r"), -ENOENT);
	state_free(st);
	st = attached(root, "c");
	for (size_t i = 0; i < 3; i++) {
		buf_reset(&b);
		CHECK_INT(state_get(st, keys[i], &b), 0);
		CHECK_STR(b.data, "{\"k\": 1}");
	}
	CHECK_INT(state_get(st, "policy-run/r", &b), -ENOENT);
	state_free(st);
	buf_free(&b);
	free(root);
}

static void a_corrupted_file_gives_an_empty_state_and_is_kept(void)
{
	check_bad_file("{\"version\": 1, \"pending\": [\"a\"");
	check_bad_file("{\"version\": 2, \"pending\": [], \"texts\": {}}");
	check_bad_file("{\"version\": 1, \"pending\": [\"../x\"], \"texts\": {}}");
	check_bad_file("{\"version\": 1, \"pending\": [], \"texts\": {\"defaults/r\": \"{nope\"}}");
	check_bad_file("{\"version\": 1, \"pending\": [], \"texts\": {\"other/r\": \"{}\"}}");
}

static int later_calls;

static int locate_later(void *ctx, struct statedir **out)
{
	later_calls++;
	if (later_calls == 1)
		return -EAGAIN;
	return statedir_open(ctx, "late", out);
}

static void the_state_is_found_later_when_the_cluster_was_away(void)
{
	char *root = state_root();
	struct mount_state *st = state_new();
	struct buf b = BUF_INIT;

	later_calls = 0;
	state_locate_with(st, locate_later, root);
	CHECK_INT(state_set(st, "defaults/r", "{}"), 0);	/* first call: -EAGAIN */
	CHECK_INT(later_calls, 1);
	state_get(st, "defaults/r", &b);			/* within a second: not asked */
	CHECK_INT(later_calls, 1);
	state_free(st);
	CHECK(later_calls == 1);
	st = state_new();
	later_calls = 1;				/* the next call finds the folder */
	state_locate_with(st, locate_later, root);
	CHECK_INT(state_pending_add(st, "p"), 0);
	CHECK_INT(later_calls, 2);
	state_free(st);
	st = attached(root, "late");
	CHECK(state_pending_has(st, "p"));
	state_free(st);
	buf_free(&b);
	free(root);
}

static const struct unit_case cases[] = {
	{ "the_state_outlives_the_mount", the_state_outlives_the_mount },
	{ "what_this_mount_set_wins_over_the_file", what_this_mount_set_wins_over_the_file },
	{ "every_kind_of_text_survives_and_unset_is_saved", every_kind_of_text_survives_and_unset_is_saved },
	{ "a_corrupted_file_gives_an_empty_state_and_is_kept", a_corrupted_file_gives_an_empty_state_and_is_kept },
	{ "the_state_is_found_later_when_the_cluster_was_away", the_state_is_found_later_when_the_cluster_was_away },
	{ "texts_are_kept_and_replaced", texts_are_kept_and_replaced },
	{ "pending_repositories_keep_their_order", pending_repositories_keep_their_order },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
