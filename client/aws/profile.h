/*
 * The shared files' sections as the AWS SDKs read them: a profile, from
 * ~/.aws/credentials ("[NAME]") and ~/.aws/config ("[profile NAME]", or
 * "[default]"), and an "[sso-session NAME]" section of the config file.
 * Only reading: which credentials a profile leads to is the chain's call
 * (client/aws/credentials.c).
 */
#ifndef ESFS_AWS_PROFILE_H
#define ESFS_AWS_PROFILE_H

/* The settings, other than keys, that choose how a profile gets credentials. */
enum aws_profile_setting {
	AWS_PROFILE_ROLE_ARN,
	AWS_PROFILE_SOURCE_PROFILE,
	AWS_PROFILE_CREDENTIAL_SOURCE,
	AWS_PROFILE_ROLE_SESSION_NAME,
	AWS_PROFILE_EXTERNAL_ID,
	AWS_PROFILE_DURATION_SECONDS,
	AWS_PROFILE_WEB_IDENTITY_TOKEN_FILE,
	AWS_PROFILE_CREDENTIAL_PROCESS,
	AWS_PROFILE_SSO_SESSION,
	AWS_PROFILE_SSO_START_URL,
	AWS_PROFILE_SSO_REGION,
	AWS_PROFILE_SSO_ACCOUNT_ID,
	AWS_PROFILE_SSO_ROLE_NAME,
	AWS_PROFILE_REGION,
	AWS_PROFILE_NSETTINGS
};

/* A static key pair as one file holds it. */
struct aws_profile_keys {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
};

struct aws_profile {
	int found;		/* the section is in either file */
	/* Kept apart: the SDKs try credential_process between the two. */
	struct aws_profile_keys cred, conf;
	/* Either file; the credentials file's value wins, as botocore merges them. */
	char *setting[AWS_PROFILE_NSETTINGS];
	char unsupported[32];	/* a key naming a way to get credentials that esfs lacks */
};

/*
 * Reads profile name from both files (either path may be NULL or missing),
 * or with aws_sso_session_read the config file's [sso-session NAME] section
 * (its sso_start_url and sso_region land in out->setting). Returns 0; out->found
 * says whether the section exists. Release with aws_profile_clear.
 */
int aws_profile_read(const char *credentials_path, const char *config_path, const char *name,
		     struct aws_profile *out);
int aws_sso_session_read(const char *config_path, const char *name, struct aws_profile *out);
void aws_profile_clear(struct aws_profile *p);

#endif
