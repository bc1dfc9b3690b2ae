/*
 * Where the cluster's credentials come from: the environment (ESFS_USER and
 * ESFS_PASSWORD, or ESFS_API_KEY) or a file only its owner can read. Never
 * the command line, where every user of the machine could see them.
 */
#ifndef ESFS_CREDENTIALS_H
#define ESFS_CREDENTIALS_H

#include <stddef.h>

struct credentials {
	char *user;
	char *password;
	char *api_key;
};

/* Reads "user=", "password=" and "api_key=" lines; refuses a file group or others can read. */
int credentials_from_file(const char *path, struct credentials *c, char *why, size_t why_len);
/* Takes them from the environment and removes them from it. */
void credentials_from_env(struct credentials *c);
/*
 * Whether the credentials can be sent as given: a password needs a user, a
 * user and an API key exclude each other (one Authorization header), and no
 * control character may go into a header (CR/LF would start another one),
 * nor a ':' into a basic-auth user. 0, or -EINVAL with why filled in; a
 * secret is never quoted in why.
 */
int credentials_check(const struct credentials *c, char *why, size_t why_len);
/* Overwrites the secrets before freeing them. */
void credentials_clear(struct credentials *c);

#endif
