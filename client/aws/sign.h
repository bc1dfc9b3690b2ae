/*
 * SigV4 signing of every request to Amazon OpenSearch Service, as a
 * struct http_signer: the credentials come from the AWS chain
 * (client/aws/credentials.h) and are refreshed there while mounted.
 */
#ifndef ESFS_AWS_SIGN_H
#define ESFS_AWS_SIGN_H

#include <stddef.h>

#include "client/aws/fetch.h"
#include "client/buf.h"
#include "client/http.h"

struct aws_signer;

/*
 * A signer for the cluster at url (the first node's). The region is region,
 * else the one in an Amazon endpoint's host name, else AWS_REGION or
 * AWS_DEFAULT_REGION; the service is service, else the endpoint's ("es" or
 * "aoss"), else "es". The credentials are fetched once here, so that a
 * missing key is said before mounting; timeout_ms bounds each fetch from
 * STS, SSO or credential_process (0: ten seconds). Returns NULL with why
 * filled in.
 */
struct aws_signer *aws_signer_new(const char *url, const char *region, const char *service,
				  long timeout_ms, char *why, size_t why_len);
void aws_signer_free(struct aws_signer *s);

/* The hook to put in http_config.signer; it lives as long as s. */
const struct http_signer *aws_signer_hook(struct aws_signer *s);

/*
 * "region", "service", then the credentials' "source", "access_key_id",
 * "expiration"... as "name value" lines; never a secret. Returns -ENOENT
 * when hook is not an AWS signer (or NULL), so callers can pass
 * http_config.signer as it is.
 */
int aws_signer_render(const struct http_signer *hook, struct buf *out);

#endif
