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
#include "client/aws/process.h"
#include "client/aws/profile.h"
#include "client/aws/sso.h"
#include "client/aws/sts.h"
#include "client/sys.h"

/* After a failed fetch, requests use what is left rather than each trying again. */
#define RETRY_AFTER_FAILURE 5
/* Credentials that arrive already inside the margin are not fetched again at every request. */
#define MIN_REFRESH_INTERVAL 1
/* source_profile links followed at most: the SDKs stop loops, esfs also very long chains. */
#define MAX_ROLE_CHAIN 8
/* Without -o timeout (unit tests): the mount's default request timeout. */
#define DEFAULT_TIMEOUT_MS 10000L

static void format_time(time_t t, char out[21])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 21, "%lld", (long long)t);
}

/* ---- shared files ---- */

/* How a profile gets its credentials, in the order the SDKs try the ways. */
enum profile_method {
	METHOD_NONE,
	METHOD_UNSUPPORTED,
	METHOD_ASSUME_ROLE,
	METHOD_WEB_IDENTITY,
	METHOD_SSO,
	METHOD_CREDENTIALS_KEYS,	/* the credentials file's keys */
	METHOD_PROCESS,
	METHOD_CONFIG_KEYS,		/* the config file's keys */
};

#define SETTING(p, name) ((p)->setting[AWS_PROFILE_##name])

static int has_keys(const struct aws_profile_keys *k)
{
	return k->access_key_id || k->secret_access_key;
}

static int has_sso(const struct aws_profile *p)
{
	return SETTING(p, SSO_SESSION) || SETTING(p, SSO_START_URL) ||
	       SETTING(p, SSO_ACCOUNT_ID) || SETTING(p, SSO_ROLE_NAME);
}

/*
 * botocore's order: role_arn (with source_profile or credential_source),
 * then web_identity_token_file (with role_arn), SSO, the credentials file's
 * keys, credential_process, the config file's keys.
 */
static enum profile_method profile_method(const struct aws_profile *p, int with_role)
{
	if (p->unsupported[0])
		return METHOD_UNSUPPORTED;
	if (with_role && SETTING(p, ROLE_ARN) && !SETTING(p, WEB_IDENTITY_TOKEN_FILE))
		return METHOD_ASSUME_ROLE;
	if (SETTING(p, WEB_IDENTITY_TOKEN_FILE))
		return METHOD_WEB_IDENTITY;
	if (has_sso(p))
		return METHOD_SSO;
	if (has_keys(&p->cred))
		return METHOD_CREDENTIALS_KEYS;
	if (SETTING(p, CREDENTIAL_PROCESS))
		return METHOD_PROCESS;
	if (has_keys(&p->conf))
		return METHOD_CONFIG_KEYS;
	return METHOD_NONE;
}

/* Returns 0 with the pair moved out of k, or -EINVAL for half of one. */
static int take_pair(struct aws_profile_keys *k, const char *path, const char *profile,
		     struct aws_credentials *out, char *why, size_t why_len)
{
	if (!k->access_key_id || !k->secret_access_key || !*k->access_key_id ||
	    !*k->secret_access_key) {
		snprintf(why, why_len, "%s: profile %s has only half of aws_access_key_id and "
			 "aws_secret_access_key", path, profile);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->access_key_id = k->access_key_id;
	out->secret_access_key = k->secret_access_key;
	out->session_token = k->session_token && *k->session_token ? k->session_token : NULL;
	if (!out->session_token)
		secret_free(&k->session_token);
	k->access_key_id = k->secret_access_key = k->session_token = NULL;
	return 0;
}

static const char *method_key(const struct aws_profile *p, enum profile_method m)
{
	switch (m) {
	case METHOD_ASSUME_ROLE:
		return "role_arn";
	case METHOD_WEB_IDENTITY:
		return "web_identity_token_file";
	case METHOD_SSO:
		return SETTING(p, SSO_SESSION) ? "sso_session" : "sso_start_url";
	case METHOD_PROCESS:
		return "credential_process";
	default:
		return "keys";
	}
}

/* The keys a profile holds itself, once the ways the SDKs try first are ruled out. */
static int profile_keys(struct aws_profile *p, enum profile_method m, const char *cred_path,
			const char *conf_path, const char *profile, struct aws_credentials *out,
			char *why, size_t why_len)
{
	switch (m) {
	case METHOD_CREDENTIALS_KEYS:
		return take_pair(&p->cred, cred_path, profile, out, why, why_len);
	case METHOD_CONFIG_KEYS:
		return take_pair(&p->conf, conf_path, profile, out, why, why_len);
	case METHOD_UNSUPPORTED:
		snprintf(why, why_len, "profile %s uses %s, which esfs does not support; export "
			 "credentials with `aws configure export-credentials --format env`",
			 profile, p->unsupported);
		return -EINVAL;
	case METHOD_NONE:
		snprintf(why, why_len, p->found ? "profile %s has no keys" : "no profile %s", profile);
		return -ENOENT;
	default:
		/* Another source of the chain takes this profile. */
		snprintf(why, why_len, "profile %s uses %s", profile, method_key(p, m));
		return -ENOENT;
	}
}

int aws_shared_files_read(const char *credentials_path, const char *config_path,
			  const char *profile, struct aws_credentials *out, char *why, size_t why_len)
{
	struct aws_profile p;
	int rc;

	memset(out, 0, sizeof(*out));
	aws_profile_read(credentials_path, config_path, profile, &p);
	rc = profile_keys(&p, profile_method(&p, 1), credentials_path, config_path, profile, out,
			  why, why_len);
	aws_profile_clear(&p);
	return rc;
}

/* ---- settings from the environment ---- */

enum aws_source {
	SOURCE_NONE,
	SOURCE_ENVIRONMENT,
	SOURCE_ASSUME_ROLE,
	SOURCE_WEB_IDENTITY,
	SOURCE_SSO,
	SOURCE_SHARED_FILE,
	SOURCE_PROCESS,
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
	char *web_identity_token_file;	/* AWS_WEB_IDENTITY_TOKEN_FILE, absolute */
	char *web_identity_role_arn;	/* AWS_ROLE_ARN */
	char *web_identity_session;	/* AWS_ROLE_SESSION_NAME */
	char *sts_endpoint;		/* AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL */
	char *sso_endpoint;		/* AWS_ENDPOINT_URL_SSO or AWS_ENDPOINT_URL */
	char *sso_cache_dir;		/* ~/.aws/sso/cache */
	char *env_region;		/* AWS_REGION or AWS_DEFAULT_REGION */
	char *option_region;		/* the mount's region, for STS when nothing else names one */
	long timeout_ms;		/* for STS, SSO and credential_process: the request timeout */
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

static char *env_copy(const char *name)
{
	const char *v = env_value(name);

	return v ? strdup(v) : NULL;
}

/* The SDKs' endpoint overrides: the service's own variable, then the one for every service. */
static char *endpoint_setting(const char *service_variable)
{
	const char *v = env_value(service_variable);

	if (!v)
		v = env_value("AWS_ENDPOINT_URL");
	return v ? strdup(v) : NULL;
}

static void read_role_settings(struct aws_settings *s, const struct aws_chain_options *o)
{
	if (env_value("AWS_WEB_IDENTITY_TOKEN_FILE"))
		s->web_identity_token_file = file_setting("AWS_WEB_IDENTITY_TOKEN_FILE", NULL);
	s->web_identity_role_arn = env_copy("AWS_ROLE_ARN");
	s->web_identity_session = env_copy("AWS_ROLE_SESSION_NAME");
	s->sts_endpoint = endpoint_setting("AWS_ENDPOINT_URL_STS");
	s->sso_endpoint = endpoint_setting("AWS_ENDPOINT_URL_SSO");
	s->sso_cache_dir = home_path(".aws/sso/cache");
	s->env_region = env_copy("AWS_REGION");
	if (!s->env_region)
		s->env_region = env_copy("AWS_DEFAULT_REGION");
	s->option_region = o && o->region ? strdup(o->region) : NULL;
	s->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static int read_settings(struct aws_settings *s, const struct aws_chain_options *o)
{
	read_env_keys(s);
	read_role_settings(s, o);
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
	free(s->web_identity_token_file);
	free(s->web_identity_role_arn);
	free(s->web_identity_session);
	free(s->sts_endpoint);
	free(s->sso_endpoint);
	free(s->sso_cache_dir);
	free(s->env_region);
	free(s->option_region);
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

/* ---- roles, web identity, SSO and processes, as profiles name them ---- */

/* Where one profile's role chain has been, to refuse a source_profile cycle. */
struct trail {
	const char *names[MAX_ROLE_CHAIN];
	int n;
};

static int profile_fetch(const struct aws_settings *s, const char *name, struct trail *trail,
			 int with_role, time_t now, struct aws_credentials *out, char *why,
			 size_t why_len);

/* The region STS and SSO calls are made in when the profile names none: the SDKs' order. */
static const char *call_region(const struct aws_settings *s, const struct aws_profile *p)
{
	if (s->env_region)
		return s->env_region;
	if (SETTING(p, REGION))
		return SETTING(p, REGION);
	return s->option_region;
}

/* AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional endpoint (the global one without a region). */
static void sts_endpoint(const struct aws_settings *s, const struct aws_profile *p,
			 struct aws_sts_endpoint *ep, char *url, size_t size)
{
	const char *region = call_region(s, p);

	if (s->sts_endpoint)
		snprintf(url, size, "%s", s->sts_endpoint);
	else if (region)
		snprintf(url, size, "https://sts.%s.amazonaws.com", region);
	else
		snprintf(url, size, "https://sts.amazonaws.com");
	ep->url = url;
	ep->region = region ? region : "us-east-1";
	ep->timeout_ms = s->timeout_ms;
}

/* The SDKs name a session that the profile leaves unnamed after the tool and the time. */
static const char *session_name(const char *given, time_t now, char *buf, size_t size)
{
	if (given)
		return given;
	snprintf(buf, size, "esfs-%lld", (long long)now);
	return buf;
}

/* duration_seconds: STS takes 900 s to 12 h (the role's own maximum may be lower). */
static int read_duration(const char *text, const char *profile, long *out, char *why,
			 size_t why_len)
{
	char *end;
	long n;

	*out = 0;
	if (!text)
		return 0;
	n = strtol(text, &end, 10);
	if (*end || end == text || n < 900 || n > 43200) {
		snprintf(why, why_len, "profile %s: duration_seconds must be 900 to 43200, not \"%.20s\"",
			 profile, text);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

/* credential_source: where the credentials that assume the role come from, outside any profile. */
static int credential_source(const struct aws_settings *s, const char *name, const char *source,
			     time_t now, struct aws_credentials *out, char *why, size_t why_len)
{
	if (!strcmp(source, "Environment"))
		return from_environment(s, now, out, why, why_len);
	if (!strcmp(source, "EcsContainer"))
		return from_container(s, now, out, why, why_len);
	if (!strcmp(source, "Ec2InstanceMetadata"))
		return aws_imds_fetch(s->imds_endpoint, now, out, why, why_len);
	snprintf(why, why_len, "profile %s: credential_source %.40s is not Environment, "
		 "Ec2InstanceMetadata or EcsContainer", name, source);
	return -EINVAL;
}

static int in_trail(const struct trail *t, const char *name)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->names[i], name))
			return 1;
	return 0;
}

static void describe_cycle(const struct trail *t, const char *name, char *why, size_t why_len)
{
	struct buf path = BUF_INIT;

	for (int i = 0; i < t->n; i++)
		buf_printf(&path, "%s -> ", t->names[i]);
	snprintf(why, why_len, "source_profile cycle: %s%s", path.data ? path.data : "", name);
	buf_free(&path);
}

/*
 * The credentials that assume the role: a source profile with keys of its
 * own uses them (so a profile may be its own source); one without assumes
 * its own role in turn.
 */
static int role_source(const struct aws_settings *s, const char *name, const struct aws_profile *p,
		       struct trail *trail, time_t now, struct aws_credentials *out, char *why,
		       size_t why_len)
{
	const char *source = SETTING(p, SOURCE_PROFILE);
	const char *cs = SETTING(p, CREDENTIAL_SOURCE);
	struct aws_profile next;
	int own_keys, rc;

	if (source && cs) {
		snprintf(why, why_len, "profile %s has both source_profile and credential_source", name);
		return -EINVAL;
	}
	if (cs)
		return credential_source(s, name, cs, now, out, why, why_len);
	if (!source) {
		snprintf(why, why_len, "profile %s has role_arn but neither source_profile nor "
			 "credential_source", name);
		return -EINVAL;
	}
	aws_profile_read(s->credentials_file, s->config_file, source, &next);
	own_keys = has_keys(&next.cred) || has_keys(&next.conf);
	aws_profile_clear(&next);
	if (!own_keys && in_trail(trail, source)) {
		describe_cycle(trail, source, why, why_len);
		return -EINVAL;
	}
	rc = profile_fetch(s, source, trail, !own_keys, now, out, why, why_len);
	if (rc == -ENOENT)
		rc = -EINVAL;	/* a source profile that is not there is a broken chain */
	return rc;
}

static int assume_role(const struct aws_settings *s, const char *name, const struct aws_profile *p,
		       struct trail *trail, time_t now, struct aws_credentials *out, char *why,
		       size_t why_len)
{
	struct aws_credentials source = { 0 };
	struct aws_sts_endpoint ep;
	struct aws_sts_role role = { 0 };
	char url[512], session[40];
	int rc;

	if (trail->n == MAX_ROLE_CHAIN) {
		snprintf(why, why_len, "profile %s: role chain longer than %d", name, MAX_ROLE_CHAIN);
		return -EINVAL;
	}
	trail->names[trail->n++] = name;
	rc = read_duration(SETTING(p, DURATION_SECONDS), name, &role.duration_seconds, why, why_len);
	if (!rc)
		rc = role_source(s, name, p, trail, now, &source, why, why_len);
	if (!rc) {
		role.role_arn = SETTING(p, ROLE_ARN);
		role.session_name = session_name(SETTING(p, ROLE_SESSION_NAME), now, session,
						 sizeof(session));
		role.external_id = SETTING(p, EXTERNAL_ID);
		sts_endpoint(s, p, &ep, url, sizeof(url));
		rc = aws_sts_fetch(&ep, &role, &source, now, out, why, why_len);
	}
	aws_credentials_clear(&source);
	trail->n--;
	return rc;
}

/* A profile's web_identity_token_file: "~/" is the home folder; relative is against "/" (the daemon's). */
static char *profile_path(const char *value)
{
	if (!strncmp(value, "~/", 2))
		return home_path(value + 2);
	return strdup(value);
}

static int web_identity(const struct aws_settings *s, const char *role_arn, const char *token_file,
			const char *session, const struct aws_profile *p, time_t now,
			struct aws_credentials *out, char *why, size_t why_len)
{
	struct aws_sts_endpoint ep;
	char url[512], generated[40];
	struct aws_sts_role role = { role_arn, session_name(session, now, generated, sizeof(generated)),
				     NULL, 0, token_file };

	if (!role_arn) {
		snprintf(why, why_len, "a web identity token file needs a role_arn (AWS_ROLE_ARN)");
		return -EINVAL;
	}
	sts_endpoint(s, p, &ep, url, sizeof(url));
	return aws_sts_fetch(&ep, &role, NULL, now, out, why, why_len);
}

static int profile_web_identity(const struct aws_settings *s, const char *name,
				const struct aws_profile *p, time_t now,
				struct aws_credentials *out, char *why, size_t why_len)
{
	char *path = profile_path(SETTING(p, WEB_IDENTITY_TOKEN_FILE));
	int rc;

	if (!path)
		return -ENOMEM;
	rc = web_identity(s, SETTING(p, ROLE_ARN), path, SETTING(p, ROLE_SESSION_NAME), p, now, out,
			  why, why_len);
	if (rc == -EINVAL && !SETTING(p, ROLE_ARN))
		snprintf(why, why_len, "profile %s has web_identity_token_file but no role_arn", name);
	free(path);
	return rc;
}

/* sso_session names an [sso-session] section with the start URL and region; legacy profiles hold both. */
static int sso_settings(const struct aws_settings *s, const char *name, const struct aws_profile *p,
			struct aws_profile *session, const char **start_url, const char **region,
			char *why, size_t why_len)
{
	const char *sname = SETTING(p, SSO_SESSION);

	memset(session, 0, sizeof(*session));
	*start_url = SETTING(p, SSO_START_URL);
	*region = SETTING(p, SSO_REGION);
	if (sname) {
		aws_sso_session_read(s->config_file, sname, session);
		if (!session->found) {
			snprintf(why, why_len, "profile %s: no [sso-session %.64s] in %s", name, sname,
				 s->config_file ? s->config_file : "the config file");
			return -EINVAL;
		}
		*start_url = SETTING(session, SSO_START_URL);
		*region = SETTING(session, SSO_REGION);
	}
	if (!*start_url || !*region || !SETTING(p, SSO_ACCOUNT_ID) || !SETTING(p, SSO_ROLE_NAME)) {
		snprintf(why, why_len, "profile %s needs sso_account_id, sso_role_name, and "
			 "sso_start_url and sso_region (in the profile or its sso-session)", name);
		return -EINVAL;
	}
	return 0;
}

static int sso(const struct aws_settings *s, const char *name, const struct aws_profile *p,
	       time_t now, struct aws_credentials *out, char *why, size_t why_len)
{
	struct aws_profile session;
	const char *start_url, *region;
	char url[512];
	int rc = sso_settings(s, name, p, &session, &start_url, &region, why, why_len);

	if (!rc && !s->sso_cache_dir)
		rc = -ENOMEM;
	if (!rc) {
		struct aws_sso_role role = {
			SETTING(p, SSO_SESSION) ? SETTING(p, SSO_SESSION) : start_url, s->sso_cache_dir,
			url, SETTING(p, SSO_ACCOUNT_ID), SETTING(p, SSO_ROLE_NAME), s->timeout_ms,
		};

		if (s->sso_endpoint)
			snprintf(url, sizeof(url), "%s", s->sso_endpoint);
		else
			snprintf(url, sizeof(url), "https://portal.sso.%s.amazonaws.com", region);
		rc = aws_sso_fetch(&role, now, out, why, why_len);
	}
	aws_profile_clear(&session);
	return rc;
}

static int by_method(const struct aws_settings *s, const char *name, struct aws_profile *p,
		     enum profile_method m, struct trail *trail, time_t now,
		     struct aws_credentials *out, char *why, size_t why_len)
{
	switch (m) {
	case METHOD_ASSUME_ROLE:
		return assume_role(s, name, p, trail, now, out, why, why_len);
	case METHOD_WEB_IDENTITY:
		return profile_web_identity(s, name, p, now, out, why, why_len);
	case METHOD_SSO:
		return sso(s, name, p, now, out, why, why_len);
	case METHOD_PROCESS:
		return aws_process_fetch(SETTING(p, CREDENTIAL_PROCESS), s->timeout_ms, now, out, why,
					 why_len);
	default:
		return profile_keys(p, m, s->credentials_file, s->config_file, name, out, why,
				    why_len);
	}
}

/* Any profile's credentials, whichever way it names: for source_profile. */
static int profile_fetch(const struct aws_settings *s, const char *name, struct trail *trail,
			 int with_role, time_t now, struct aws_credentials *out, char *why,
			 size_t why_len)
{
	struct aws_profile p;
	int rc;

	aws_profile_read(s->credentials_file, s->config_file, name, &p);
	rc = by_method(s, name, &p, profile_method(&p, with_role), trail, now, out, why, why_len);
	aws_profile_clear(&p);
	if (rc == 0)
		out->obtained = now;
	return rc;
}

/* The chain's source for one way of the top profile: -ENOENT when the profile goes another way. */
static int top_profile(const struct aws_settings *s, enum profile_method want, time_t now,
		       struct aws_credentials *out, char *why, size_t why_len)
{
	struct trail trail = { { 0 }, 0 };
	struct aws_profile p;
	enum profile_method m;
	int rc = -ENOENT;

	aws_profile_read(s->credentials_file, s->config_file, s->profile, &p);
	m = profile_method(&p, 1);
	if (m == want)
		rc = by_method(s, s->profile, &p, m, &trail, now, out, why, why_len);
	else if (!p.found)
		snprintf(why, why_len, "no profile %s", s->profile);
	else
		snprintf(why, why_len, "profile %s does not use %s", s->profile, method_key(&p, want));
	aws_profile_clear(&p);
	if (rc == 0)
		out->obtained = now;
	return rc;
}

static int from_assume_role(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			    char *why, size_t why_len)
{
	return top_profile(s, METHOD_ASSUME_ROLE, now, out, why, why_len);
}

/* AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS IRSA) come before the profile's. */
static int from_web_identity(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			     char *why, size_t why_len)
{
	struct aws_profile none = { 0 };
	int rc;

	if (!s->web_identity_token_file)
		return top_profile(s, METHOD_WEB_IDENTITY, now, out, why, why_len);
	rc = web_identity(s, s->web_identity_role_arn, s->web_identity_token_file,
			  s->web_identity_session, &none, now, out, why, why_len);
	if (rc == -EINVAL && !s->web_identity_role_arn)
		snprintf(why, why_len, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
	return rc;
}

static int from_sso(const struct aws_settings *s, time_t now, struct aws_credentials *out,
		    char *why, size_t why_len)
{
	return top_profile(s, METHOD_SSO, now, out, why, why_len);
}

static int from_process(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			char *why, size_t why_len)
{
	return top_profile(s, METHOD_PROCESS, now, out, why, why_len);
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

typedef int (*source_fetch)(const struct aws_settings *s, time_t now, struct aws_credentials *out,
			    char *why, size_t why_len);

/* botocore's order. The shared files' keys come in two places: see profile_method. */
static const struct {
	enum aws_source id;
	const char *name;
	source_fetch fetch;
	int per_profile;	/* named "NAME:PROFILE" */
} sources[] = {
	{ SOURCE_ENVIRONMENT, "environment", from_environment, 0 },
	{ SOURCE_ASSUME_ROLE, "assume-role", from_assume_role, 1 },
	{ SOURCE_WEB_IDENTITY, "web-identity", from_web_identity, 1 },
	{ SOURCE_SSO, "sso", from_sso, 1 },
	{ SOURCE_SHARED_FILE, "shared-file", from_shared_file, 1 },
	{ SOURCE_PROCESS, "process", from_process, 1 },
	{ SOURCE_CONTAINER, "container", from_container, 0 },
	{ SOURCE_INSTANCE_METADATA, "instance-metadata", from_instance_metadata, 0 },
};

#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

static const char *source_name(enum aws_source id)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (sources[i].id == id)
			return sources[i].name;
	return "none";
}

static int source_per_profile(enum aws_source id)
{
	for (size_t i = 0; i < NSOURCES; i++)
		if (sources[i].id == id)
			return sources[i].per_profile;
	return 0;
}

/* A refresh from the source already in use: its failure names the source, as the first fetch's does. */
static int fetch_from(const struct aws_settings *s, enum aws_source id, time_t now,
		      struct aws_credentials *out, char *why, size_t why_len)
{
	char one[512] = "";
	int rc;

	for (size_t i = 0; i < NSOURCES; i++) {
		if (sources[i].id != id)
			continue;
		rc = sources[i].fetch(s, now, out, one, sizeof(one));
		if (rc)
			snprintf(why, why_len, "%s: %s", sources[i].name, one);
		return rc;
	}
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

struct aws_chain *aws_chain_new(const struct aws_chain_options *o)
{
	struct aws_chain *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	pthread_mutex_init(&ch->lock, NULL);
	pthread_cond_init(&ch->fetched, NULL);
	/* Balanced in aws_chain_free; the metadata fetches may come before main's own init. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (read_settings(&ch->settings, o)) {
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
	int env_web_identity = ch->source == SOURCE_WEB_IDENTITY &&
			       ch->settings.web_identity_token_file;

	if (source_per_profile(ch->source) && !env_web_identity)
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
