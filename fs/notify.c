/* Readiness and status for systemd (see fs/notify.h). */
#include "fs/notify.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/log.h"
#include "client/sdnotify.h"
#include "client/stats.h"
#include "fs/ticker.h"

struct notifier {
	char *socket;
	char *probe;		/* <mountpoint>/_esfs/stats */
	struct client *client;
	struct ticker *ticker;
	int ready;		/* READY=1 was sent */
	int warned;		/* the last message could not be sent, and the log said so */
};

/* Not SIGHUP: that one is esfs's own (fs/service.h), a flush and not a stop. */
static const int stop_signals[] = { SIGTERM, SIGINT };
static struct sigaction fuse_handlers[sizeof(stop_signals) / sizeof(stop_signals[0])];
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (stop_signals[i] == sig && fuse_handlers[i].sa_handler != SIG_DFL &&
		    fuse_handlers[i].sa_handler != SIG_IGN)
			fuse_handlers[i].sa_handler(sig);
}

void notify_watch_stop_signals(void)
{
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		struct sigaction ours = { .sa_handler = on_stop_signal };

		/* Only over libfuse's own handler: with none (or SIG_IGN), the signal does as it did. */
		if (sigaction(stop_signals[i], NULL, &fuse_handlers[i]) ||
		    fuse_handlers[i].sa_handler == SIG_DFL || fuse_handlers[i].sa_handler == SIG_IGN ||
		    (fuse_handlers[i].sa_flags & SA_SIGINFO))
			continue;
		sigemptyset(&ours.sa_mask);
		sigaction(stop_signals[i], &ours, NULL);
	}
}

int notify_stopped_by_signal(void)
{
	return stop_signal != 0;
}

void notify_status_text(struct client *cl, char *out, size_t size)
{
	snprintf(out, size, "node %s; requests %lu, failed operations %lu, request errors %lu, "
		 "transport errors %lu, timeouts %lu", client_node_url(cl),
		 atomic_load(&esfs_stats.requests), atomic_load(&esfs_stats.errors),
		 atomic_load(&esfs_stats.request_errors), atomic_load(&esfs_stats.transport_errors),
		 atomic_load(&esfs_stats.timeouts));
}

/* A socket that went away is said once, not at every STATUS=. */
static void send_message(struct notifier *sv, const char *message)
{
	int rc = sdnotify_send(sv->socket, message);

	if (rc && !sv->warned)
		log_warn("NOTIFY_SOCKET=%s: %s", sv->socket, strerror(-rc));
	sv->warned = rc != 0;
}

static void send_status(struct notifier *sv, const char *head)
{
	char status[512], message[700];

	notify_status_text(sv->client, status, sizeof(status));
	snprintf(message, sizeof(message), "%sSTATUS=%s", head, status);
	send_message(sv, message);
}

/*
 * A file esfs serves without the cluster, reached through the kernel: when
 * its stat returns, the mount is in place and esfs answers on it.
 */
static int tree_answers(const struct notifier *sv)
{
	struct stat st;

	if (stat(sv->probe, &st)) {
		log_err("not ready: %s: %s", sv->probe, strerror(errno));
		return 0;
	}
	return S_ISREG(st.st_mode);
}

/* The first tick says READY=1 once the tree answers; the others, STATUS= alone. */
static int tick(void *arg)
{
	struct notifier *sv = arg;
	char head[64];

	if (sv->ready) {
		send_status(sv, "");
		return 0;
	}
	if (!tree_answers(sv))
		return 1;
	/* MAINPID: in the background this process is the fork's child, not the one systemd started. */
	snprintf(head, sizeof(head), "READY=1\nMAINPID=%ld\n", (long)getpid());
	send_status(sv, head);
	sv->ready = 1;
	return 0;
}

static void notify_free(struct notifier *sv)
{
	free(sv->socket);
	free(sv->probe);
	free(sv);
}

struct notifier *notify_start(const char *notify_socket, const char *mountpoint, struct client *cl)
{
	struct notifier *sv = calloc(1, sizeof(*sv));

	if (!sv)
		return NULL;
	sv->client = cl;
	sv->socket = strdup(notify_socket);
	if (!sv->socket || asprintf(&sv->probe, "%s/_esfs/stats", mountpoint) < 0) {
		sv->probe = NULL;
		notify_free(sv);
		return NULL;
	}
	sv->ticker = ticker_start(NOTIFY_STATUS_SECONDS, tick, sv);
	if (!sv->ticker) {
		notify_free(sv);
		return NULL;
	}
	return sv;
}

void notify_stop(struct notifier *sv)
{
	if (!sv)
		return;
	ticker_stop(sv->ticker);
	send_message(sv, "STOPPING=1");
	notify_free(sv);
}
