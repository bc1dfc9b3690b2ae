/*
 * Logging: stderr when esfs runs in the foreground, syslog once it is a
 * daemon. Nothing that carries a secret (headers, credentials) is ever logged.
 */
#ifndef ESFS_LOG_H
#define ESFS_LOG_H

#include <syslog.h>

void log_init(int foreground, int debug);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_debug_enabled(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
