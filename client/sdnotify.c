/* The sd_notify protocol (see client/sdnotify.h). */
#include "client/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char *sdnotify_take_socket(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	char *copy = name && *name ? strdup(name) : NULL;

	unsetenv("NOTIFY_SOCKET");
	return copy;
}

/* The address and its length; an abstract name ('@...') starts with a NUL and has no final one. */
static int socket_address(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);

	if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return -EAFNOSUPPORT;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	return 0;
}

int sdnotify_send(const char *socket_name, const char *message)
{
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t sent;
	int fd, rc = socket_address(socket_name, &sa, &len);

	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	rc = sent < 0 ? -errno : 0;
	close(fd);
	return rc;
}
