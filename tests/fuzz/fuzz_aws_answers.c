/*
 * Fuzzes what the chain's newer sources read from outside: an STS answer
 * (client/aws/sts.c: aws_sts_parse, XML with entities), a credential_process's
 * stdout (client/aws/process.c: aws_process_parse) and an SSO token cache file
 * (client/aws/sso.c: aws_sso_read_token). Input: one byte choosing the parser
 * (and for STS, whether the status is 200), then the text. Checks: success
 * gives a whole key pair (STS: with a token and an expiry), failure leaves
 * nothing behind and says why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/aws/process.h"
#include "client/aws/sso.h"
#include "client/aws/sts.h"
#include "client/sys.h"
#include "fuzz.h"

static void check_result(int rc, const struct aws_credentials *c, const char *why)
{
	if (rc == 0) {
		FUZZ_CHECK(c->access_key_id && *c->access_key_id);
		FUZZ_CHECK(c->secret_access_key && *c->secret_access_key);
		FUZZ_CHECK(c->obtained == 1000);
	} else {
		FUZZ_CHECK(!c->access_key_id && !c->secret_access_key && !c->session_token);
		FUZZ_CHECK(why[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t which = fuzz_byte(&in);
	char *text = fuzz_text(in.data, in.left), why[512] = "", *token = NULL;
	struct aws_credentials c = { 0 };
	int rc;

	switch (which % 3) {
	case 0:
		rc = aws_sts_parse(which & 0x80 ? 403 : 200, text, in.left, 1000, &c, why, sizeof(why));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EACCES || rc == -ENOMEM);
		check_result(rc, &c, why);
		if (rc == 0)
			FUZZ_CHECK(c.session_token && *c.session_token && c.expiration);
		break;
	case 1:
		rc = aws_process_parse(text, in.left, 1000, &c, why, sizeof(why));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
		check_result(rc, &c, why);
		break;
	default:
		rc = aws_sso_read_token(text, in.left, 1000, &token, why, sizeof(why));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EACCES || rc == -ENOMEM);
		FUZZ_CHECK(rc ? !token && why[0] : token && *token && !strpbrk(token, "\r\n"));
		secret_free(&token);
		break;
	}
	aws_credentials_clear(&c);
	free(text);
	return 0;
}
