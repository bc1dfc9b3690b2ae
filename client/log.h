/*
 * Logging: to a file with -o logfile= (reopened on SIGHUP, for logrotate),
 * else stderr when esfs runs in the foreground and syslog (identifier
 * "esfs") once it is a daemon. Lines below the level (-o log_level=) are
 * dropped. Nothing that carries a secret (headers, credentials) is ever
 * logged, at any level.
 */
#ifndef ESFS_LOG_H
#define ESFS_LOG_H

#include <syslog.h>

/* What esfs logged before there was a level to choose: everything but the request lines. */
#define LOG_LEVEL_DEFAULT LOG_INFO

/*
 * level is a syslog priority (LOG_ERR .. LOG_DEBUG). file, when not NULL,
 * is opened for appending now, so that a bad name is said before mounting:
 * 0, or a negative errno (and the previous destination stays).
 */
int log_init(int foreground, int level, const char *file);
/* Opens the log file anew under its name (after logrotate renamed it): 0 or a negative errno. */
int log_reopen(void);
/* "error", "warn", "info" or "debug": the syslog priority, or -EINVAL. */
int log_level_parse(const char *name);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int log_debug_enabled(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_debug_enabled()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
