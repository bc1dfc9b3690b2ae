#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "client/cache.h"
#include "unit.h"

static atomic_int fetches;
static int fail_next;

/* Answers "<key>#<n>" after a pause, so concurrent readers overlap. */
static int slow_fetch(void *ctx, const char *key, struct cached **out, struct esfs_error *err)
{
	char body[128];
	int n = atomic_fetch_add(&fetches, 1) + 1;

	(void)ctx;
	usleep(50 * 1000);
	if (fail_next) {
		errmap_set(err, ETIMEDOUT, "transport_error", "no answer");
		return -ETIMEDOUT;
	}
	snprintf(body, sizeof(body), "\"%s#%d\"", key, n);
	*out = cached_new(strdup(body), strlen(body));
	return 0;
}

static char *value_of(struct cache *c, const char *key)
{
	struct esfs_error err;
	struct cached *v;
	char *s;

	if (cache_get(c, key, &v, &err))
		return NULL;
	s = strdup(v->body);
	cached_release(v);
	return s;
}

static void check_value(struct cache *c, const char *key, const char *want)
{
	char *got = value_of(c, key);

	CHECK_STR(got, want);
	free(got);
}

static void answers_are_reused_within_ttl(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);

	atomic_store(&fetches, 0);
	check_value(c, "/a", "\"/a#1\"");
	check_value(c, "/a", "\"/a#1\"");
	check_value(c, "/b", "\"/b#2\"");
	CHECK_INT(atomic_load(&fetches), 2);
	cache_free(c);
}

static void expired_answers_are_fetched_again(void)
{
	struct cache *c = cache_new(0.1, slow_fetch, NULL);

	atomic_store(&fetches, 0);
	check_value(c, "/a", "\"/a#1\"");
	usleep(150 * 1000);
	check_value(c, "/a", "\"/a#2\"");
	cache_free(c);
}

static void invalidation_by_prefix(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);

	atomic_store(&fetches, 0);
	check_value(c, "/_snapshot/r/s", "\"/_snapshot/r/s#1\"");
	check_value(c, "/_snapshot/q", "\"/_snapshot/q#2\"");
	cache_invalidate(c, "/_snapshot/r");
	check_value(c, "/_snapshot/r/s", "\"/_snapshot/r/s#3\"");
	check_value(c, "/_snapshot/q", "\"/_snapshot/q#2\"");
	cache_free(c);
}

struct reader {
	struct cache *c;
	char *value;
	int rc;
};

static void *read_once(void *arg)
{
	struct reader *r = arg;

	r->value = value_of(r->c, "/listing");
	r->rc = r->value ? 0 : -1;
	return NULL;
}

static void run_readers(struct cache *c, struct reader *r, int n)
{
	pthread_t t[16];

	for (int i = 0; i < n; i++) {
		r[i] = (struct reader){ .c = c };
		pthread_create(&t[i], NULL, read_once, &r[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

static void concurrent_readers_share_one_fetch(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);
	struct reader r[16];

	atomic_store(&fetches, 0);
	run_readers(c, r, 16);
	CHECK_INT(atomic_load(&fetches), 1);
	for (int i = 0; i < 16; i++) {
		CHECK_STR(r[i].value, "\"/listing#1\"");
		free(r[i].value);
	}
	cache_free(c);
}

static void waiters_share_a_failure(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);
	struct reader r[8];
	char want[64];

	atomic_store(&fetches, 0);
	fail_next = 1;
	run_readers(c, r, 8);
	fail_next = 0;
	/* One dead request, not eight in a row: a dead cluster must fail fast for everyone. */
	CHECK(atomic_load(&fetches) <= 2);
	for (int i = 0; i < 8; i++)
		CHECK_INT(r[i].rc, -1);
	snprintf(want, sizeof(want), "\"/listing#%d\"", atomic_load(&fetches) + 1);
	check_value(c, "/listing", want);
	cache_free(c);
}

static void failures_are_not_cached(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);
	struct esfs_error err;
	struct cached *v;

	atomic_store(&fetches, 0);
	fail_next = 1;
	CHECK_INT(cache_get(c, "/x", &v, &err), -ETIMEDOUT);
	CHECK_INT(err.err, ETIMEDOUT);
	fail_next = 0;
	check_value(c, "/x", "\"/x#2\"");
	cache_free(c);
}

static void json_is_parsed_once(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);
	struct esfs_error err;
	struct cached *v;

	CHECK_INT(cache_get(c, "/j", &v, &err), 0);
	CHECK(v->json != NULL);
	cached_release(v);
	cache_free(c);
}

static const struct unit_case cases[] = {
	{ "answers_are_reused_within_ttl", answers_are_reused_within_ttl },
	{ "expired_answers_are_fetched_again", expired_answers_are_fetched_again },
	{ "invalidation_by_prefix", invalidation_by_prefix },
	{ "concurrent_readers_share_one_fetch", concurrent_readers_share_one_fetch },
	{ "waiters_share_a_failure", waiters_share_a_failure },
	{ "failures_are_not_cached", failures_are_not_cached },
	{ "json_is_parsed_once", json_is_parsed_once },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	return unit_main(argc, argv, cases);
}
