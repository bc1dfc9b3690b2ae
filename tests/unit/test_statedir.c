/* client/statedir.c: one folder per cluster, 0700; files replaced whole; bad names refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/statedir.h"
#include "unit.h"

static char *temp_root(void)
{
	char tmpl[] = "/tmp/esfs-unit-state-XXXXXX";
	char *dir = mkdtemp(tmpl), *root = NULL;

	CHECK(dir != NULL);
	/* A root that does not exist yet, two levels down: made as mkdir -p would. */
	if (dir && asprintf(&root, "%s/a/b", dir) < 0)
		root = NULL;
	return root;
}

static void mode_of(const char *path, mode_t *mode)
{
	struct stat st;

	CHECK_INT(stat(path, &st), 0);
	*mode = st.st_mode & 07777;
}

static void a_folder_per_key_made_private(void)
{
	char *root = temp_root();
	struct statedir *sd = NULL;
	mode_t mode = 0;

	CHECK_INT(statedir_open(root, "TZv306TGQ2qjSDflGWzmHg", &sd), 0);
	CHECK(sd != NULL);
	CHECK_INT(statedir_write(sd, "f", "x", 1), 0);
	mode_of(statedir_path(sd), &mode);
	CHECK_INT(mode, 0700);
	mode_of(root, &mode);
	CHECK_INT(mode, 0700);
	statedir_free(sd);
	free(root);
}

static void nothing_is_made_before_the_first_write(void)
{
	char *root = temp_root();
	struct statedir *sd;
	struct buf b = BUF_INIT;
	struct stat st;
	char aside[64];

	CHECK_INT(statedir_open(root, "k", &sd), 0);
	CHECK_INT(statedir_read(sd, "f", &b), -ENOENT);
	CHECK_INT(statedir_set_aside(sd, "f", aside, sizeof(aside)), -ENOENT);
	CHECK_INT(stat(root, &st), -1);
	CHECK_INT(errno, ENOENT);
	statedir_free(sd);
	free(root);
}

static void a_root_that_is_a_file_is_refused(void)
{
	char tmpl[] = "/tmp/esfs-unit-state-XXXXXX";
	char *dir = mkdtemp(tmpl), *file = NULL;
	struct statedir *sd = NULL;
	FILE *f;

	CHECK(dir && asprintf(&file, "%s/file", dir) > 0);
	f = fopen(file, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK_INT(statedir_open(file, "k", &sd), -ENOTDIR);
	CHECK(sd == NULL);
	free(file);
}

static void keys_and_names_that_walk_are_refused(void)
{
	char *root = temp_root();
	struct statedir *sd = (struct statedir *)&root;	/* must stay untouched */
	struct buf b = BUF_INIT;

	CHECK_INT(statedir_open(root, "../x", &sd), -EINVAL);
	CHECK_INT(statedir_open(root, "", &sd), -EINVAL);
	CHECK_INT(statedir_open(root, ".hidden", &sd), -EINVAL);
	CHECK_INT(statedir_open(root, "a.b", &sd), -EINVAL);
	CHECK(sd == (struct statedir *)&root);
	CHECK_INT(statedir_open(root, "k", &sd), 0);
	CHECK_INT(statedir_write(sd, "../up", "x", 1), -EINVAL);
	CHECK_INT(statedir_write(sd, ".dot", "x", 1), -EINVAL);
	CHECK_INT(statedir_read(sd, "a/b", &b), -EINVAL);
	statedir_free(sd);
	free(root);
}

static void files_are_replaced_whole(void)
{
	char *root = temp_root(), path[512];
	struct statedir *sd;
	struct buf b = BUF_INIT;
	mode_t mode = 0;

	CHECK_INT(statedir_open(root, "k", &sd), 0);
	CHECK_INT(statedir_read(sd, "f.json", &b), -ENOENT);
	CHECK_INT(statedir_write(sd, "f.json", "first, longer text\n", 19), 0);
	CHECK_INT(statedir_write(sd, "f.json", "second\n", 7), 0);
	CHECK_INT(statedir_read(sd, "f.json", &b), 0);
	CHECK_STR(b.data, "second\n");
	snprintf(path, sizeof(path), "%s/f.json", statedir_path(sd));
	mode_of(path, &mode);
	CHECK_INT(mode, 0600);
	buf_free(&b);
	statedir_free(sd);
	/* Another open of the same key finds the file; another key does not. */
	CHECK_INT(statedir_open(root, "k", &sd), 0);
	CHECK_INT(statedir_read(sd, "f.json", &b), 0);
	CHECK_STR(b.data, "second\n");
	statedir_free(sd);
	buf_free(&b);
	CHECK_INT(statedir_open(root, "other", &sd), 0);
	CHECK_INT(statedir_read(sd, "f.json", &b), -ENOENT);
	statedir_free(sd);
	free(root);
}

static void no_temporary_file_is_left(void)
{
	char *root = temp_root(), cmd[600], line[64] = "";
	struct statedir *sd;
	FILE *p;

	CHECK_INT(statedir_open(root, "k", &sd), 0);
	for (int i = 0; i < 5; i++)
		CHECK_INT(statedir_write(sd, "f.json", "x\n", 2), 0);
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", statedir_path(sd));
	p = popen(cmd, "r");
	CHECK(p && fgets(line, sizeof(line), p));
	if (p)
		pclose(p);
	CHECK_STR(line, "1\n");
	statedir_free(sd);
	free(root);
}

static void a_file_set_aside_keeps_its_bytes(void)
{
	char *root = temp_root(), aside[128] = "";
	struct statedir *sd;
	struct buf b = BUF_INIT;

	CHECK_INT(statedir_open(root, "k", &sd), 0);
	CHECK_INT(statedir_set_aside(sd, "f.json", aside, sizeof(aside)), -ENOENT);
	CHECK_INT(statedir_write(sd, "f.json", "{garbage", 8), 0);
	CHECK_INT(statedir_set_aside(sd, "f.json", aside, sizeof(aside)), 0);
	CHECK(!strncmp(aside, "f.json.bad-", 11));
	CHECK_INT(statedir_read(sd, "f.json", &b), -ENOENT);
	CHECK_INT(statedir_read(sd, aside, &b), 0);
	CHECK_STR(b.data, "{garbage");
	buf_free(&b);
	statedir_free(sd);
	free(root);
}

static void default_root_follows_xdg(void)
{
	char *root;

	if (geteuid() == 0) {
		root = statedir_default_root();
		CHECK_STR(root, "/var/lib/esfs");
		free(root);
		return;
	}
	setenv("XDG_STATE_HOME", "/x/state", 1);
	root = statedir_default_root();
	CHECK_STR(root, "/x/state/esfs");
	free(root);
	setenv("XDG_STATE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	root = statedir_default_root();
	CHECK_STR(root, "/home/u/.local/state/esfs");
	free(root);
}

static const struct unit_case cases[] = {
	{ "a_folder_per_key_made_private", a_folder_per_key_made_private },
	{ "nothing_is_made_before_the_first_write", nothing_is_made_before_the_first_write },
	{ "a_root_that_is_a_file_is_refused", a_root_that_is_a_file_is_refused },
	{ "keys_and_names_that_walk_are_refused", keys_and_names_that_walk_are_refused },
	{ "files_are_replaced_whole", files_are_replaced_whole },
	{ "no_temporary_file_is_left", no_temporary_file_is_left },
	{ "a_file_set_aside_keeps_its_bytes", a_file_set_aside_keeps_its_bytes },
	{ "default_root_follows_xdg", default_root_follows_xdg },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
