/*
 * Fuzzes the reading of esfs's credentials file (client/credentials.c:
 * credentials_from_file, then credentials_check as main does). Checks:
 * the answer is 0 or EINVAL with a reason; a value is never quoted in a
 * reason (seen for values with a digit, which no reason has).
 */
#include <errno.h>
#include <string.h>

#include "client/credentials.h"
#include "fuzz.h"

static struct fuzz_file file;

static int has_digit(const char *s)
{
	return s && strpbrk(s, "0123456789");
}

static void check_not_quoted(const char *why, const char *value)
{
	if (has_digit(value))
		FUZZ_CHECK(!strstr(why, value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct credentials c = { 0 };
	char why[256] = "";
	int rc;

	if (!file.path[0])
		fuzz_file_open(&file);
	fuzz_file_set(&file, data, size);
	rc = credentials_from_file(file.path, &c, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || (rc == -EINVAL && why[0]));
	if (rc == 0) {
		rc = credentials_check(&c, why, sizeof(why));
		FUZZ_CHECK(rc == 0 || (rc == -EINVAL && why[0]));
		check_not_quoted(why, c.user);
		check_not_quoted(why, c.password);
		check_not_quoted(why, c.api_key);
	}
	credentials_clear(&c);
	FUZZ_CHECK(!c.user && !c.password && !c.api_key);
	return 0;
}
