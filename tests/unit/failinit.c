/*
 * LD_PRELOAD for tests/test_cli.py: curl_share_init fails, as it would out of
 * memory, so that esfs's start-up path for a client it cannot make is seen.
 */
#include <curl/curl.h>

CURLSH *curl_share_init(void)
{
	return NULL;
}
