/*
 * A minimal unit test harness. Each test binary lists its cases in a table;
 * run with no argument it runs them all, with --list it names them, and with a
 * case name it runs that one, so pytest (tests/test_unit.py) can report each
 * case on its own.
 */
#ifndef ESFS_UNIT_H
#define ESFS_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_case {
	const char *name;
	void (*fn)(void);
};

extern int unit_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_failures++; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || !w_ || strcmp(g_, w_) != 0) { \
		fprintf(stderr, "%s:%d: %s\n  got:  \"%s\"\n  want: \"%s\"\n", __FILE__, __LINE__, \
			#got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
		unit_failures++; \
	} \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) { \
		fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
		unit_failures++; \
	} \
} while (0)

int unit_main(int argc, char **argv, const struct unit_case *cases);

/* Reads a whole file under tests/data (ESFS_TEST_DATA or the source dir); exits on failure. */
char *unit_read_data(const char *relpath);

#endif
