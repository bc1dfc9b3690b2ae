/*
 * credential_process: runs the user's command and reads the credentials it prints (see
 * process.h).
 */
#include "client/aws/process.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/aws/fetch.h"
#include "client/buf.h"
#include "client/sys.h"

#define MAX_OUTPUT (64u << 10)
#define MAX_STDERR 4096u

extern char **environ;

int aws_process_parse(const char *json, size_t len, time_t now, struct aws_credentials *out,
		      char *why, size_t why_len)
{
	cJSON *root = json ? cJSON_ParseWithLength(json, len) : NULL;
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "Version");
	int rc;

	if (!cJSON_IsObject(root)) {
		snprintf(why, why_len, "its output is not a JSON object");
		aws_json_wipe_delete(root);
		return -EINVAL;
	}
	/* The SDKs refuse any other version: its fields could mean something else. */
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		snprintf(why, why_len, "its output has no \"Version\": 1");
		aws_json_wipe_delete(root);
		return -EINVAL;
	}
	aws_json_wipe_delete(root);
	rc = aws_credentials_from_json(json, len, now, out, why, why_len);
	return rc;
}

/* ---- running it ---- */

struct child {
	pid_t pid;
	int out, err;
};

static int spawn(const char *command, struct child *c)
{
	char *argv[] = { "/bin/sh", "-c", (char *)command, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int out[2], err[2], rc;

	if (pipe2(out, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		rc = -errno;
		close(out[0]);
		close(out[1]);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* Nothing else of esfs's: a command that lingers must not hold /dev/fuse or a socket. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	posix_spawnattr_init(&attr);
	/* Its own group, so that a timeout kills what the shell started too. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	rc = -posix_spawn(&c->pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	c->out = out[0];
	c->err = err[0];
	if (rc) {
		close(c->out);
		close(c->err);
	}
	return rc;
}

/* Reads what is there; returns 0 at end of file, 1 for more, -1 when over the limit. */
static int drain(int fd, struct buf *b, size_t limit)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	int rc = 1;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	if (b->len + (size_t)n > limit || buf_append(b, chunk, (size_t)n))
		rc = -1;
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

/* Collects stdout and stderr until both close. Returns 0, -ETIMEDOUT or -EFBIG. */
static int collect(const struct child *c, double deadline, struct buf *out, struct buf *err)
{
	struct pollfd fds[2] = { { c->out, POLLIN, 0 }, { c->err, POLLIN, 0 } };

	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		long left = (long)((deadline - monotonic_seconds()) * 1000);
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(fds, 2, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < 2 && n > 0; i++) {
			int more;

			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			more = drain(fds[i].fd, i ? err : out, i ? MAX_STDERR : MAX_OUTPUT);
			if (more < 0 && i == 0)
				return -EFBIG;
			if (more <= 0)
				fds[i].fd = -1;
		}
	}
	return 0;
}

/*
 * The shell's exit status. A shell that closed its output but goes on is
 * given until the deadline too, then killed with its group.
 */
static int wait_child(pid_t pid, int kill_it, double deadline)
{
	int status = 0;
	pid_t got;

	if (kill_it)
		kill(-pid, SIGKILL);
	while ((got = waitpid(pid, &status, kill_it ? 0 : WNOHANG)) <= 0) {
		if (got < 0 && errno != EINTR)
			return -1;
		if (got == 0 && monotonic_seconds() >= deadline) {
			kill(-pid, SIGKILL);
			kill_it = 1;
		} else if (got == 0) {
			usleep(10000);
		}
	}
	return status;
}

static void describe_failure(int rc, int status, long timeout_ms, const struct buf *err,
			     char *why, size_t why_len)
{
	size_t n = err->data ? strcspn(err->data, "\r\n") : 0;
	char what[96];

	if (rc == -ETIMEDOUT)
		snprintf(what, sizeof(what), "ran longer than %ld ms and was killed", timeout_ms);
	else if (rc == -EFBIG)
		snprintf(what, sizeof(what), "wrote more than %u bytes", MAX_OUTPUT);
	else if (rc)
		snprintf(what, sizeof(what), "could not run: %s", strerror(-rc));
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "was killed by signal %d", WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "exited with status %d", WEXITSTATUS(status));
	snprintf(why, why_len, "%s%s%.*s", what, n ? ": " : "", (int)(n > 200 ? 200 : n),
		 n ? err->data : "");
}

int aws_process_fetch(const char *command, long timeout_ms, time_t now,
		      struct aws_credentials *out, char *why, size_t why_len)
{
	struct buf stdout_text = BUF_INIT, stderr_text = BUF_INIT;
	double deadline = monotonic_seconds() + (double)timeout_ms / 1000;
	struct child c;
	char inner[400] = "";
	int rc = spawn(command, &c), status = 0;

	if (!rc) {
		rc = collect(&c, deadline, &stdout_text, &stderr_text);
		close(c.out);
		close(c.err);
		status = wait_child(c.pid, rc != 0, deadline);
		if (!rc && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
		    monotonic_seconds() >= deadline)
			rc = -ETIMEDOUT;
	}
	if (rc || !WIFEXITED(status) || WEXITSTATUS(status)) {
		describe_failure(rc, status, timeout_ms, &stderr_text, inner, sizeof(inner));
		rc = -EACCES;
	} else if (aws_process_parse(stdout_text.data, stdout_text.len, now, out, inner,
				     sizeof(inner))) {
		rc = -EACCES;
	}
	if (rc)
		snprintf(why, why_len, "credential_process %s", inner);
	aws_wipe_buf(&stdout_text);
	aws_wipe_buf(&stderr_text);
	return rc;
}
