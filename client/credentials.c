#include "client/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/sys.h"

static void set_secret(char **field, const char *value)
{
	secret_free(field);
	*field = strdup(value);
}

void credentials_clear(struct credentials *c)
{
	secret_free(&c->user);
	secret_free(&c->password);
	secret_free(&c->api_key);
}

/*
 * unsetenv only unlinks the variable: its text stays where the kernel put it,
 * and /proc/<pid>/environ would show it for the life of the mount. So the
 * value is overwritten in place first.
 */
static void take_env(char **field, const char *name)
{
	char *value = getenv(name);

	if (value && *value) {
		set_secret(field, value);
		explicit_bzero(value, strlen(value));
	}
	unsetenv(name);
}

void credentials_from_env(struct credentials *c)
{
	take_env(&c->user, "ESFS_USER");
	take_env(&c->password, "ESFS_PASSWORD");
	take_env(&c->api_key, "ESFS_API_KEY");
}

static void trim_line_end(char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
}

static int parse_line(char *line, struct credentials *c)
{
	char *eq = strchr(line, '=');

	trim_line_end(line);
	if (!line[0] || line[0] == '#')
		return 0;
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	if (!strcmp(line, "user"))
		set_secret(&c->user, eq + 1);
	else if (!strcmp(line, "password"))
		set_secret(&c->password, eq + 1);
	else if (!strcmp(line, "api_key"))
		set_secret(&c->api_key, eq + 1);
	else
		return -EINVAL;
	return 0;
}

/* Checked on the open descriptor, so the file cannot be swapped between check and read. */
static int check_private(int fd, const char *path, char *why, size_t why_len)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, why_len, "%s is readable by others (mode %03o); chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

int credentials_from_file(const char *path, struct credentials *c, char *why, size_t why_len)
{
	char line[4096];
	int lineno = 0, rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	rc = check_private(fd, path, why, why_len);
	f = rc ? NULL : fdopen(fd, "r");
	if (!f) {
		close(fd);
		return rc ? rc : -errno;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		rc = parse_line(line, c);
		if (rc)
			snprintf(why, why_len, "%s:%d: expected user=, password= or api_key=", path, lineno);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return rc;
}

static int has_control_character(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int credentials_check(const struct credentials *c, char *why, size_t why_len)
{
	const char *problem = NULL;

	if (c->password && !c->user)
		problem = "a password was given without a user";
	else if (c->user && c->api_key)
		problem = "both a user and an API key were given: esfs sends one or the other, so choose";
	else if (has_control_character(c->api_key))
		problem = "the API key has a control character (CR, LF, ...): it cannot go into a header";
	else if (has_control_character(c->user) || (c->user && strchr(c->user, ':')))
		problem = "the user name has a control character or a ':'";
	if (!problem)
		return 0;
	snprintf(why, why_len, "%s", problem);
	return -EINVAL;
}
