#include "fs/names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/utf8.h"
#include "fs/path.h"

/* Characters both engines refuse in repository and snapshot names. */
static const char forbidden[] = "\\/*?\"<>|,# ";

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
		/* A long name cut short at why_len would leave half a character in the log. */
		utf8_cut_invalid(why);
	}
	return -EINVAL;
}

/* The engine would decode a name that is not UTF-8 into another: U+FFFD for each bad sequence. */
static int check_encoding(const char *name, char *why, size_t why_len)
{
	size_t len = strlen(name), at = utf8_invalid_at(name, len);
	char shown[4 * NAME_MAX_BYTES + 1];

	if (at == len)
		return 0;
	utf8_escape(shown, sizeof(shown), name);
	return refuse(why, why_len, "name [%s] is not valid UTF-8 (byte %zu): the engine would store another name",
		      shown, at);
}

static int check_common(const char *name, char *why, size_t why_len)
{
	size_t len = strlen(name);
	char shown[4 * NAME_MAX_BYTES + 1];
	int rc;

	if (len > NAME_MAX_BYTES) {
		utf8_escape(shown, 41, name);
		return refuse(why, why_len, "name [%s...] is longer than 255 bytes", shown);
	}
	rc = check_encoding(name, why, why_len);
	if (rc)
		return rc;
	/* Control characters are shown as \xNN: the reason goes into a one-line log. */
	utf8_escape(shown, sizeof(shown), name);
	if (len == 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return refuse(why, why_len, "invalid name [%s]", shown);
	if (name[0] == '_')
		return refuse(why, why_len, "name [%s] must not start with '_'", shown);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return refuse(why, why_len, "name [%s] must not contain control character 0x%02x",
				      shown, *p);
		if (strchr(forbidden, *p))
			return refuse(why, why_len, "name [%s] must not contain '%c'", shown, *p);
	}
	return 0;
}

int name_check_repository(const char *name, char *why, size_t why_len)
{
	return check_common(name, why, why_len);
}

/* ASCII only: the engine lowercases with Locale.ROOT, and a name is refused unless that leaves it alone. */
static int check_lowercase(const char *name, const char *what, char *why, size_t why_len)
{
	for (const char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			return refuse(why, why_len, "%s name [%s] must be lowercase", what, name);
	return 0;
}

int name_check_snapshot(const char *name, char *why, size_t why_len)
{
	int rc = check_common(name, why, why_len);

	return rc ? rc : check_lowercase(name, "snapshot", why, why_len);
}

/*
 * Each star moves on at most once per character of name: a body's pattern
 * of many stars costs what its length does (a recursive match fuzz_restoreplan
 * found to take exponential time).
 */
int name_simple_match(const char *pattern, const char *name)
{
	const char *star = NULL, *resume = NULL;

	while (*name) {
		if (*pattern == '*') {
			star = pattern++;
			resume = name;
		} else if (*pattern == *name) {
			pattern++;
			name++;
		} else if (star) {
			pattern = star + 1;
			name = ++resume;
		} else {
			return 0;
		}
	}
	while (*pattern == '*')
		pattern++;
	return !*pattern;
}

/* Index names also refuse ':' (a remote cluster's prefix) and a leading '-' or '+' (an exclusion). */
int name_check_index(const char *name, char *why, size_t why_len)
{
	int rc = check_common(name, why, why_len);

	if (rc)
		return rc;
	if (name[0] == '-' || name[0] == '+')
		return refuse(why, why_len, "index name [%s] must not start with '%c'", name, name[0]);
	if (strchr(name, ':'))
		return refuse(why, why_len, "index name [%s] must not contain ':'", name);
	return check_lowercase(name, "index", why, why_len);
}
