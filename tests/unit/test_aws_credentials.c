/*
 * The AWS credential chain's parts that need no endpoint: the shared files,
 * the metadata JSON, the expiry and refresh decision, and the chain over
 * environment and files. Every case that builds a chain first turns
 * instance metadata off and the container variables unset, so that nothing
 * here ever tries to reach 169.254.169.254 or 169.254.170.2.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/aws/credentials.h"
#include "client/aws/metadata.h"
#include "unit.h"

#define HOUR 3600

static char tmpdir[] = "/tmp/esfs-unit-aws-XXXXXX";
static int tmpdir_made;

/* Writes text to a file in this run's temporary folder; returns its path (static buffer per slot). */
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

static void no_network_sources(void)
{
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/esfs-credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/esfs-config", 1);
	unsetenv("ESFS_AWS_REFRESH_MARGIN");
}

/* ---- time and refresh ---- */

static void test_parse_time(void)
{
	time_t t = 0;

	CHECK_INT(aws_parse_time("2024-02-29T23:59:58Z", &t), 0);
	CHECK_INT(t, 1709251198);
	CHECK_INT(aws_parse_time("2024-02-29T23:59:58.123456Z", &t), 0);
	CHECK_INT(t, 1709251198);
	CHECK_INT(aws_parse_time("2024-03-01T01:59:58+02:00", &t), 0);
	CHECK_INT(t, 1709251198);
	CHECK_INT(aws_parse_time("2024-02-29T22:59:58-01:00", &t), 0);
	CHECK_INT(t, 1709251198);
	CHECK_INT(aws_parse_time("2024-02-29 23:59:58Z", &t), -EINVAL);
	CHECK_INT(aws_parse_time("2024-02-29T23:59:58", &t), -EINVAL);
	CHECK_INT(aws_parse_time("2024-13-01T00:00:00Z", &t), -EINVAL);
	CHECK_INT(aws_parse_time("2024-02-29T23:59:58Zjunk", &t), -EINVAL);
	CHECK_INT(aws_parse_time("", &t), -EINVAL);
	CHECK_INT(aws_parse_time(NULL, &t), -EINVAL);
}

static struct aws_credentials temporary(time_t obtained, long lifetime)
{
	return (struct aws_credentials){ "ASIAEXAMPLE", "secret", "token", obtained + lifetime,
					 obtained };
}

static void test_long_term_keys_never_refresh(void)
{
	struct aws_credentials c = { "AKIDEXAMPLE", "secret", NULL, 0, 1000 };

	CHECK(!aws_credentials_need_refresh(&c, 1000, -1));
	CHECK(!aws_credentials_need_refresh(&c, 1000 + 10L * 365 * 24 * HOUR, -1));
	CHECK(!aws_credentials_need_refresh(&c, 1000, 999999));
	CHECK(aws_credentials_valid(&c, 2000000000));
}

static void test_margin_five_minutes_or_a_quarter(void)
{
	struct aws_credentials six_hours = temporary(0, 6 * HOUR);
	struct aws_credentials fifteen_minutes = temporary(0, 15 * 60);
	struct aws_credentials twenty_seconds = temporary(0, 20);

	CHECK_INT(aws_refresh_margin(&six_hours, -1), 300);
	CHECK_INT(aws_refresh_margin(&fifteen_minutes, -1), 225);
	CHECK_INT(aws_refresh_margin(&twenty_seconds, -1), 5);
	CHECK_INT(aws_refresh_margin(&six_hours, 42), 42);
	CHECK_INT(aws_refresh_margin(&twenty_seconds, 0), 0);
}

static void test_refresh_decision(void)
{
	struct aws_credentials hour = temporary(10000, HOUR);

	CHECK(!aws_credentials_need_refresh(&hour, 10000, -1));
	CHECK(!aws_credentials_need_refresh(&hour, 10000 + HOUR - 301, -1));
	CHECK(aws_credentials_need_refresh(&hour, 10000 + HOUR - 300, -1));
	CHECK(aws_credentials_valid(&hour, 10000 + HOUR - 1));
	CHECK(!aws_credentials_valid(&hour, 10000 + HOUR));
	CHECK(aws_credentials_need_refresh(&hour, 10000 + HOUR + 5, -1));
	/* The test override moves the window. */
	CHECK(!aws_credentials_need_refresh(&hour, 10000 + HOUR - 11, 10));
	CHECK(aws_credentials_need_refresh(&hour, 10000 + HOUR - 10, 10));
}

static void test_empty_credentials_need_fetching(void)
{
	struct aws_credentials none = { 0 };

	CHECK(aws_credentials_need_refresh(&none, 0, -1));
	CHECK(!aws_credentials_valid(&none, 0));
}

/* A clock that jumped back (obtained after expiration) gives no margin rather than a negative one. */
static void test_margin_with_odd_times(void)
{
	struct aws_credentials odd = { "ASIA", "s", "t", 100, 200 };

	CHECK_INT(aws_refresh_margin(&odd, -1), 0);
	CHECK(aws_credentials_need_refresh(&odd, 100, -1));
	CHECK(!aws_credentials_need_refresh(&odd, 99, -1));
}

/* ---- shared files ---- */

static void check_keys(const struct aws_credentials *c, const char *id, const char *secret,
		       const char *token)
{
	CHECK_STR(c->access_key_id, id);
	CHECK_STR(c->secret_access_key, secret);
	if (token)
		CHECK_STR(c->session_token, token);
	else
		CHECK(c->session_token == NULL);
	CHECK_INT(c->expiration, 0);
}

static void test_credentials_file_default(void)
{
	const char *cred = write_file(0,
		"# keys\n"
		"[other]\n"
		"aws_access_key_id = AKIDOTHER\n"
		"aws_secret_access_key = other\n"
		"\n"
		"[default]\n"
		"aws_access_key_id=AKIDDEFAULT\n"
		"aws_secret_access_key =  wJalr/K7MDENG+bPxRfiCY  \r\n"
		"; a comment\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, NULL, "default", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDDEFAULT", "wJalr/K7MDENG+bPxRfiCY", NULL);
	aws_credentials_clear(&c);
	CHECK_INT(aws_shared_files_read(cred, NULL, "other", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDOTHER", "other", NULL);
	aws_credentials_clear(&c);
}

static void test_session_token_and_case(void)
{
	const char *cred = write_file(0,
		"[temp]\n"
		"AWS_ACCESS_KEY_ID: ASIATEMP\n"
		"Aws_Secret_Access_Key: s3cret=with=equals\n"
		"aws_session_token = FwoGZXIvYXdzEJr//////////wEaDA==\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, NULL, "temp", &c, why, sizeof(why)), 0);
	check_keys(&c, "ASIATEMP", "s3cret=with=equals", "FwoGZXIvYXdzEJr//////////wEaDA==");
	aws_credentials_clear(&c);
}

static void test_config_file_profiles(void)
{
	const char *conf = write_file(1,
		"[default]\n"
		"region = eu-west-1\n"
		"aws_access_key_id = AKIDCONFDEFAULT\n"
		"aws_secret_access_key = confdefault\n"
		"[profile ops]\n"
		"region = us-east-1\n"
		"s3 =\n"
		"  aws_access_key_id = NESTED-NOT-A-KEY\n"
		"aws_access_key_id = AKIDOPS\n"
		"aws_secret_access_key = ops\n"
		"[ops]\n"
		"aws_access_key_id = AKIDWRONGSECTION\n"
		"aws_secret_access_key = wrong\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read("/nonexistent", conf, "ops", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDOPS", "ops", NULL);
	aws_credentials_clear(&c);
	CHECK_INT(aws_shared_files_read(NULL, conf, "default", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDCONFDEFAULT", "confdefault", NULL);
	aws_credentials_clear(&c);
}

static void test_credentials_file_wins_over_config(void)
{
	const char *cred = write_file(0, "[ops]\naws_access_key_id=AKIDCRED\naws_secret_access_key=c\n");
	const char *conf = write_file(1,
		"[profile ops]\naws_access_key_id=AKIDCONF\naws_secret_access_key=k\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, conf, "ops", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDCRED", "c", NULL);
	aws_credentials_clear(&c);
}

static void test_missing_profile(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id=A\naws_secret_access_key=B\n");
	const char *conf = write_file(1, "[profile regional]\nregion = eu-west-1\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, conf, "nosuch", &c, why, sizeof(why)), -ENOENT);
	CHECK_STR(why, "no profile nosuch");
	CHECK(c.access_key_id == NULL);
	CHECK_INT(aws_shared_files_read(cred, conf, "regional", &c, why, sizeof(why)), -ENOENT);
	CHECK_STR(why, "profile regional has no keys");
	CHECK_INT(aws_shared_files_read("/nonexistent", "/nonexistent", "default", &c, why,
					sizeof(why)), -ENOENT);
}

static void test_half_a_key_pair(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id = AKIDONLY\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, NULL, "default", &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "only half") != NULL);
	CHECK(c.access_key_id == NULL);
}

/*
 * Profiles that get credentials another way are not read for their keys:
 * the SDKs would assume the role rather than use dev's own keys, so esfs
 * must not sign as dev. The chain's other sources take them (-ENOENT here);
 * what esfs lacks altogether is refused.
 */
static void test_profiles_of_other_sources(void)
{
	const char *cred = write_file(0, "[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=d\n");
	const char *conf = write_file(1,
		"[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n"
		"[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
		"[profile proc]\ncredential_process = /usr/bin/get-creds\n"
		"[profile login]\nlogin_session = arn:aws:iam::123456789012:user/me\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, conf, "dev", &c, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "role_arn") != NULL);
	CHECK(c.access_key_id == NULL);
	CHECK_INT(aws_shared_files_read(cred, conf, "sso", &c, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "sso_session") != NULL);
	CHECK_INT(aws_shared_files_read(cred, conf, "proc", &c, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "credential_process") != NULL);
	CHECK_INT(aws_shared_files_read(cred, conf, "login", &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "login_session") != NULL && strstr(why, "does not support") != NULL);
}

/* Keys in the credentials file come before a credential_process in the config file. */
static void test_credentials_file_before_process(void)
{
	const char *cred = write_file(0, "[proc]\naws_access_key_id=AKIDPROC\naws_secret_access_key=p\n");
	const char *conf = write_file(1, "[profile proc]\ncredential_process = /usr/bin/get-creds\n");
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_shared_files_read(cred, conf, "proc", &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDPROC", "p", NULL);
	aws_credentials_clear(&c);
}

/* ---- metadata answers ---- */

static void test_metadata_json(void)
{
	const char *imds = "{\"Code\":\"Success\",\"LastUpdated\":\"2024-02-29T17:00:00Z\","
			   "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":"
			   "\"imds/secret\",\"Token\":\"IQoJb3JpZ2luX2Vj\",\"Expiration\":"
			   "\"2024-02-29T23:59:58Z\"}";
	const char *ecs = "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"ecs\",\"Token\":\"tok\","
			  "\"Expiration\":\"2024-02-29T23:59:58Z\",\"RoleArn\":\"arn:aws:iam::1:role/r\"}";
	struct aws_credentials c;
	char why[256] = "";

	CHECK_INT(aws_credentials_from_json(imds, strlen(imds), 1709250000, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "ASIAIMDS");
	CHECK_STR(c.secret_access_key, "imds/secret");
	CHECK_STR(c.session_token, "IQoJb3JpZ2luX2Vj");
	CHECK_INT(c.expiration, 1709251198);
	CHECK_INT(c.obtained, 1709250000);
	aws_credentials_clear(&c);
	CHECK_INT(aws_credentials_from_json(ecs, strlen(ecs), 1709250000, &c, why, sizeof(why)), 0);
	CHECK_STR(c.access_key_id, "ASIAECS");
	aws_credentials_clear(&c);
}

static void test_metadata_json_refused(void)
{
	static const char *const bad[] = {
		"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"EC2 cannot assume the role\"}",
		"{\"AccessKeyId\":\"ASIA\",\"Token\":\"t\"}",
		"{\"AccessKeyId\":\"ASIA\",\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}",
		"[\"AccessKeyId\"]",
		"not json",
		"",
	};
	struct aws_credentials c;
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_INT(aws_credentials_from_json(bad[i], strlen(bad[i]), 0, &c, why, sizeof(why)),
			  -EINVAL);
		CHECK(why[0] != '\0');
		CHECK(c.access_key_id == NULL && c.secret_access_key == NULL);
	}
}

/* ---- container URLs ---- */

static void check_container_url(const char *rel, const char *full, const char *endpoint, int want_rc,
				const char *want_url)
{
	char why[256] = "";
	char *url = NULL;

	CHECK_INT(aws_container_url(rel, full, endpoint, &url, why, sizeof(why)), want_rc);
	if (want_url)
		CHECK_STR(url, want_url);
	else
		CHECK(url == NULL);
	free(url);
}

static void test_container_urls(void)
{
	check_container_url("/v2/credentials/abc", NULL, NULL, 0,
			    "http://169.254.170.2/v2/credentials/abc");
	check_container_url("/v2/credentials/abc", NULL, "http://127.0.0.1:8123/", 0,
			    "http://127.0.0.1:8123/v2/credentials/abc");
	check_container_url("/v2/x", "http://127.0.0.1:1/ignored", "http://127.0.0.1:9", 0,
			    "http://127.0.0.1:9/v2/x");
	check_container_url("v2/no-slash", NULL, NULL, -EINVAL, NULL);
	check_container_url(NULL, NULL, NULL, -ENOENT, NULL);
	check_container_url(NULL, "http://127.0.0.1:8080/creds", NULL, 0, "http://127.0.0.1:8080/creds");
	check_container_url(NULL, "http://127.3.4.5/creds", NULL, 0, "http://127.3.4.5/creds");
	check_container_url(NULL, "http://localhost:80/creds", NULL, 0, "http://localhost:80/creds");
	check_container_url(NULL, "http://[::1]:80/creds", NULL, 0, "http://[::1]:80/creds");
	check_container_url(NULL, "http://169.254.170.23/v1/credentials", NULL, 0,
			    "http://169.254.170.23/v1/credentials");
	check_container_url(NULL, "http://[fd00:ec2::23]/v1/credentials", NULL, 0,
			    "http://[fd00:ec2::23]/v1/credentials");
	check_container_url(NULL, "https://creds.example.com/x", NULL, 0, "https://creds.example.com/x");
	check_container_url(NULL, "http://creds.example.com/x", NULL, -EINVAL, NULL);
	check_container_url(NULL, "http://10.0.0.1/x", NULL, -EINVAL, NULL);
	check_container_url(NULL, "http://127.0.0.1.evil.example/x", NULL, -EINVAL, NULL);
	check_container_url(NULL, "ftp://127.0.0.1/x", NULL, -EINVAL, NULL);
	/* User info: libcurl would go to the host after the '@'. */
	check_container_url(NULL, "http://127.0.0.1:80@evil.example/x", NULL, -EINVAL, NULL);
	check_container_url(NULL, "http://[::1]:@80./x", NULL, -EINVAL, NULL);
	check_container_url(NULL, "http://localhost/x?a@b", NULL, 0, "http://localhost/x?a@b");
}

/* ---- the chain, over sources that need no network ---- */

static void test_chain_environment_first(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=f\n");
	struct aws_chain *ch;
	struct aws_credentials c;
	struct buf out = BUF_INIT;
	char why[512] = "", source[64];

	no_network_sources();
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	ch = aws_chain_new(NULL);
	CHECK(ch != NULL);
	/* The secrets leave the environment, so that no child process inherits them. */
	CHECK(getenv("AWS_SECRET_ACCESS_KEY") == NULL);
	CHECK(getenv("AWS_SESSION_TOKEN") == NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDENV", "env-secret", "env-token");
	aws_credentials_clear(&c);
	aws_chain_source(ch, source, sizeof(source));
	CHECK_STR(source, "environment");
	CHECK_INT(aws_chain_render(ch, &out), 0);
	CHECK(strstr(out.data, "source environment\n") != NULL);
	CHECK(strstr(out.data, "access_key_id AKIDENV\n") != NULL);
	CHECK(strstr(out.data, "expiration -\n") != NULL);
	CHECK(strstr(out.data, "env-secret") == NULL);
	CHECK(strstr(out.data, "env-token") == NULL);
	buf_free(&out);
	aws_chain_free(ch);
}

static void test_chain_shared_file_profile(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id=AKIDDEF\naws_secret_access_key=d\n"
					 "[ops]\naws_access_key_id=AKIDOPS\naws_secret_access_key=o\n");
	struct aws_chain *ch;
	struct aws_credentials c;
	struct buf out = BUF_INIT;
	char why[512] = "", source[64];

	no_network_sources();
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_PROFILE", "ops", 1);
	ch = aws_chain_new(NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDOPS", "o", NULL);
	aws_credentials_clear(&c);
	aws_chain_source(ch, source, sizeof(source));
	CHECK_STR(source, "shared-file:ops");
	CHECK_INT(aws_chain_render(ch, &out), 0);
	CHECK(strstr(out.data, "source shared-file:ops\n") != NULL);
	CHECK(strstr(out.data, "fetches 1\n") != NULL);
	buf_free(&out);
	aws_chain_free(ch);
}

/* esfs reads the files later, from /, once in the background: a relative name is made absolute first. */
static void test_chain_relative_file_survives_a_change_of_directory(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id=AKIDREL\naws_secret_access_key=r\n");
	char here[512];
	struct aws_chain *ch;
	struct aws_credentials c;
	char why[512] = "";

	no_network_sources();
	CHECK(getcwd(here, sizeof(here)) != NULL);
	CHECK_INT(chdir(tmpdir), 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", strrchr(cred, '/') + 1, 1);
	unsetenv("AWS_PROFILE");
	ch = aws_chain_new(NULL);
	CHECK_INT(chdir("/"), 0);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), 0);
	check_keys(&c, "AKIDREL", "r", NULL);
	aws_credentials_clear(&c);
	aws_chain_free(ch);
	CHECK_INT(chdir(here), 0);
}

static void test_chain_named_profile_must_exist(void)
{
	const char *cred = write_file(0, "[default]\naws_access_key_id=AKIDDEF\naws_secret_access_key=d\n");
	struct aws_chain *ch;
	struct aws_credentials c;
	char why[512] = "";

	no_network_sources();
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_PROFILE", "typo", 1);
	ch = aws_chain_new(NULL);
	CHECK(aws_chain_get(ch, &c, why, sizeof(why)) < 0);
	CHECK(strstr(why, "shared-file: no profile typo") != NULL);
	CHECK(c.access_key_id == NULL);
	aws_chain_free(ch);
}

static void test_chain_nothing_found(void)
{
	struct aws_chain *ch;
	struct aws_credentials c;
	char why[1024] = "";

	no_network_sources();
	ch = aws_chain_new(NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "no AWS credentials found") != NULL);
	CHECK(strstr(why, "environment: ") != NULL);
	CHECK(strstr(why, "shared-file: no profile default") != NULL);
	CHECK(strstr(why, "container: ") != NULL);
	CHECK(strstr(why, "instance-metadata: AWS_EC2_METADATA_DISABLED") != NULL);
	/* A second request within the back-off gets the same answer without trying again. */
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "no AWS credentials found") != NULL);
	aws_chain_free(ch);
}

static void test_chain_partial_environment(void)
{
	struct aws_chain *ch;
	struct aws_credentials c;
	char why[512] = "";

	no_network_sources();
	setenv("AWS_ACCESS_KEY_ID", "AKIDHALF", 1);
	ch = aws_chain_new(NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "environment: only one of") != NULL);
	aws_chain_free(ch);
}

/* A container URL the SDKs refuse stops the chain before any request is sent. */
static void test_chain_refuses_remote_container_url(void)
{
	struct aws_chain *ch;
	struct aws_credentials c;
	char why[512] = "";

	no_network_sources();
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
	ch = aws_chain_new(NULL);
	CHECK_INT(aws_chain_get(ch, &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be") != NULL);
	aws_chain_free(ch);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
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
	{ "parse_time", test_parse_time },
	{ "long_term_keys_never_refresh", test_long_term_keys_never_refresh },
	{ "margin_five_minutes_or_a_quarter", test_margin_five_minutes_or_a_quarter },
	{ "refresh_decision", test_refresh_decision },
	{ "empty_credentials_need_fetching", test_empty_credentials_need_fetching },
	{ "margin_with_odd_times", test_margin_with_odd_times },
	{ "credentials_file_default", test_credentials_file_default },
	{ "session_token_and_case", test_session_token_and_case },
	{ "config_file_profiles", test_config_file_profiles },
	{ "credentials_file_wins_over_config", test_credentials_file_wins_over_config },
	{ "missing_profile", test_missing_profile },
	{ "half_a_key_pair", test_half_a_key_pair },
	{ "profiles_of_other_sources", test_profiles_of_other_sources },
	{ "credentials_file_before_process", test_credentials_file_before_process },
	{ "metadata_json", test_metadata_json },
	{ "metadata_json_refused", test_metadata_json_refused },
	{ "container_urls", test_container_urls },
	{ "chain_environment_first", test_chain_environment_first },
	{ "chain_shared_file_profile", test_chain_shared_file_profile },
	{ "chain_relative_file_survives_a_change_of_directory",
	  test_chain_relative_file_survives_a_change_of_directory },
	{ "chain_named_profile_must_exist", test_chain_named_profile_must_exist },
	{ "chain_nothing_found", test_chain_nothing_found },
	{ "chain_partial_environment", test_chain_partial_environment },
	{ "chain_refuses_remote_container_url", test_chain_refuses_remote_container_url },
	{ NULL, NULL }
};

int main(int argc, char **argv)
{
	int rc;

	/* Whatever the caller's environment says, these tests never reach a metadata address. */
	no_network_sources();
	rc = unit_main(argc, argv, cases);
	cleanup();
	return rc;
}
