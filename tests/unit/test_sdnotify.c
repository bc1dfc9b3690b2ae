/* client/sdnotify.c: datagrams to a path and to an abstract socket; the variable is taken away. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/sdnotify.h"
#include "unit.h"

/* A receiving socket bound to name, written as $NOTIFY_SOCKET would be. */
static int listen_on(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	CHECK_INT(bind(fd, (struct sockaddr *)&sa,
		       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))), 0);
	return fd;
}

static void receive(int fd, char *out, size_t size)
{
	ssize_t n = recv(fd, out, size - 1, MSG_DONTWAIT);

	CHECK(n >= 0);
	out[n < 0 ? 0 : n] = '\0';
}

static void a_path_socket_gets_the_message(void)
{
	char path[64], got[256];
	int fd;

	snprintf(path, sizeof(path), "/tmp/esfs-unit-notify-%ld", (long)getpid());
	unlink(path);
	fd = listen_on(path);
	CHECK_INT(sdnotify_send(path, "READY=1\nSTATUS=ok"), 0);
	receive(fd, got, sizeof(got));
	CHECK_STR(got, "READY=1\nSTATUS=ok");
	close(fd);
	unlink(path);
}

static void an_abstract_socket_gets_the_message(void)
{
	char name[64], got[256];
	int fd;

	snprintf(name, sizeof(name), "@esfs-unit-notify-%ld", (long)getpid());
	fd = listen_on(name);
	CHECK_INT(sdnotify_send(name, "STOPPING=1"), 0);
	receive(fd, got, sizeof(got));
	CHECK_STR(got, "STOPPING=1");
	close(fd);
}

static void other_addresses_are_refused(void)
{
	CHECK_INT(sdnotify_send("vsock:2:1234", "READY=1"), -EAFNOSUPPORT);
	CHECK_INT(sdnotify_send("@", "READY=1"), -EAFNOSUPPORT);
	CHECK(sdnotify_send("/nonexistent/socket", "READY=1") < 0);
}

static void the_variable_is_taken_from_the_environment(void)
{
	char *name;

	setenv("NOTIFY_SOCKET", "@x", 1);
	name = sdnotify_take_socket();
	CHECK_STR(name, "@x");
	CHECK(getenv("NOTIFY_SOCKET") == NULL);
	free(name);
	CHECK(sdnotify_take_socket() == NULL);
}

static const struct unit_case cases[] = {
	{ "a_path_socket_gets_the_message", a_path_socket_gets_the_message },
	{ "an_abstract_socket_gets_the_message", an_abstract_socket_gets_the_message },
	{ "other_addresses_are_refused", other_addresses_are_refused },
	{ "the_variable_is_taken_from_the_environment", the_variable_is_taken_from_the_environment },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
