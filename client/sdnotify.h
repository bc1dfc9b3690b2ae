/*
 * The sd_notify protocol, spoken without libsystemd: one datagram of
 * "VAR=value" lines to the unix socket systemd names in $NOTIFY_SOCKET (a
 * path, or an abstract socket written with a leading '@'). Knows nothing of
 * FUSE.
 */
#ifndef ESFS_SDNOTIFY_H
#define ESFS_SDNOTIFY_H

/*
 * $NOTIFY_SOCKET, malloc'd (NULL when unset or empty), and removed from the
 * environment, so that no program esfs starts sends as esfs. Call before
 * any thread starts: unsetenv is not thread-safe.
 */
char *sdnotify_take_socket(void);

/*
 * Sends message ("READY=1\nSTATUS=...") to the socket named as
 * $NOTIFY_SOCKET would. 0, or a negative errno (-EAFNOSUPPORT for an
 * address that is neither a path nor '@'-abstract).
 */
int sdnotify_send(const char *socket_name, const char *message);

#endif
