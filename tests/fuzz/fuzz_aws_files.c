/*
 * Fuzzes the AWS shared files parser (client/aws/credentials.c:
 * aws_shared_files_read, and client/aws/profile.c: every profile setting,
 * role_arn, source_profile, credential_process, sso_session... and the
 * [sso-session NAME] sections), as the SDKs' ~/.aws/credentials and
 * ~/.aws/config. Input: the profile name, a newline, the credentials file, a
 * NUL byte, the config file. Checks: 0 gives a whole key pair (and a session
 * token only when one is set); otherwise ENOENT or EINVAL with a reason; the
 * profile reader finds the section whenever the keys reader did, and its
 * settings are whole strings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/aws/credentials.h"
#include "client/aws/profile.h"
#include "fuzz.h"

static struct fuzz_file credentials_file, config_file;

static void check_settings(const struct aws_profile *p)
{
	for (int i = 0; i < AWS_PROFILE_NSETTINGS; i++)
		FUZZ_CHECK(!p->setting[i] || strlen(p->setting[i]) < 8192);
}

/* The same files through the profile reader, which the chain's other sources use. */
static void check_profile_reader(const char *profile, int keys_rc)
{
	struct aws_profile p;

	FUZZ_CHECK(aws_profile_read(credentials_file.path, config_file.path, profile, &p) == 0);
	if (keys_rc == 0)
		FUZZ_CHECK(p.found && (p.cred.access_key_id || p.conf.access_key_id));
	check_settings(&p);
	aws_profile_clear(&p);
	FUZZ_CHECK(aws_sso_session_read(config_file.path, profile, &p) == 0);
	FUZZ_CHECK(!p.cred.access_key_id);
	check_settings(&p);
	aws_profile_clear(&p);
}

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
	check_profile_reader(profile, rc);
	free(profile);
	free(credentials);
	return 0;
}
