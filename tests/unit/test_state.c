#include <errno.h>

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

static const struct unit_case cases[] = {
	{ "texts_are_kept_and_replaced", texts_are_kept_and_replaced },
	{ "pending_repositories_keep_their_order", pending_repositories_keep_their_order },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
