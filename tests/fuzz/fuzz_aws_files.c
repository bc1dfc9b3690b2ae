/*
 * Fuzzes the AWS shared files parser (client/aws/credentials.c:
 * aws_shared_files_read), as the SDKs' ~/.aws/credentials and ~/.aws/config.
 * Input: the profile name, a newline, the credentials file, a NUL byte, the
 * config file. Checks: 0 gives a whole key pair (and a session token only
 * when one is set); otherwise ENOENT or EINVAL with a reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/aws/credentials.h"
#include "fuzz.h"

static struct fuzz_file credentials_file, config_file;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	char *profile = fuzz_until(&in, '\n'), *credentials = fuzz_until(&in, '\0');
	struct aws_credentials out;
	char why[512] = "";
	int rc;

	if (!credentials_file.path[0]) {
		fuzz_file_open(&credentials_file);
		fuzz_file_open(&config_file);
	}
	fuzz_file_set(&credentials_file, credentials, strlen(credentials));
	fuzz_file_set(&config_file, in.data, in.left);
	rc = aws_shared_files_read(credentials_file.path, config_file.path, profile, &out, why, sizeof(why));
	FUZZ_CHECK(rc == 0 || ((rc == -ENOENT || rc == -EINVAL) && why[0]));
	if (rc == 0) {
		FUZZ_CHECK(out.access_key_id && *out.access_key_id);
		FUZZ_CHECK(out.secret_access_key && *out.secret_access_key);
		FUZZ_CHECK(!out.session_token || *out.session_token);
		FUZZ_CHECK(aws_credentials_valid(&out, 0) && !out.expiration);
	}
	aws_credentials_clear(&out);
	free(profile);
	free(credentials);
	return 0;
}
