/*
 * The credential chain's ways beyond keys, where they need no network: STS
 * answers, credential_process output and runs, the SSO token cache, the
 * profile reader, and how the chain follows role_arn/source_profile (cycles,
 * broken links) up to the point where it would call STS. Every chain made
 * here has STS and the SSO portal pointed at a closed loopback port and
 * instance metadata off, so nothing leaves the machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/aws/credentials.h"
#include "client/aws/process.h"
#include "client/aws/profile.h"
#include "client/aws/sso.h"
#include "client/aws/sts.h"
#include "client/sys.h"
#include "unit.h"

static char tmpdir[] = "/tmp/esfs-unit-aws-chain-XXXXXX";
static int tmpdir_made;

static const char *write_file(int slot, const char *text)
{
	static char paths[4][256];
	FILE *f;

	if (!tmpdir_made && !mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
	tmpdir_made = 1;
	snprintf(paths[slot], sizeof(paths[slot]), "%s/file%d", tmpdir, slot);
	f = fopen(paths[slot], "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(paths[slot]);
		exit(2);
	}
	return paths[slot];
}

static void quiet_environment(void)
{
	static const char *const unset[] = {
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "ESFS_AWS_REFRESH_MARGIN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
		"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_REGION", "AWS_DEFAULT_REGION",
	};

	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	/* Port 9 (discard) on loopback: a call that got this far fails at once, and locally. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/esfs-credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/esfs-config", 1);
}

/* ---- STS answers ---- */

static const char sts_ok[] =
	"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
	"<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>"
	"<Credentials><AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>sts/secret+1"
	"</SecretAccessKey><SessionToken>tok&amp;en&lt;1&gt;</SessionToken>"
	"<Expiration>2024-02-29T18:00:00.123Z</Expiration></Credentials></AssumeRoleResult>"
	"</AssumeRoleResponse>";

static void test_sts_answer(void)
{
	struct aws_credentials c = { 0 };
	char why[256] = "";

	CHECK_INT(aws_sts_parse(200, sts_ok, sizeof(sts_ok) - 1, 1709222400, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "ASIASTS");
	CHECK_STR(c.secret_access_key, "sts/secret+1");
	CHECK_STR(c.session_token, "tok&en<1>");
	CHECK_INT(c.expiration, 1709229600);
	CHECK_INT(c.obtained, 1709222400);
	aws_credentials_clear(&c);
}

static void test_sts_refusal(void)
{
	static const char refusal[] =
		"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
		"<Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is "
		"not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>";
	struct aws_credentials c = { 0 };
	char why[256] = "";

	CHECK_INT(aws_sts_parse(403, refusal, sizeof(refusal) - 1, 0, &c, why, sizeof(why)), -EACCES);
	CHECK(strstr(why, "HTTP 403 AccessDenied: User: arn:aws:iam::1:user/x is not authorized") != NULL);
	CHECK(c.access_key_id == NULL);
	/* A refusal with no XML still says the status. */
	CHECK_INT(aws_sts_parse(503, NULL, 0, 0, &c, why, sizeof(why)), -EACCES);
	CHECK_STR(why, "HTTP 503");
}

static void test_sts_answer_incomplete(void)
{
	static const char no_expiry[] =
		"<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
		"<SessionToken>T</SessionToken></Credentials>";
	static const char no_token[] =
		"<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
		"<Expiration>2024-02-29T18:00:00Z</Expiration></Credentials>";
	static const char bad_entity[] =
		"<Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S&#65;</SecretAccessKey>"
		"<SessionToken>T</SessionToken><Expiration>2024-02-29T18:00:00Z</Expiration></Credentials>";
	struct aws_credentials c = { 0 };
	char why[256] = "";

	CHECK_INT(aws_sts_parse(200, no_expiry, sizeof(no_expiry) - 1, 0, &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "Expiration") != NULL);
	CHECK_INT(aws_sts_parse(200, no_token, sizeof(no_token) - 1, 0, &c, why, sizeof(why)), -EINVAL);
	CHECK_INT(aws_sts_parse(200, bad_entity, sizeof(bad_entity) - 1, 0, &c, why, sizeof(why)),
		  -EINVAL);
	CHECK_INT(aws_sts_parse(200, "<html/>", 7, 0, &c, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "the answer has no Credentials");
	CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
}

/* ---- credential_process ---- */

static void test_process_output(void)
{
	static const char temporary[] = "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", "
		"\"SecretAccessKey\": \"proc/secret\", \"SessionToken\": \"proc-token\", "
		"\"Expiration\": \"2024-02-29T18:00:00Z\"}";
	static const char long_term[] = "{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
		"\"SecretAccessKey\": \"s\"}";
	struct aws_credentials c = { 0 };
	char why[256] = "";

	CHECK_INT(aws_process_parse(temporary, sizeof(temporary) - 1, 5, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "ASIAPROC");
	CHECK_STR(c.session_token, "proc-token");
	CHECK_INT(c.expiration, 1709229600);
	aws_credentials_clear(&c);
	CHECK_INT(aws_process_parse(long_term, sizeof(long_term) - 1, 5, &c, why, sizeof(why)), 0);
	CHECK(c.session_token == NULL && c.expiration == 0);
	aws_credentials_clear(&c);
}

static void test_process_output_refused(void)
{
	static const char *const bad[] = {
		"{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
		"{\"Version\": \"1\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
		"{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}",
		"{\"Version\": 1, \"AccessKeyId\": \"A\"}",
		"{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": \"soon\"}",
		"AccessKeyId=A", "", "[1]",
	};
	struct aws_credentials c = { 0 };
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(aws_process_parse(bad[i], strlen(bad[i]), 0, &c, why, sizeof(why)), -EINVAL);
		CHECK(why[0] != '\0');
		CHECK(c.access_key_id == NULL);
	}
}

static void test_process_runs(void)
{
	struct aws_credentials c = { 0 };
	char why[512] = "";
	double started;

	CHECK_INT(aws_process_fetch("printf '{\"Version\":1,\"AccessKeyId\":\"AKIARUN\","
				    "\"SecretAccessKey\":\"run\"}'", 5000, 7, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "AKIARUN");
	CHECK_INT(c.obtained, 7);
	aws_credentials_clear(&c);
	CHECK_INT(aws_process_fetch("echo 'token expired' >&2; exit 4", 5000, 0, &c, why, sizeof(why)),
		  -EACCES);
	CHECK_STR(why, "credential_process exited with status 4: token expired");
	/* Killed at the timeout, with whatever the shell started. */
	started = monotonic_seconds();
	CHECK_INT(aws_process_fetch("sleep 20; echo late", 300, 0, &c, why, sizeof(why)), -EACCES);
	CHECK(monotonic_seconds() - started < 5);
	CHECK_STR(why, "credential_process ran longer than 300 ms and was killed");
	/* Output past the limit is not read to the end. */
	CHECK_INT(aws_process_fetch("yes", 5000, 0, &c, why, sizeof(why)), -EACCES);
	CHECK(strstr(why, "wrote more than") != NULL);
	/* A shell that closes its output and goes on is killed at the timeout all the same. */
	started = monotonic_seconds();
	CHECK_INT(aws_process_fetch("exec >&- 2>&-; sleep 20", 300, 0, &c, why, sizeof(why)), -EACCES);
	CHECK(monotonic_seconds() - started < 5);
	CHECK_STR(why, "credential_process ran longer than 300 ms and was killed");
	/* stdin is /dev/null: a command that reads it does not hang. */
	CHECK_INT(aws_process_fetch("cat; exit 1", 5000, 0, &c, why, sizeof(why)), -EACCES);
	CHECK_STR(why, "credential_process exited with status 1");
	CHECK(c.access_key_id == NULL);
}

/* The command gets stdin, stdout and stderr, none of esfs's other descriptors (such as /dev/fuse). */
static void test_process_inherits_no_descriptor(void)
{
	struct aws_credentials c = { 0 };
	char command[256], why[512] = "";
	int fd = open("/dev/null", O_RDONLY);	/* deliberately without O_CLOEXEC */

	CHECK(fd > 2);
	snprintf(command, sizeof(command), "[ -e /proc/$$/fd/%d ] && exit 9; printf "
		 "'{\"Version\":1,\"AccessKeyId\":\"AKIAFD\",\"SecretAccessKey\":\"s\"}'", fd);
	CHECK_INT(aws_process_fetch(command, 5000, 0, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "AKIAFD");
	aws_credentials_clear(&c);
	close(fd);
}

/* ---- SSO token cache ---- */

static void test_sso_cache_token(void)
{
	static const char cache[] = "{\"startUrl\": \"https://x.awsapps.com/start\", \"region\": "
		"\"us-east-1\", \"accessToken\": \"sso-token\", \"expiresAt\": \"2024-02-29T18:00:00Z\"}";
	char *token = NULL, why[256] = "";

	CHECK_INT(aws_sso_read_token(cache, sizeof(cache) - 1, 1709229599, &token, why, sizeof(why)), 0);
	CHECK_STR(token, "sso-token");
	secret_free(&token);
	CHECK_INT(aws_sso_read_token(cache, sizeof(cache) - 1, 1709229600, &token, why, sizeof(why)),
		  -EACCES);
	CHECK(strstr(why, "run aws sso login") != NULL && strstr(why, "2024-02-29T18:00:00Z") != NULL);
	CHECK(token == NULL);
	CHECK_INT(aws_sso_read_token("{\"accessToken\": \"t\"}", 20, 0, &token, why, sizeof(why)), -EINVAL);
	CHECK_INT(aws_sso_read_token("{\"accessToken\": \"a\\nb\", \"expiresAt\": \"2024-02-29T18:00:00Z\"}",
				     62, 0, &token, why, sizeof(why)), -EINVAL);
	CHECK_INT(aws_sso_read_token("nope", 4, 0, &token, why, sizeof(why)), -EINVAL);
	CHECK(token == NULL);
}

/* ---- profiles ---- */

static void test_profile_settings_merge(void)
{
	const char *cred = write_file(0, "[ops]\nrole_session_name = from-credentials\n"
				      "aws_access_key_id = AKIDCRED\naws_secret_access_key = c\n");
	const char *conf = write_file(1,
		"[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\nrole_session_name = from-config\n"
		"Source_Profile = base\naws_access_key_id = AKIDCONF\naws_secret_access_key = f\n"
		"[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
	struct aws_profile p;

	CHECK_INT(aws_profile_read(cred, conf, "ops", &p), 0);
	CHECK(p.found);
	CHECK_STR(p.setting[AWS_PROFILE_ROLE_ARN], "arn:aws:iam::1:role/ops");
	CHECK_STR(p.setting[AWS_PROFILE_SOURCE_PROFILE], "base");
	/* botocore lays the credentials file over the config file. */
	CHECK_STR(p.setting[AWS_PROFILE_ROLE_SESSION_NAME], "from-credentials");
	CHECK_STR(p.cred.access_key_id, "AKIDCRED");
	CHECK_STR(p.conf.access_key_id, "AKIDCONF");
	aws_profile_clear(&p);
	CHECK_INT(aws_sso_session_read(conf, "corp", &p), 0);
	CHECK(p.found);
	CHECK_STR(p.setting[AWS_PROFILE_SSO_REGION], "eu-west-1");
	aws_profile_clear(&p);
	CHECK_INT(aws_sso_session_read(conf, "ops", &p), 0);
	CHECK(!p.found);
	aws_profile_clear(&p);
}

/* The chain's answer for profile, which must fail before any network call: -errno, why. */
static int chain_error(const char *profile, char *why, size_t why_len)
{
	struct aws_credentials c;
	struct aws_chain *ch;
	int rc;

	setenv("AWS_PROFILE", profile, 1);
	ch = aws_chain_new(NULL);
	CHECK(ch != NULL);
	rc = aws_chain_get(ch, &c, why, why_len);
	CHECK(c.access_key_id == NULL);
	aws_chain_free(ch);
	return rc;
}

static void test_chain_profile_links(void)
{
	const char *conf = write_file(1,
		"[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
		"[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
		"[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n"
		"[profile self]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self\n"
		"[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\nsource_profile = missing\n"
		"[profile lost]\nrole_arn = arn:aws:iam::1:role/l\n"
		"[profile both]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
		"credential_source = Environment\n"
		"[profile odd]\nrole_arn = arn:aws:iam::1:role/o\ncredential_source = Somewhere\n"
		"[profile long]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = a\n"
		"duration_seconds = 60\n"
		"[profile wi]\nweb_identity_token_file = /nonexistent/token\n"
		"[profile sso]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = r\n"
		"[profile ssohalf]\nsso_start_url = https://x.awsapps.com/start\n");
	char why[512] = "";

	quiet_environment();
	setenv("AWS_CONFIG_FILE", conf, 1);
	CHECK_INT(chain_error("a", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "source_profile cycle: a -> b -> c -> a") != NULL);
	CHECK_INT(chain_error("self", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "source_profile cycle: self -> self") != NULL);
	CHECK_INT(chain_error("orphan", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "no profile missing") != NULL);
	CHECK_INT(chain_error("lost", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "neither source_profile nor credential_source") != NULL);
	CHECK_INT(chain_error("both", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "both source_profile and credential_source") != NULL);
	CHECK_INT(chain_error("odd", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "credential_source Somewhere is not") != NULL);
	CHECK_INT(chain_error("long", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "duration_seconds must be 900 to 43200") != NULL);
	CHECK_INT(chain_error("wi", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "web-identity: ") != NULL && strstr(why, "no role_arn") != NULL);
	CHECK_INT(chain_error("sso", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "sso: profile sso: no [sso-session nowhere]") != NULL);
	CHECK_INT(chain_error("ssohalf", why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "needs sso_account_id, sso_role_name") != NULL);
}

/* A source profile with keys of its own is used as it is, even when it names itself. */
static void test_chain_reaches_sts_with_the_source_keys(void)
{
	const char *cred = write_file(0, "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = b\n");
	const char *conf = write_file(1,
		"[profile ops]\nrole_arn = arn:aws:iam::1:role/ops\nsource_profile = base\n"
		"[profile base]\nrole_arn = arn:aws:iam::1:role/base\nsource_profile = base\n");
	char why[512] = "";

	quiet_environment();
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	/* Got as far as STS, at the overridden (closed) endpoint: the link itself was fine. */
	CHECK_INT(chain_error("ops", why, sizeof(why)), -ECONNREFUSED);
	CHECK(strstr(why, "assume-role: STS AssumeRole http://127.0.0.1:9 for arn:aws:iam::1:role/ops")
	      != NULL);
	CHECK_INT(chain_error("base", why, sizeof(why)), -ECONNREFUSED);
	CHECK(strstr(why, "arn:aws:iam::1:role/base") != NULL);
}

static void test_chain_process_profile(void)
{
	const char *conf = write_file(1, "[profile proc]\ncredential_process = printf "
				      "'{\"Version\":1,\"AccessKeyId\":\"AKIAPROC\",\"SecretAccessKey\":\"p\"}'\n");
	struct aws_credentials c;
	struct aws_chain *ch;
	char why[512] = "", source[64];

	quiet_environment();
	setenv("AWS_CONFIG_FILE", conf, 1);
	setenv("AWS_PROFILE", "proc", 1);
	ch = aws_chain_new(NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "AKIAPROC");
	aws_credentials_clear(&c);
	aws_chain_source(ch, source, sizeof(source));
	CHECK_STR(source, "process:proc");
	aws_chain_free(ch);
}

static void cleanup(void)
{
	char cmd[300];

	if (tmpdir_made) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

static const struct unit_case cases[] = {
	{ "sts_answer", test_sts_answer },
	{ "sts_refusal", test_sts_refusal },
	{ "sts_answer_incomplete", test_sts_answer_incomplete },
	{ "process_output", test_process_output },
	{ "process_output_refused", test_process_output_refused },
	{ "process_runs", test_process_runs },
	{ "process_inherits_no_descriptor", test_process_inherits_no_descriptor },
	{ "sso_cache_token", test_sso_cache_token },
	{ "profile_settings_merge", test_profile_settings_merge },
	{ "chain_profile_links", test_chain_profile_links },
	{ "chain_reaches_sts_with_the_source_keys", test_chain_reaches_sts_with_the_source_keys },
	{ "chain_process_profile", test_chain_process_profile },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	int rc;

	quiet_environment();
	rc = unit_main(argc, argv, cases);
	cleanup();
	return rc;
}
