/*
 * Credentials served over HTTP: the container endpoint (ECS task roles, EKS
 * Pod Identity) and EC2 instance metadata, IMDSv2. Only client/aws/credentials.c
 * uses this.
 *
 * These endpoints are link-local addresses (169.254.170.2, 169.254.169.254)
 * unless the environment names others, so requests go straight there: no
 * proxy, no redirect, a one-second connect timeout.
 */
#ifndef ESFS_AWS_METADATA_H
#define ESFS_AWS_METADATA_H

#include <stddef.h>
#include <time.h>

#include "client/aws/keys.h"

#define AWS_CONTAINER_DEFAULT_ENDPOINT "http://169.254.170.2"
#define AWS_IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
#define AWS_IMDS_DEFAULT_ENDPOINT_IPV6 "http://[fd00:ec2::254]"

struct aws_container_source {
	char *url;
	char *auth_token;	/* AWS_CONTAINER_AUTHORIZATION_TOKEN, or NULL */
	char *auth_token_file;	/* read at each fetch, as EKS rotates it; wins over auth_token */
};

/*
 * The URL AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against endpoint, or the
 * ECS address when NULL) or _FULL_URI name. A full URI must be https or
 * point at loopback or the ECS/EKS agent, as the SDKs require. Returns 0,
 * -ENOENT when neither is set, or -EINVAL with why.
 */
int aws_container_url(const char *relative_uri, const char *full_uri, const char *endpoint,
		      char **url, char *why, size_t why_len);

int aws_container_fetch(const struct aws_container_source *src, time_t now,
			struct aws_credentials *out, char *why, size_t why_len);

/* PUT /latest/api/token, then the role name, then its credentials. */
int aws_imds_fetch(const char *endpoint, time_t now, struct aws_credentials *out, char *why,
		   size_t why_len);

#endif
