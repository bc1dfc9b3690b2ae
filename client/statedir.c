/* The state directory (see client/statedir.h): plain files under ROOT/<cluster UUID>/. */
#include "client/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/sys.h"

struct statedir {
	pthread_mutex_t lock;	/* the first write makes the folder */
	int fd;		/* the cluster's folder, every file opened relative to it; -1 until it exists */
	char *root;
	char *key;
	char *path;
};

char *statedir_default_root(void)
{
	const char *xdg = env_value("XDG_STATE_HOME");
	const char *home = env_value("HOME");
	char *root = NULL;

	if (geteuid() == 0)
		return strdup("/var/lib/esfs");
	/* The XDG base directory spec ignores a relative value. */
	if (xdg && xdg[0] == '/' && asprintf(&root, "%s/esfs", xdg) < 0)
		return NULL;
	if (!root && home && asprintf(&root, "%s/.local/state/esfs", home) < 0)
		return NULL;
	return root;
}

/* A cluster UUID (base64url in both engines) or a file name esfs chose: nothing that walks. */
static int plain_name(const char *name, int is_key)
{
	if (!name[0] || name[0] == '.' || strlen(name) > 128)
		return 0;
	for (const char *p = name; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || (!is_key && *p == '.');

		if (!ok)
			return 0;
	}
	return 1;
}

/* mkdir -p, 0700 for what it makes: the state is nobody else's business. */
static int make_dirs(const char *path)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; !rc; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) && errno != EEXIST)
			rc = -errno;
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return rc;
}

/*
 * The cluster's folder: made (mode 0700, with root) when make is set and it
 * is missing; tightened to 0700 when it is ours and looser. The fd, or a
 * negative errno (-ENOENT: missing, and not to be made).
 */
static int open_key_dir(const char *root, const char *key, int make)
{
	struct stat st;
	int rootfd, fd, rc = make ? make_dirs(root) : 0;

	if (rc)
		return rc;
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	if (make && mkdirat(rootfd, key, 0700) && errno != EEXIST)
		fd = -errno;
	else if ((fd = openat(rootfd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		fd = -errno;
	close(rootfd);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077))
		fchmod(fd, 0700);
	return fd;
}

/* Nothing is made here: a mount that never keeps anything writes nothing. */
int statedir_open(const char *root, const char *key, struct statedir **out)
{
	struct statedir *sd;
	int fd;

	if (!plain_name(key, 1))
		return -EINVAL;
	fd = open_key_dir(root, key, 0);
	if (fd < 0 && fd != -ENOENT)
		return fd;
	sd = calloc(1, sizeof(*sd));
	if (!sd || !(sd->root = strdup(root)) || !(sd->key = strdup(key)) ||
	    asprintf(&sd->path, "%s/%s", root, key) < 0) {
		if (sd) {
			free(sd->root);
			free(sd->key);
		}
		free(sd);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&sd->lock, NULL);
	sd->fd = fd < 0 ? -1 : fd;
	*out = sd;
	return 0;
}

void statedir_free(struct statedir *sd)
{
	if (!sd)
		return;
	if (sd->fd >= 0)
		close(sd->fd);
	pthread_mutex_destroy(&sd->lock);
	free(sd->root);
	free(sd->key);
	free(sd->path);
	free(sd);
}

/* The folder's fd, made first when asked to: -ENOENT when it does not exist and make is 0. */
static int folder(struct statedir *sd, int make)
{
	int fd = -ENOENT;

	pthread_mutex_lock(&sd->lock);
	if (sd->fd < 0 && make) {
		fd = open_key_dir(sd->root, sd->key, 1);
		if (fd >= 0)
			sd->fd = fd;
	}
	fd = sd->fd >= 0 ? sd->fd : make ? fd : -ENOENT;
	pthread_mutex_unlock(&sd->lock);
	return fd;
}

const char *statedir_path(const struct statedir *sd)
{
	return sd->path;
}

static int read_all(int fd, struct buf *into)
{
	char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (into->len + (size_t)n > STATEDIR_FILE_MAX)
			return -EFBIG;
		if (buf_append(into, chunk, (size_t)n))
			return -ENOMEM;
	}
	return 0;
}

int statedir_read(struct statedir *sd, const char *name, struct buf *out)
{
	struct buf text = BUF_INIT;
	int dir, fd, rc;

	if (!plain_name(name, 0))
		return -EINVAL;
	dir = folder(sd, 0);
	if (dir < 0)
		return dir;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = read_all(fd, &text);
	close(fd);
	if (!rc)
		rc = buf_append(out, text.data ? text.data : "", text.len) ? -ENOMEM : 0;
	buf_free(&text);
	return rc;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A name of its own for each write, so that two writers never share a temporary file. */
static void temp_name(const char *name, char *tmp, size_t size)
{
	static atomic_uint counter;

	snprintf(tmp, size, ".%s.%ld.%u.tmp", name, (long)getpid(), atomic_fetch_add(&counter, 1));
}

int statedir_write(struct statedir *sd, const char *name, const void *data, size_t len)
{
	char tmp[200];
	int dir, fd, rc;

	if (!plain_name(name, 0))
		return -EINVAL;
	dir = folder(sd, 1);
	if (dir < 0)
		return dir;
	temp_name(name, tmp, sizeof(tmp));
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	/* The bytes on disk before the name points at them: else a crash leaves an empty file. */
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && renameat(dir, tmp, dir, name))
		rc = -errno;
	if (rc)
		unlinkat(dir, tmp, 0);
	/* The rename itself is in the folder: made durable by the folder's fsync. */
	else if (fsync(dir))
		rc = -errno;
	return rc;
}

int statedir_set_aside(struct statedir *sd, const char *name, char *aside, size_t size)
{
	char stamp[32], moved[200];
	time_t now = time(NULL);
	struct tm tm;
	int dir;

	if (!plain_name(name, 0))
		return -EINVAL;
	dir = folder(sd, 0);
	if (dir < 0)
		return dir;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(moved, sizeof(moved), "%s.bad-%s", name, stamp);
	if (renameat(dir, name, dir, moved))
		return -errno;
	if (aside)
		snprintf(aside, size, "%s", moved);
	return 0;
}
