#include "client/log.h"

#include <stdarg.h>
#include <stdio.h>

static int log_to_stderr = 1;
static int log_debug_on;

void log_init(int foreground, int debug)
{
	log_to_stderr = foreground;
	log_debug_on = debug;
	if (!foreground)
		openlog("esfs", LOG_PID, LOG_DAEMON);
}

int log_debug_enabled(void)
{
	return log_debug_on;
}

void log_msg(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_to_stderr) {
		/* One line of one thread at a time: stdio locks each call, not the three. */
		flockfile(stderr);
		fputs("esfs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	} else {
		vsyslog(priority, fmt, ap);
	}
	va_end(ap);
}
