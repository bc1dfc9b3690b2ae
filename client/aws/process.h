/*
 * credential_process: a command of the user's that prints credentials as
 * JSON (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration).
 * It runs through /bin/sh -c as the SDKs run it, with stdin from /dev/null,
 * in its own process group, killed when it outlasts the timeout.
 */
#ifndef ESFS_AWS_PROCESS_H
#define ESFS_AWS_PROCESS_H

#include <stddef.h>
#include <time.h>

#include "client/aws/keys.h"

/*
 * Runs command and reads its output. Returns 0; -EACCES when it fails (exit
 * status, signal, timeout, output that is not Version 1 credentials), with
 * why saying which and the first line it wrote on stderr.
 */
int aws_process_fetch(const char *command, long timeout_ms, time_t now,
		      struct aws_credentials *out, char *why, size_t why_len);

/* Reads the command's stdout. Returns 0 or -EINVAL. Exposed for tests and fuzzing. */
int aws_process_parse(const char *json, size_t len, time_t now, struct aws_credentials *out,
		      char *why, size_t why_len);

#endif
