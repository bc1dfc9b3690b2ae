/*
 * The flush and SIGHUP (see fs/service.h). Nothing of what SIGHUP does is
 * async-signal-safe (locks, malloc, stdio), so the handler only writes a
 * byte to a pipe and a thread of its own does the work.
 */
#include "fs/service.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "client/log.h"
#include "client/stats.h"
#include "fs/lookup.h"
#include "fs/nodes.h"

enum { WAKE_HUP = 'h', WAKE_QUIT = 'q' };

static int wake_fd[2] = { -1, -1 };
static pthread_t worker;
static int worker_running;

void tree_flush(struct esfs *fs, const char *why)
{
	client_invalidate(fs->client, "");
	if (fs->forget_kernel)
		fs->forget_kernel(fs);
	stats_count_flush();
	log_info("cache flushed (%s)", why);
}

/* A write to /_esfs/flush: "1" flushes; anything else is refused, and nothing is dropped. */
int body_flush(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	(void)n;
	if (!tree_command_is(body, "1"))
		return lookup_refuse(err, EINVAL, "write 1 to flush the cache");
	tree_flush(fs, "/_esfs/flush");
	return 0;
}

/* Reading the flush file does nothing: a crawler that reads every file must not flush. */
int read_nothing(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	(void)fs;
	(void)n;
	(void)out;
	(void)err;
	return 0;
}

static void on_sighup(int sig)
{
	int saved = errno;
	char c = WAKE_HUP;

	ssize_t n;

	(void)sig;
	/* Non-blocking: a full pipe already holds a wake-up, and one is as good as many. */
	n = write(wake_fd[1], &c, 1);
	(void)n;
	errno = saved;
}

int service_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	if (pipe2(wake_fd, O_CLOEXEC) || fcntl(wake_fd[1], F_SETFL, O_NONBLOCK))
		return -errno;
	sa.sa_handler = on_sighup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) ? -errno : 0;
}

static void on_hangup(struct esfs *fs)
{
	int rc = log_reopen();

	if (rc)
		log_err("SIGHUP: cannot reopen the log file: %s", strerror(-rc));
	tree_flush(fs, "SIGHUP");
}

static void *service_main(void *arg)
{
	struct esfs *fs = arg;

	for (;;) {
		char got[64];
		ssize_t n = read(wake_fd[0], got, sizeof(got));
		int hup = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || memchr(got, WAKE_QUIT, (size_t)n))
			return NULL;
		for (ssize_t i = 0; i < n; i++)
			hup |= got[i] == WAKE_HUP;
		if (hup)
			on_hangup(fs);
	}
}

int service_start(struct esfs *fs)
{
	int rc;

	if (wake_fd[0] < 0)
		return 0;	/* no SIGHUP handling was installed */
	rc = pthread_create(&worker, NULL, service_main, fs);
	worker_running = rc == 0;
	return -rc;
}

void service_stop(void)
{
	char c = WAKE_QUIT;

	if (!worker_running)
		return;
	while (write(wake_fd[1], &c, 1) < 0 && errno == EAGAIN)
		usleep(1000);	/* a full pipe: the thread is reading it */
	pthread_join(worker, NULL);
	worker_running = 0;
}
