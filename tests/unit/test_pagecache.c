/* fs/pagecache.c: the kernel keeps a file's pages only while its bytes stay the same. */
#include <errno.h>

#include "fs/pagecache.h"
#include "unit.h"

static int serve(struct pagecache *pc, const char *path, const char *text)
{
	return pagecache_serve(pc, path, text, strlen(text));
}

static void kept_only_while_the_bytes_are_the_same(void)
{
	struct pagecache *pc = pagecache_new(3600);

	CHECK_INT(serve(pc, "/r/s/info.json", "{\"uuid\":\"aaaa\"}"), 0);	/* new: drop */
	CHECK_INT(serve(pc, "/r/s/info.json", "{\"uuid\":\"aaaa\"}"), 1);	/* same: keep */
	/* Taken again: same length, other bytes. */
	CHECK_INT(serve(pc, "/r/s/info.json", "{\"uuid\":\"bbbb\"}"), 0);
	CHECK_INT(serve(pc, "/r/s/info.json", "{\"uuid\":\"bbbb\"}"), 1);
	CHECK_INT(serve(pc, "/r/s/info.json", "{\"uuid\":\"bbbb\"} "), 0);
	CHECK_INT(serve(pc, "/r/s/info.json", ""), 0);
	CHECK_INT(serve(pc, "/r/s/info.json", ""), 1);
	pagecache_free(pc);
}

static void each_path_on_its_own(void)
{
	struct pagecache *pc = pagecache_new(3600);

	CHECK_INT(serve(pc, "/r/a/indices", "x\n"), 0);
	CHECK_INT(serve(pc, "/r/b/indices", "x\n"), 0);
	CHECK_INT(serve(pc, "/r/a/indices", "x\n"), 1);
	CHECK_INT(serve(pc, "/r/b/indices", "y\n"), 0);
	CHECK_INT(serve(pc, "/r/a/indices", "x\n"), 1);
	pagecache_free(pc);
}

/* Past its bound it forgets every path: each is dropped once more, never kept wrongly. */
static void many_paths_never_kept_wrongly(void)
{
	struct pagecache *pc = pagecache_new(3600);
	char path[64];

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 250000; i++) {
			int got;

			snprintf(path, sizeof(path), "/r/s-%d/state", i);
			got = serve(pc, path, round ? "FAILED\n" : "SUCCESS\n");
			if (got != 0) {
				CHECK_INT(got, 0);
				break;
			}
		}
	}
	pagecache_free(pc);
}

/* A listing of 100,000 snapshots notes as many paths: each still found once the table has grown. */
static void every_path_found_as_the_table_grows(void)
{
	struct pagecache *pc = pagecache_new(3600);
	char path[64];
	int kept = 0;

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100000; i++) {
			snprintf(path, sizeof(path), "/r/s-%d/state", i);
			kept += serve(pc, path, "SUCCESS\n");
		}
	}
	CHECK_INT(kept, 100000);
	pagecache_free(pc);
}

/* Serves n other paths, enough for a sweep to run. */
static void serve_others(struct pagecache *pc, int n)
{
	char path[64];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/r/other-%d/state", i);
		serve(pc, path, "SUCCESS\n");
	}
}

/* Snapshots come and go for as long as a mount lives: their paths go too, once unused for a while. */
static void paths_unused_for_long_are_forgotten(void)
{
	struct pagecache *gone = pagecache_new(0), *kept = pagecache_new(3600);

	CHECK_INT(serve(gone, "/r/s/state", "SUCCESS\n"), 0);
	CHECK_INT(serve(kept, "/r/s/state", "SUCCESS\n"), 0);
	serve_others(gone, 5000);
	serve_others(kept, 5000);
	CHECK_INT(serve(gone, "/r/s/state", "SUCCESS\n"), 0);	/* forgotten: new to the kernel again */
	CHECK_INT(serve(kept, "/r/s/state", "SUCCESS\n"), 1);
	pagecache_free(gone);
	pagecache_free(kept);
}

/* A flush takes every path the kernel may hold, attributes or pages, and forgets them all. */
static void a_flush_takes_every_path_once(void)
{
	struct pagecache *pc = pagecache_new(3600);
	size_t count = 99;
	char **paths;
	int saw_state = 0, saw_dir = 0;

	CHECK(pagecache_take_all(pc, &count) == NULL);
	CHECK_INT((int)count, 0);
	CHECK_INT(serve(pc, "/r/s/state", "SUCCESS\n"), 0);
	CHECK_INT(pagecache_note(pc, "/r/s/state"), 0);	/* noted: its bytes are still known */
	CHECK_INT(serve(pc, "/r/s/state", "SUCCESS\n"), 1);
	CHECK_INT(pagecache_note(pc, "/r/s"), 0);
	CHECK_INT(pagecache_note(pc, "/r/s"), 0);
	paths = pagecache_take_all(pc, &count);
	CHECK_INT((int)count, 2);
	for (size_t i = 0; paths && i < count; i++) {
		saw_state += !strcmp(paths[i], "/r/s/state");
		saw_dir += !strcmp(paths[i], "/r/s");
		free(paths[i]);
	}
	free(paths);
	CHECK_INT(saw_state, 1);
	CHECK_INT(saw_dir, 1);
	/* Forgotten: the same bytes are new to the kernel again, and a noted path never counts as kept. */
	CHECK_INT(serve(pc, "/r/s/state", "SUCCESS\n"), 0);
	CHECK_INT(pagecache_note(pc, "/r/t/state"), 0);
	CHECK_INT(serve(pc, "/r/t/state", "SUCCESS\n"), 0);
	pagecache_free(pc);
}

static const struct unit_case cases[] = {
	{ "kept_only_while_the_bytes_are_the_same", kept_only_while_the_bytes_are_the_same },
	{ "each_path_on_its_own", each_path_on_its_own },
	{ "many_paths_never_kept_wrongly", many_paths_never_kept_wrongly },
	{ "every_path_found_as_the_table_grows", every_path_found_as_the_table_grows },
	{ "a_flush_takes_every_path_once", a_flush_takes_every_path_once },
	{ "paths_unused_for_long_are_forgotten", paths_unused_for_long_are_forgotten },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
