/*
 * Reads profiles and [sso-session] sections of the AWS shared files, as the SDKs do (see
 * profile.h).
 */
#include "client/aws/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sys.h"

enum section_kind {
	SECTION_CREDENTIALS,	/* ~/.aws/credentials: [NAME] */
	SECTION_PROFILE,	/* ~/.aws/config: [profile NAME], or [default] */
	SECTION_SSO_SESSION,	/* ~/.aws/config: [sso-session NAME] */
};

static const char *const setting_keys[AWS_PROFILE_NSETTINGS] = {
	[AWS_PROFILE_ROLE_ARN] = "role_arn",
	[AWS_PROFILE_SOURCE_PROFILE] = "source_profile",
	[AWS_PROFILE_CREDENTIAL_SOURCE] = "credential_source",
	[AWS_PROFILE_ROLE_SESSION_NAME] = "role_session_name",
	[AWS_PROFILE_EXTERNAL_ID] = "external_id",
	[AWS_PROFILE_DURATION_SECONDS] = "duration_seconds",
	[AWS_PROFILE_WEB_IDENTITY_TOKEN_FILE] = "web_identity_token_file",
	[AWS_PROFILE_CREDENTIAL_PROCESS] = "credential_process",
	[AWS_PROFILE_SSO_SESSION] = "sso_session",
	[AWS_PROFILE_SSO_START_URL] = "sso_start_url",
	[AWS_PROFILE_SSO_REGION] = "sso_region",
	[AWS_PROFILE_SSO_ACCOUNT_ID] = "sso_account_id",
	[AWS_PROFILE_SSO_ROLE_NAME] = "sso_role_name",
	[AWS_PROFILE_REGION] = "region",
};

static void keys_clear(struct aws_profile_keys *k)
{
	secret_free(&k->access_key_id);
	secret_free(&k->secret_access_key);
	secret_free(&k->session_token);
}

void aws_profile_clear(struct aws_profile *p)
{
	keys_clear(&p->cred);
	keys_clear(&p->conf);
	for (int i = 0; i < AWS_PROFILE_NSETTINGS; i++)
		free(p->setting[i]);
	memset(p, 0, sizeof(*p));
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* "profile NAME" or "sso-session NAME": the name after the word and its blanks, or NULL. */
static const char *after_word(const char *section, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(section, word, n) || (section[n] != ' ' && section[n] != '\t'))
		return NULL;
	section += n;
	while (*section == ' ' || *section == '\t')
		section++;
	return section;
}

static int is_wanted_section(const char *section, const char *name, enum section_kind kind)
{
	const char *rest;

	if (kind == SECTION_CREDENTIALS)
		return !strcmp(section, name);
	rest = after_word(section, kind == SECTION_PROFILE ? "profile" : "sso-session");
	if (rest)
		return !strcmp(rest, name);
	return kind == SECTION_PROFILE && !strcmp(section, "default") && !strcmp(name, "default");
}

/* Keys that make the SDKs get credentials some way esfs lacks: esfs must not quietly use another. */
static int is_unsupported_key(const char *key)
{
	return !strcmp(key, "login_session");
}

static void set_value(char **field, const char *value)
{
	secret_free(field);
	*field = strdup(value);
}

static void take_key(struct aws_profile *p, enum section_kind kind, char *key, const char *value)
{
	struct aws_profile_keys *k = kind == SECTION_CREDENTIALS ? &p->cred : &p->conf;

	for (char *c = key; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (!strcmp(key, "aws_access_key_id"))
		set_value(&k->access_key_id, value);
	else if (!strcmp(key, "aws_secret_access_key"))
		set_value(&k->secret_access_key, value);
	else if (!strcmp(key, "aws_session_token") ||
		 (!strcmp(key, "aws_security_token") && !k->session_token))
		set_value(&k->session_token, value);
	else if (is_unsupported_key(key) && !p->unsupported[0])
		snprintf(p->unsupported, sizeof(p->unsupported), "%s", key);
	else
		for (int i = 0; i < AWS_PROFILE_NSETTINGS; i++)
			if (!strcmp(key, setting_keys[i]))
				set_value(&p->setting[i], value);
}

/*
 * One line of an INI file as the SDKs (Python's configparser) read it:
 * comments start with '#' or ';', an indented line continues the previous
 * value (nested settings, which hold no keys), and "key = value" or
 * "key: value" split at the first '=' or ':'.
 */
static void ini_line(char *line, const char *name, enum section_kind kind, int *in_section,
		     struct aws_profile *p)
{
	char *s, *sep;

	if (line[0] == ' ' || line[0] == '\t')
		return;
	s = trim(line);
	if (!*s || *s == '#' || *s == ';')
		return;
	if (*s == '[') {
		char *close = strrchr(s, ']');

		*in_section = 0;
		if (!close)
			return;
		*close = '\0';
		*in_section = is_wanted_section(trim(s + 1), name, kind);
		p->found |= *in_section;
		return;
	}
	sep = strpbrk(s, "=:");
	if (!*in_section || !sep)
		return;
	*sep = '\0';
	take_key(p, kind, trim(s), trim(sep + 1));
}

static void ini_read(const char *path, const char *name, enum section_kind kind,
		     struct aws_profile *p)
{
	char line[8192];
	int in_section = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		ini_line(line, name, kind, &in_section, p);
	explicit_bzero(line, sizeof(line));
	fclose(f);
}

int aws_profile_read(const char *credentials_path, const char *config_path, const char *name,
		     struct aws_profile *out)
{
	memset(out, 0, sizeof(*out));
	/* The config file first, so that the credentials file's settings win. */
	ini_read(config_path, name, SECTION_PROFILE, out);
	ini_read(credentials_path, name, SECTION_CREDENTIALS, out);
	return 0;
}

int aws_sso_session_read(const char *config_path, const char *name, struct aws_profile *out)
{
	memset(out, 0, sizeof(*out));
	ini_read(config_path, name, SECTION_SSO_SESSION, out);
	return 0;
}
