/*
 * client/starts.c: start times kept between mounts. A new listing (a new
 * mount) gets back the times of the finished snapshots an earlier one knew,
 * for the same UUID only; running ones are never kept; a file esfs did not
 * write is set aside, and the times are asked for again.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/snaplist.h"
#include "client/starts.h"
#include "client/statedir.h"
#include "unit.h"

static struct snaplist *listing(const char *text)
{
	struct snaplist *l = NULL;

	CHECK_INT(snaplist_parse(text, strlen(text), &l), 0);
	if (!l)
		exit(1);
	return l;
}

#define SNAP(name, uuid, state) \
	"{\"snapshot\":\"" name "\",\"uuid\":\"" uuid "\",\"state\":\"" state "\",\"indices\":[]}"

static const char *const first = "{\"snapshots\":[" SNAP("a", "uuid-a", "SUCCESS") ","
	SNAP("b", "uuid-b", "FAILED") "," SNAP("r", "uuid-r", "IN_PROGRESS") "]}";

static struct statedir *fresh_dir(char *root, size_t size)
{
	struct statedir *sd = NULL;

	snprintf(root, size, "/tmp/esfs-unit-starts-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(statedir_open(root, "cluster", &sd), 0);
	return sd;
}

static void settle(struct snaplist *l, const char *name, long long ms)
{
	struct snap_row *row = snaplist_find(l, name);

	CHECK(snaplist_claim(row));
	snaplist_settle(l, row, ms);
}

static long long start_of(struct snaplist *l, const char *name)
{
	return atomic_load(&snaplist_find(l, name)->start_ms);
}

static void remove_tree(const char *root)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK_INT(system(cmd), 0);
}

static void finished_snapshots_start_times_come_back(void)
{
	char root[64];
	struct statedir *sd = fresh_dir(root, sizeof(root));
	struct snaplist *was = listing(first), *now;

	settle(was, "a", 1000);
	settle(was, "b", 2000);
	settle(was, "r", 3000);
	CHECK_INT(starts_save(sd, "repo", was), 0);

	/* Taken again as a new snapshot (another UUID): its old time is not its time. */
	now = listing("{\"snapshots\":[" SNAP("a", "uuid-a", "SUCCESS") "," SNAP("b", "uuid-b2", "SUCCESS")
		      "," SNAP("r", "uuid-r", "SUCCESS") "," SNAP("n", "uuid-n", "SUCCESS") "]}");
	CHECK_INT(starts_load(sd, "repo", now), 1);
	CHECK_INT(start_of(now, "a"), 1000);
	CHECK_INT(start_of(now, "b"), SNAP_START_UNKNOWN);
	/* Running when saved: not kept, asked for afresh. */
	CHECK_INT(start_of(now, "r"), SNAP_START_UNKNOWN);
	CHECK_INT(start_of(now, "n"), SNAP_START_UNKNOWN);
	snaplist_free(now);

	/* Another repository's times are its own. */
	now = listing(first);
	CHECK_INT(starts_load(sd, "other", now), 0);
	CHECK_INT(start_of(now, "a"), SNAP_START_UNKNOWN);
	snaplist_free(now);
	snaplist_free(was);
	statedir_free(sd);
	remove_tree(root);
}

static void gone_snapshots_dropped_at_the_next_save(void)
{
	char root[64];
	struct statedir *sd = fresh_dir(root, sizeof(root));
	struct snaplist *was = listing(first), *now, *after;

	settle(was, "a", 1000);
	settle(was, "b", 2000);
	CHECK_INT(starts_save(sd, "repo", was), 0);
	now = listing("{\"snapshots\":[" SNAP("b", "uuid-b", "FAILED") "]}");
	CHECK_INT(starts_load(sd, "repo", now), 1);
	CHECK_INT(starts_save(sd, "repo", now), 0);
	after = listing(first);
	CHECK_INT(starts_load(sd, "repo", after), 1);
	CHECK_INT(start_of(after, "a"), SNAP_START_UNKNOWN);
	CHECK_INT(start_of(after, "b"), 2000);
	snaplist_free(after);
	snaplist_free(now);
	snaplist_free(was);
	statedir_free(sd);
	remove_tree(root);
}

/* The set-aside copy keeps what the file held: nobody's data is destroyed. */
static int set_aside_copies(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ".bad-") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void a_file_esfs_did_not_write_is_set_aside(void)
{
	static const char *const garbage[] = { "", "{\"json\": true}\n", "esfs snapshot starts 1 repo\nuuid-a x\n",
		"esfs snapshot starts 1 repo\nuuid-a 12", "esfs snapshot starts 1 repo\nuu id-a 12\n" };

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		char root[64], dir[128], name[512];
		struct statedir *sd = fresh_dir(root, sizeof(root));
		struct snaplist *was = listing(first), *now = listing(first);
		DIR *d;
		struct dirent *e;
		FILE *f;

		settle(was, "a", 1000);
		CHECK_INT(starts_save(sd, "repo", was), 0);
		snprintf(dir, sizeof(dir), "%s/cluster", root);
		d = opendir(dir);
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "starts-", 7))
				snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
		if (d)
			closedir(d);
		f = fopen(name, "w");
		CHECK(f != NULL);
		if (f) {
			fputs(garbage[i], f);
			fclose(f);
		}
		CHECK_INT(starts_load(sd, "repo", now), 0);
		CHECK_INT(start_of(now, "a"), SNAP_START_UNKNOWN);
		CHECK_INT(set_aside_copies(dir), 1);
		CHECK(access(name, F_OK) != 0);
		snaplist_free(now);
		snaplist_free(was);
		statedir_free(sd);
		remove_tree(root);
	}
}

static const struct unit_case cases[] = {
	{ "finished_snapshots_start_times_come_back", finished_snapshots_start_times_come_back },
	{ "gone_snapshots_dropped_at_the_next_save", gone_snapshots_dropped_at_the_next_save },
	{ "a_file_esfs_did_not_write_is_set_aside", a_file_esfs_did_not_write_is_set_aside },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
