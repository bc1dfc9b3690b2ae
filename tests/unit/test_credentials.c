#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/credentials.h"
#include "unit.h"

static char *write_temp(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/esfs-cred-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, text, strlen(text)), (long long)strlen(text));
	fchmod(fd, mode);
	close(fd);
	return path;
}

static void reads_user_and_password(void)
{
	struct credentials c = { 0 };
	char why[256] = "";
	char *path = write_temp("# operator account\nuser=backup\npassword=s3cr=t\n", 0600);

	CHECK_INT(credentials_from_file(path, &c, why, sizeof(why)), 0);
	CHECK_STR(c.user, "backup");
	CHECK_STR(c.password, "s3cr=t");
	CHECK(c.api_key == NULL);
	credentials_clear(&c);
	CHECK(c.user == NULL && c.password == NULL);
	unlink(path);
}

static void reads_api_key(void)
{
	struct credentials c = { 0 };
	char why[256] = "";
	char *path = write_temp("api_key=VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\r\n", 0400);

	CHECK_INT(credentials_from_file(path, &c, why, sizeof(why)), 0);
	CHECK_STR(c.api_key, "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
	credentials_clear(&c);
	unlink(path);
}

static void refuses_a_file_others_can_read(void)
{
	struct credentials c = { 0 };
	char why[256] = "";
	char *path = write_temp("user=a\npassword=b\n", 0644);

	CHECK_INT(credentials_from_file(path, &c, why, sizeof(why)), -EPERM);
	CHECK(strstr(why, "chmod 600") != NULL);
	CHECK(c.user == NULL);
	unlink(path);
}

static void refuses_unknown_lines(void)
{
	struct credentials c = { 0 };
	char why[256] = "";
	char *path = write_temp("user=a\ntoken=b\n", 0600);

	CHECK_INT(credentials_from_file(path, &c, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, ":2:") != NULL);
	credentials_clear(&c);
	unlink(path);
}

static void environment_is_taken_and_cleared(void)
{
	struct credentials c = { 0 };

	setenv("ESFS_USER", "u", 1);
	setenv("ESFS_PASSWORD", "p", 1);
	credentials_from_env(&c);
	CHECK_STR(c.user, "u");
	CHECK_STR(c.password, "p");
	CHECK(getenv("ESFS_PASSWORD") == NULL);
	credentials_clear(&c);
}

static void checks_what_can_be_sent(void)
{
	struct credentials ok_basic = { .user = "u", .password = "p\r\n" };	/* base64 carries any byte */
	struct credentials ok_key = { .api_key = "YWJjOmRlZg==" };
	struct credentials crlf_key = { .api_key = "abc\r\nX-Injected: 1" };
	struct credentials both = { .user = "u", .password = "p", .api_key = "k" };
	struct credentials lone_password = { .password = "p" };
	struct credentials colon_user = { .user = "a:b", .password = "p" };
	char why[256] = "";

	CHECK_INT(credentials_check(&ok_basic, why, sizeof(why)), 0);
	CHECK_INT(credentials_check(&ok_key, why, sizeof(why)), 0);
	CHECK_INT(credentials_check(&crlf_key, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "control character") != NULL);
	CHECK(strstr(why, "Injected") == NULL);
	CHECK_INT(credentials_check(&both, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "both a user and an API key") != NULL);
	CHECK_INT(credentials_check(&lone_password, why, sizeof(why)), -EINVAL);
	CHECK_INT(credentials_check(&colon_user, why, sizeof(why)), -EINVAL);
}

static const struct unit_case cases[] = {
	{ "checks_what_can_be_sent", checks_what_can_be_sent },
	{ "reads_user_and_password", reads_user_and_password },
	{ "reads_api_key", reads_api_key },
	{ "refuses_a_file_others_can_read", refuses_a_file_others_can_read },
	{ "refuses_unknown_lines", refuses_unknown_lines },
	{ "environment_is_taken_and_cleared", environment_is_taken_and_cleared },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
