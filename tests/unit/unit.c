#include "unit.h"

int unit_failures;

static int run_case(const struct unit_case *c)
{
	int before = unit_failures;

	c->fn();
	printf("%s %s\n", unit_failures == before ? "PASS" : "FAIL", c->name);
	return unit_failures == before;
}

int unit_main(int argc, char **argv, const struct unit_case *cases)
{
	int passed = 0, failed = 0;

	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (const struct unit_case *c = cases; c->name; c++)
			printf("%s\n", c->name);
		return 0;
	}
	for (const struct unit_case *c = cases; c->name; c++) {
		if (argc > 1 && strcmp(argv[1], c->name) != 0)
			continue;
		if (run_case(c))
			passed++;
		else
			failed++;
	}
	if (passed + failed == 0) {
		fprintf(stderr, "no such case: %s\n", argc > 1 ? argv[1] : "(none)");
		return 2;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

char *unit_read_data(const char *relpath)
{
	const char *dir = getenv("ESFS_TEST_DATA");
	char path[4096];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ESFS_TEST_DATA_DIR, relpath);
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: short read\n", path);
		exit(2);
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}
