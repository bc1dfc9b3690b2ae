#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "client/buf.h"
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

/* Answers of 1,000 bytes, fast. */
static int big_fetch(void *ctx, const char *key, struct cached **out, struct esfs_error *err)
{
	char *body = malloc(1003);

	(void)ctx;
	(void)key;
	(void)err;
	memset(body, 'x', 1002);
	body[0] = body[1001] = '"';
	body[1002] = '\0';
	*out = cached_new(body, 1002);
	return 0;
}

/* What one big_fetch answer weighs in the cache. */
static size_t big_weight(void)
{
	struct esfs_error err;
	struct cached *v;
	size_t w;

	big_fetch(NULL, "", &v, &err);
	w = v->weight;
	cached_release(v);
	return w;
}

#define W big_weight()

static void memory_stays_under_the_budget(void)
{
	struct cache *c = cache_new(60, big_fetch, NULL);
	char key[32];

	cache_set_budget(c, 100 * W);	/* room for 100 answers */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/s/%d", i);
		free(value_of(c, key));
		CHECK(cache_bytes(c) <= 100 * W);
	}
	CHECK_INT(cache_bytes(c), 100 * W);
	cache_free(c);
}

static void expired_answers_go_within_a_ttl(void)
{
	struct cache *c = cache_new(0.05, big_fetch, NULL);
	char key[32];

	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "/s/%d", i);
		free(value_of(c, key));
	}
	CHECK_INT(cache_bytes(c), 50 * W);
	usleep(100 * 1000);
	free(value_of(c, "/other"));	/* long before the table fills, the expired go */
	CHECK_INT(cache_bytes(c), W);
	cache_free(c);
}

/* cache_ttl=0: each answer is dropped by the next fetch, never kept to pile up. */
static void no_cache_keeps_only_the_answer_in_hand(void)
{
	struct cache *c = cache_new(0, big_fetch, NULL);
	char key[32];

	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "/s/%d", i);
		free(value_of(c, key));
		CHECK_INT(cache_bytes(c), W);
	}
	cache_free(c);
}

/* Small values cost a node each: the weight counts them, not just the text. */
static void weight_counts_the_parsed_tree(void)
{
	struct buf text = BUF_INIT;
	struct cached *v;

	buf_puts(&text, "[0");
	for (int i = 1; i < 1000; i++)
		buf_puts(&text, ",1");
	buf_puts(&text, "]");
	v = cached_new(strdup(text.data), text.len);
	CHECK(v->weight >= text.len + 1000 * 64);
	cached_release(v);
	buf_free(&text);
}

static atomic_int views_freed;

static void view_free(void *view)
{
	atomic_fetch_add(&views_freed, 1);
	free(view);
}

/* A fetch of its own for one key: its answer is a view, weighed as said, freed with the answer. */
static int view_fetch(void *ctx, const char *key, struct cached **out, struct esfs_error *err)
{
	(void)key;
	(void)err;
	*out = cached_new_view(strdup(ctx), view_free, 1000);
	return 0;
}

static void views_are_kept_weighed_and_freed(void)
{
	struct cache *c = cache_new(60, slow_fetch, NULL);
	struct esfs_error err;
	struct cached *v;

	atomic_store(&views_freed, 0);
	CHECK_INT(cache_get_with(c, "/list", view_fetch, "compact", &v, &err), 0);
	CHECK_STR(v->view, "compact");
	CHECK(v->json == NULL && v->body == NULL);
	CHECK(cache_bytes(c) >= 1000);
	cached_release(v);
	/* Fresh: the same view, whatever fetch the next caller names. */
	CHECK_INT(cache_get_with(c, "/list", view_fetch, "other", &v, &err), 0);
	CHECK_STR(v->view, "compact");
	cached_release(v);
	CHECK_INT(atomic_load(&views_freed), 0);
	cache_invalidate(c, "/list");
	CHECK_INT(cache_get_with(c, "/list", view_fetch, "newer", &v, &err), 0);
	CHECK_STR(v->view, "newer");
	CHECK_INT(atomic_load(&views_freed), 1);
	cached_release(v);
	cache_free(c);
	CHECK_INT(atomic_load(&views_freed), 2);
}

static const struct unit_case cases[] = {
	{ "views_are_kept_weighed_and_freed", views_are_kept_weighed_and_freed },
	{ "weight_counts_the_parsed_tree", weight_counts_the_parsed_tree },
	{ "memory_stays_under_the_budget", memory_stays_under_the_budget },
	{ "expired_answers_go_within_a_ttl", expired_answers_go_within_a_ttl },
	{ "no_cache_keeps_only_the_answer_in_hand", no_cache_keeps_only_the_answer_in_hand },
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
