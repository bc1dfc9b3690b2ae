#include "client/aws/credentials.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/aws/metadata.h"
#include "client/sys.h"

/* After a failed fetch, requests use what is left rather than each trying again. */
#define RETRY_AFTER_FAILURE 5
/* Credentials that arrive already inside the margin are not fetched again at every request. */
#define MIN_REFRESH_INTERVAL 1

static void format_time(time_t t, char out[21])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 21, "%lld", (long long)t);
}

/* ---- shared files ---- */

/* The keys of one profile section. */
struct ini_profile {
	int found;
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	char unsupported[32];	/* a key naming a way to get credentials that esfs lacks */
};

static void ini_profile_clear(struct ini_profile *p)
{
	secret_free(&p->access_key_id);
	secret_free(&p->secret_access_key);
	secret_free(&p->session_token);
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

/* In the config file a profile is "[profile NAME]"; the default may also be "[default]". */
static int is_wanted_section(const char *name, const char *profile, int config_file)
{
	if (!config_file)
		return !strcmp(name, profile);
	if (!strncmp(name, "profile", 7) && (name[7] == ' ' || name[7] == '\t')) {
		const char *p = name + 7;

		while (*p == ' ' || *p == '\t')
			p++;
		return !strcmp(p, profile);
	}
	return !strcmp(name, "default") && !strcmp(profile, "default");
}

/* Keys that make the SDKs get credentials some other way: esfs must not quietly use another. */
static int is_unsupported_key(const char *key)
{
	static const char *const keys[] = {
		"role_arn", "credential_process", "web_identity_token_file", "sso_session",
		"sso_start_url", "sso_account_id", "credential_source", "login_session",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

static void set_secret(char **field, const char *value)
{
	secret_free(field);
	*field = strdup(value);
}

static void ini_take_key(struct ini_profile *p, char *key, const char *value)
{
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k - 'A' + 'a');
	if (!strcmp(key, "aws_access_key_id"))
		set_secret(&p->access_key_id, value);
	else if (!strcmp(key, "aws_secret_access_key"))
		set_secret(&p->secret_access_key, value);
	else if (!strcmp(key, "aws_session_token") ||
		 (!strcmp(key, "aws_security_token") && !p->session_token))
		set_secret(&p->session_token, value);
	else if (is_unsupported_key(key) && !p->unsupported[0])
		snprintf(p->unsupported, sizeof(p->unsupported), "%s", key);
}

/*
 * One line of an INI file as the SDKs (Python's configparser) read it:
 * comments start with '#' or ';', an indented line continues the previous
 * value (nested settings, which hold no keys), and "key = value" or
 * "key: value" split at the first '=' or ':'.
 */
static void ini_line(char *line, const char *profile, int config_file, int *in_section,
		     struct ini_profile *p)
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
		*in_section = is_wanted_section(trim(s + 1), profile, config_file);
		p->found |= *in_section;
		return;
	}
	sep = strpbrk(s, "=:");
	if (!*in_section || !sep)
		return;
	*sep = '\0';
	ini_take_key(p, trim(s), trim(sep + 1));
}

static int ini_read(const char *path, const char *profile, int config_file, struct ini_profile *p)
{
	char line[8192];
	int in_section = 0;
	FILE *f = path ? fopen(path, "re") : NULL;

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f))
		ini_line(line, profile, config_file, &in_section, p);
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return 0;
}

/* Returns 1 when p holds a key pair, 0 when it holds none, -EINVAL for half of one. */
static int ini_take_pair(struct ini_profile *p, const char *path, const char *profile,
			 struct aws_credentials *out, char *why, size_t why_len)
{
	if (!p->access_key_id && !p->secret_access_key)
		return 0;
	if (!p->access_key_id || !p->secret_access_key || !*p->access_key_id ||
	    !*p->secret_access_key) {
		snprintf(why, why_len, "%s: profile %s has only half of aws_access_key_id and "
			 "aws_secret_access_key", path, profile);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->access_key_id = p->access_key_id;
	out->secret_access_key = p->secret_access_key;
	out->session_token = p->session_token && *p->session_token ? p->session_token : NULL;
	if (!out->session_token)
		secret_free(&p->session_token);
	p->access_key_id = p->secret_access_key = p->session_token = NULL;
	return 1;
}

/*
 * The SDKs try role_arn, web identity and SSO before plain keys, and
 * credential_process before the config file's keys; esfs has none of them
 * and says so rather than sign as someone else.
 */
static int pick_profile_keys(struct ini_profile *cred, struct ini_profile *conf,
			     const char *cred_path, const char *conf_path, const char *profile,
			     struct aws_credentials *out, char *why, size_t why_len)
{
	const char *unsupported = conf->unsupported[0] ? conf->unsupported : cred->unsupported;
	int rc;

	if (unsupported[0] && strcmp(unsupported, "credential_process")) {
		snprintf(why, why_len, "profile %s uses %s, which esfs does not support; export "
			 "credentials with `aws configure export-credentials --format env`",
			 profile, unsupported);
		return -EINVAL;
	}
	rc = ini_take_pair(cred, cred_path, profile, out, why, why_len);
	if (rc)
		return rc < 0 ? rc : 0;
	if (unsupported[0]) {
		snprintf(why, why_len, "profile %s uses credential_process, which esfs does not "
			 "support", profile);
		return -EINVAL;
	}
	rc = ini_take_pair(conf, conf_path, profile, out, why, why_len);
	if (rc)
		return rc < 0 ? rc : 0;
	snprintf(why, why_len, cred->found || conf->found ? "profile %s has no keys" :
		 "no profile %s", profile);
	return -ENOENT;
}

int aws_shared_files_read(const char *credentials_path, const char *config_path,
			  const char *profile, struct aws_credentials *out, char *why, size_t why_len)
{
	struct ini_profile cred = { 0 }, conf = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	ini_read(credentials_path, profile, 0, &cred);
	ini_read(config_path, profile, 1, &conf);
	rc = pick_profile_keys(&cred, &conf, credentials_path, config_path, profile, out, why,
			       why_len);
	ini_profile_clear(&cred);
	ini_profile_clear(&conf);
	return rc;
}

/* ---- settings from the environment ---- */

enum aws_source {
	SOURCE_NONE,
	SOURCE_ENVIRONMENT,
	SOURCE_SHARED_FILE,
	SOURCE_CONTAINER,
	SOURCE_INSTANCE_METADATA,
};

struct aws_settings {
	struct aws_credentials env;
	int env_partial;
	char *profile;
	int profile_explicit;
	char *credentials_file;
	char *config_file;
	struct aws_container_source container;
	char container_error[256];	/* a container URL the SDKs would refuse */
	int imds_disabled;
	char *imds_endpoint;
	long margin_override;		/* ESFS_AWS_REFRESH_MARGIN, or -1 */
};

/* Takes a secret out of the environment, so that no child process inherits it. */
static char *take_env_secret(const char *name)
{
	const char *v = env_value(name);
	char *copy = v ? strdup(v) : NULL;

	unsetenv(name);
	return copy;
}

static char *home_path(const char *rest)
{
	const char *home = env_value("HOME");
	struct passwd *pw;
	char *path;

	if (!home && (pw = getpwuid(getuid())))
		home = pw->pw_dir;
	if (!home || asprintf(&path, "%s/%s", home, rest) < 0)
		return NULL;
	return path;
}

/*
 * The SDKs expand a leading "~/" in the file settings. A relative one is made
 * absolute now: the files are read later, when esfs's working directory is /.
 */
static char *file_setting(const char *name, const char *fallback)
{
	const char *v = env_value(name);

	if (!v)
		return home_path(fallback);
	if (!strncmp(v, "~/", 2))
		return home_path(v + 2);
	return path_absolute(v);
}

static void read_env_keys(struct aws_settings *s)
{
	s->env.access_key_id = take_env_secret("AWS_ACCESS_KEY_ID");
	s->env.secret_access_key = take_env_secret("AWS_SECRET_ACCESS_KEY");
	s->env.session_token = take_env_secret("AWS_SESSION_TOKEN");
	if (!s->env.session_token)
		s->env.session_token = take_env_secret("AWS_SECURITY_TOKEN");
	s->env_partial = !s->env.access_key_id != !s->env.secret_access_key;
}

static void read_profile_settings(struct aws_settings *s)
{
	const char *profile = env_value("AWS_PROFILE");

	if (!profile)
		profile = env_value("AWS_DEFAULT_PROFILE");
	s->profile_explicit = profile != NULL;
	s->profile = strdup(profile ? profile : "default");
	s->credentials_file = file_setting("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	s->config_file = file_setting("AWS_CONFIG_FILE", ".aws/config");
}

static void read_container_settings(struct aws_settings *s)
{
	int rc = aws_container_url(env_value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
				   env_value("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
				   env_value("ESFS_AWS_CONTAINER_ENDPOINT"), &s->container.url,
				   s->container_error, sizeof(s->container_error));

	if (rc != -EINVAL)
		s->container_error[0] = '\0';
	s->container.auth_token = take_env_secret("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	if (env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
		s->container.auth_token_file = file_setting("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL);
}

static void read_imds_settings(struct aws_settings *s)
{
	const char *disabled = env_value("AWS_EC2_METADATA_DISABLED");
	const char *endpoint = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

	s->imds_disabled = disabled && !strcasecmp(disabled, "true");
	if (!endpoint)
		endpoint = mode && !strcasecmp(mode, "IPv6") ? AWS_IMDS_DEFAULT_ENDPOINT_IPV6 :
							      AWS_IMDS_DEFAULT_ENDPOINT;
	s->imds_endpoint = strdup(endpoint);
	if (s->imds_endpoint) {
		size_t n = strlen(s->imds_endpoint);

		while (n && s->imds_endpoint[n - 1] == '/')
			s->imds_endpoint[--n] = '\0';
	}
}

static long read_margin_override(void)
{
	const char *v = env_value("ESFS_AWS_REFRESH_MARGIN");
	char *end;
	long n;

	if (!v)
		return -1;
	n = strtol(v, &end, 10);
	return *end || n < 0 ? -1 : n;
}

static int read_settings(struct aws_settings *s)
{
	read_env_keys(s);
	read_profile_settings(s);
	read_container_settings(s);
	read_imds_settings(s);
	s->margin_override = read_margin_override();
	return s->profile && s->imds_endpoint ? 0 : -ENOMEM;
}

static void free_settings(struct aws_settings *s)
{
	aws_credentials_clear(&s->env);
	free(s->profile);
	free(s->credentials_file);
	free(s->config_file);
	free(s->container.url);
	secret_free(&s->container.auth_token);
	free(s->container.auth_token_file);
	free(s->imds_endpoint);
}

/* ---- the sources ---- */

/*
 * Each returns 0 with credentials, -ENOENT when it is not set up (the chain
 * goes on), or another negative errno when it is set up but failed (the
 * chain stops, as the SDKs' does, rather than fall through to someone else).
 */
static int from_environment(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			    char *why, size_t why_len)
{
	if (s->env_partial) {
		snprintf(why, why_len, "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set");
		return -EINVAL;
	}
	if (!s->env.access_key_id) {
		snprintf(why, why_len, "AWS_ACCESS_KEY_ID is not set");
		return -ENOENT;
	}
	if (aws_credentials_copy(out, &s->env))
		return -ENOMEM;
	out->obtained = now;
	return 0;
}

static int from_shared_file(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			    char *why, size_t why_len)
{
	int rc = aws_shared_files_read(s->credentials_file, s->config_file, s->profile, out, why,
				       why_len);

	/* A profile asked for by name must exist; the default one need not. */
	if (rc == -ENOENT && s->profile_explicit && !strncmp(why, "no profile", 10))
		rc = -EINVAL;
	if (rc == 0)
		out->obtained = now;
	return rc;
}

static int from_container(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			  char *why, size_t why_len)
{
	if (s->container_error[0]) {
		snprintf(why, why_len, "%s", s->container_error);
		return -EINVAL;
	}
	if (!s->container.url) {
		snprintf(why, why_len, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
		return -ENOENT;
	}
	return aws_container_fetch(&s->container, now, out, why, why_len);
}

/* The last source: a failure there only means no credentials were found. */
static int from_instance_metadata(const struct aws_settings *s, time_t now,
				  struct aws_credentials *out, char *why, size_t why_len)
{
	int rc;

	if (s->imds_disabled) {
		snprintf(why, why_len, "AWS_EC2_METADATA_DISABLED is true");
		return -ENOENT;
	}
	rc = aws_imds_fetch(s->imds_endpoint, now, out, why, why_len);
	return rc ? -ENOENT : 0;
}

typedef int (*source_fetch)(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			    char *why, size_t why_len);

static const struct {
	enum aws_source id;
	const char *name;
	source_fetch fetch;
} sources[] = {
	{ SOURCE_ENVIRONMENT, "environment", from_environment },
	{ SOURCE_SHARED_FILE, "shared-file", from_shared_file },
	{ SOURCE_CONTAINER, "container", from_container },
	{ SOURCE_INSTANCE_METADATA, "instance-metadata", from_instance_metadata },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

static const char *source_name(enum aws_source id)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (sources[i].id == id)
			return sources[i].name;
	return "none";
}

static int fetch_from(const struct aws_settings *s, enum aws_source id, time_t now,
		      struct aws_credentials *out, char *why, size_t why_len)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (sources[i].id == id)
			return sources[i].fetch(s, now, out, why, why_len);
	return -EINVAL;
}

/* Tries the sources in order; *found is the one that answered, or the one that failed. */
static int fetch_first(const struct aws_settings *s, time_t now, struct aws_credentials *out,
		       enum aws_source *found, char *why, size_t why_len)
{
	struct buf tried = BUF_INIT;
	char one[512];
	int rc = -ENOENT;

	for (size_t i = 0; i < NSOURCES && rc == -ENOENT; i++) {
		one[0] = '\0';
		rc = sources[i].fetch(s, now, out, one, sizeof(one));
		if (rc == 0 || rc != -ENOENT) {
			*found = sources[i].id;
			snprintf(why, why_len, "%s: %s", sources[i].name, one);
		} else {
			buf_printf(&tried, "%s%s: %s", tried.len ? "; " : "", sources[i].name, one);
		}
	}
	if (rc == -ENOENT)
		snprintf(why, why_len, "no AWS credentials found (%s)", tried.data ? tried.data : "");
	buf_free(&tried);
	return rc;
}

/* ---- the chain ---- */

struct aws_chain {
	struct aws_settings settings;	/* read-only once made: fetches read it unlocked */
	pthread_mutex_t lock;
	pthread_cond_t fetched;
	enum aws_source source;
	struct aws_credentials current;
	int fetching;
	time_t next_try;		/* no new fetch before this, unless nothing is valid */
	time_t last_fetch;
	unsigned long fetches;
	unsigned long failures;
	int last_rc;
	char last_error[512];
};

struct aws_chain *aws_chain_new(void)
{
	struct aws_chain *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	pthread_mutex_init(&ch->lock, NULL);
	pthread_cond_init(&ch->fetched, NULL);
	/* Balanced in aws_chain_free; the metadata fetches may come before main's own init. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (read_settings(&ch->settings)) {
		aws_chain_free(ch);
		return NULL;
	}
	return ch;
}

void aws_chain_free(struct aws_chain *ch)
{
	if (!ch)
		return;
	free_settings(&ch->settings);
	aws_credentials_clear(&ch->current);
	pthread_cond_destroy(&ch->fetched);
	pthread_mutex_destroy(&ch->lock);
	curl_global_cleanup();
	free(ch);
}

/*
 * Called with the lock held and returns with it held; the fetch itself runs
 * unlocked, so that other requests go on with the current credentials.
 */
static void fetch_unlocked(struct aws_chain *ch, time_t now)
{
	struct aws_credentials fresh = { 0 };
	enum aws_source source = ch->source;
	char why[512] = "";
	int rc;

	ch->fetching = 1;
	pthread_mutex_unlock(&ch->lock);
	if (source == SOURCE_NONE)
		rc = fetch_first(&ch->settings, now, &fresh, &source, why, sizeof(why));
	else
		rc = fetch_from(&ch->settings, source, now, &fresh, why, sizeof(why));
	pthread_mutex_lock(&ch->lock);
	ch->fetching = 0;
	ch->fetches++;
	ch->last_fetch = now;
	ch->last_rc = rc;
	if (rc == 0) {
		ch->source = source;
		aws_credentials_move(&ch->current, &fresh);
		ch->next_try = now + MIN_REFRESH_INTERVAL;
		ch->last_error[0] = '\0';
	} else {
		ch->failures++;
		ch->next_try = now + RETRY_AFTER_FAILURE;
		snprintf(ch->last_error, sizeof(ch->last_error), "%s", why);
		aws_credentials_clear(&fresh);
	}
	pthread_cond_broadcast(&ch->fetched);
}

/* Whether to use ch->current as it is (1), fail (-errno), or go round again (0). */
static int settle(struct aws_chain *ch, time_t now)
{
	int valid = aws_credentials_valid(&ch->current, now);

	if (!aws_credentials_need_refresh(&ch->current, now, ch->settings.margin_override))
		return 1;
	if (ch->fetching) {
		if (valid)
			return 1;
		pthread_cond_wait(&ch->fetched, &ch->lock);
		return 0;
	}
	if (now < ch->next_try)
		return valid ? 1 : (ch->last_rc ? ch->last_rc : -EACCES);
	fetch_unlocked(ch, now);
	if (aws_credentials_valid(&ch->current, time(NULL)))
		return 1;
	return ch->last_rc ? ch->last_rc : -EACCES;
}

int aws_chain_get(struct aws_chain *ch, struct aws_credentials *out, char *why, size_t why_len)
{
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ch->lock);
	while ((rc = settle(ch, time(NULL))) == 0)
		;
	if (rc == 1)
		rc = aws_credentials_copy(out, &ch->current);
	else
		snprintf(why, why_len, "%s", ch->last_error[0] ? ch->last_error :
			 "the AWS credentials have expired");
	pthread_mutex_unlock(&ch->lock);
	return rc;
}

static void render_time(struct buf *out, const char *name, time_t t)
{
	char text[21];

	if (!t) {
		buf_printf(out, "%s -\n", name);
		return;
	}
	format_time(t, text);
	buf_printf(out, "%s %s\n", name, text);
}

static void describe_source(const struct aws_chain *ch, char *out, size_t size)
{
	if (ch->source == SOURCE_SHARED_FILE)
		snprintf(out, size, "%s:%s", source_name(ch->source), ch->settings.profile);
	else
		snprintf(out, size, "%s", source_name(ch->source));
}

void aws_chain_source(struct aws_chain *ch, char *out, size_t size)
{
	pthread_mutex_lock(&ch->lock);
	describe_source(ch, out, size);
	pthread_mutex_unlock(&ch->lock);
}

int aws_chain_render(struct aws_chain *ch, struct buf *out)
{
	size_t before = out->len;
	char source[300];

	pthread_mutex_lock(&ch->lock);
	describe_source(ch, source, sizeof(source));
	buf_printf(out, "source %s\n", source);
	buf_printf(out, "access_key_id %s\n", ch->current.access_key_id ?
		   ch->current.access_key_id : "-");
	buf_printf(out, "session_token %s\n", ch->current.session_token ? "yes" : "no");
	render_time(out, "expiration", ch->current.expiration);
	render_time(out, "last_fetch", ch->last_fetch);
	buf_printf(out, "fetches %lu\nfetch_failures %lu\n", ch->fetches, ch->failures);
	buf_printf(out, "last_error %s\n", ch->last_error[0] ? ch->last_error : "-");
	pthread_mutex_unlock(&ch->lock);
	return out->len > before ? 0 : -ENOMEM;
}
