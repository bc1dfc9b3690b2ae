#include "client/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_to_stderr = 1;
static int log_level = LOG_LEVEL_DEFAULT;
/* The log file: its name (absolute, for a reopen after the daemon's chdir) and its stream. */
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static char *file_name;
static FILE *file;

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warn", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_parse(const char *name)
{
	for (int level = 0; level < (int)(sizeof(level_names) / sizeof(level_names[0])); level++)
		if (level_names[level] && !strcmp(level_names[level], name))
			return level;
	return -EINVAL;
}

/* Appended to, never truncated, and not inherited by anything esfs might run. */
static FILE *open_append(const char *name)
{
	int fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "a");

	if (fd >= 0 && !f)
		close(fd);
	if (f)
		setvbuf(f, NULL, _IOLBF, 0);	/* each line reaches the file as it is logged */
	return f;
}

static char *absolute_name(const char *name)
{
	char cwd[4096];
	char *abs;

	if (name[0] == '/')
		return strdup(name);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, name) < 0)
		return NULL;
	return abs;
}

static int set_file(const char *name)
{
	char *abs = absolute_name(name);
	FILE *f = abs ? open_append(abs) : NULL;
	int rc = f ? 0 : -(abs ? errno : ENOMEM);

	if (rc) {
		free(abs);
		return rc;
	}
	pthread_mutex_lock(&file_lock);
	if (file)
		fclose(file);
	free(file_name);
	file = f;
	file_name = abs;
	pthread_mutex_unlock(&file_lock);
	return 0;
}

int log_init(int foreground, int level, const char *name)
{
	int rc = name ? set_file(name) : 0;

	if (rc)
		return rc;
	log_to_stderr = foreground;
	log_level = level;
	if (!foreground && !name)
		openlog("esfs", LOG_PID, LOG_DAEMON);
	return 0;
}

int log_reopen(void)
{
	char *name;
	int rc;

	pthread_mutex_lock(&file_lock);
	name = file_name ? strdup(file_name) : NULL;
	pthread_mutex_unlock(&file_lock);
	if (!name)
		return 0;	/* stderr and syslog need no reopening */
	rc = set_file(name);
	free(name);
	return rc;
}

int log_debug_enabled(void)
{
	return log_level >= LOG_DEBUG;
}

/* A line of the log file: UTC time with milliseconds, pid, level, message. */
static void file_line(FILE *f, int priority, const char *fmt, va_list ap)
{
	struct timespec now;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03ldZ esfs[%ld] %s: ", when, now.tv_nsec / 1000000, (long)getpid(),
		priority <= LOG_DEBUG && level_names[priority] ? level_names[priority] : "error");
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

/* One line of one thread at a time: stdio locks each call, not the three. */
static void stderr_line(const char *fmt, va_list ap)
{
	flockfile(stderr);
	fputs("esfs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;
	int to_file;

	if (priority > log_level)
		return;
	va_start(ap, fmt);
	pthread_mutex_lock(&file_lock);
	to_file = file != NULL;
	if (to_file)
		file_line(file, priority, fmt, ap);
	pthread_mutex_unlock(&file_lock);
	if (!to_file) {
		if (log_to_stderr)
			stderr_line(fmt, ap);
		else
			vsyslog(priority, fmt, ap);
	}
	va_end(ap);
}
