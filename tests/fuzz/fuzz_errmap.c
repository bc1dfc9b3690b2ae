/*
 * Fuzzes engine error mapping (client/errmap.c: errmap_from_response) with
 * any status and any body, JSON or not. Checks: the errno is positive and
 * has a name; the type and reason are set, terminated, and one line with no
 * tab (they are tab-separated fields of /_esfs/errors); 401 and 403 are
 * always EACCES.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/errmap.h"
#include "fuzz.h"

static void check_field(const char *field, size_t size)
{
	size_t len = strnlen(field, size);

	FUZZ_CHECK(len > 0 && len < size);
	FUZZ_CHECK(!strpbrk(field, "\t\r\n"));
}

/* The first 8 bytes are the status (taken as a long, as libcurl gives it); the rest is the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	long status = (long)fuzz_u64(&in);
	char *body = fuzz_text(in.data, in.left);
	struct esfs_error e;

	errmap_from_response(&e, status, body, in.left);
	FUZZ_CHECK(e.err > 0 && e.status == status);
	FUZZ_CHECK(errmap_errno_name(e.err) != NULL);
	check_field(e.type, sizeof(e.type));
	check_field(e.reason, sizeof(e.reason));
	FUZZ_CHECK((status != 401 && status != 403) || e.err == EACCES);
	errmap_from_response(&e, status % 1000, NULL, 0);
	FUZZ_CHECK(e.err > 0);
	free(body);
	return 0;
}
