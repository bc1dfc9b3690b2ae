/* Which bytes the kernel's page cache holds of each path (see fs/pagecache.h). */
#include "fs/pagecache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The table starts with this many chains and doubles past two paths per chain. */
#define FIRST_BUCKETS 4096
/*
 * Past this many paths all are forgotten: the next open of each drops its
 * pages once, and a flush misses the attributes forgotten, which the kernel
 * drops at attr_timeout as it would without a flush.
 */
#define MAX_PATHS 200000
/*
 * Every this many new paths, those not served or noted for keep_seconds go:
 * snapshots come and go for as long as a mount lives, and their paths with
 * them. Forgetting one only costs its next open a page drop (it is new
 * again), and the kernel's attributes of it have expired by then.
 */
#define SWEEP_EVERY 4096

struct served {
	struct served *next;
	uint64_t digest;	/* of the bytes: FNV-1a, 64 bits */
	size_t len;
	int has_bytes;		/* whether the kernel may hold its pages (else only its attributes) */
	double used_at;		/* monotonic seconds: when it was last served or noted */
	char path[];
};

struct pagecache {
	pthread_mutex_t lock;
	size_t count;
	size_t added;		/* new paths since the last sweep */
	double keep_seconds;
	size_t nbuckets;	/* a power of two */
	struct served **buckets;
};

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

#define FNV_OFFSET 14695981039346656037ull

struct pagecache *pagecache_new(double keep_seconds)
{
	struct pagecache *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return NULL;
	pc->buckets = calloc(FIRST_BUCKETS, sizeof(*pc->buckets));
	if (!pc->buckets) {
		free(pc);
		return NULL;
	}
	pthread_mutex_init(&pc->lock, NULL);
	pc->keep_seconds = keep_seconds;
	pc->nbuckets = FIRST_BUCKETS;
	return pc;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Drops the paths unused for keep_seconds; under the lock. */
static void sweep_unused(struct pagecache *pc, double now)
{
	for (size_t b = 0; b < pc->nbuckets; b++) {
		struct served **link = &pc->buckets[b];

		while (*link) {
			struct served *s = *link;

			if (now - s->used_at > pc->keep_seconds) {
				*link = s->next;
				free(s);
				pc->count--;
			} else {
				link = &s->next;
			}
		}
	}
	pc->added = 0;
}

static void forget_all(struct pagecache *pc)
{
	for (size_t b = 0; b < pc->nbuckets; b++) {
		while (pc->buckets[b]) {
			struct served *s = pc->buckets[b];

			pc->buckets[b] = s->next;
			free(s);
		}
	}
	pc->count = 0;
	pc->added = 0;
}

void pagecache_free(struct pagecache *pc)
{
	if (!pc)
		return;
	forget_all(pc);
	pthread_mutex_destroy(&pc->lock);
	free(pc->buckets);
	free(pc);
}

static size_t bucket_of(const struct pagecache *pc, const char *path)
{
	return (size_t)fnv1a(path, strlen(path), FNV_OFFSET) & (pc->nbuckets - 1);
}

/*
 * Twice the chains, so that they stay short however many snapshots a mount
 * sees (a listing of 100,000 notes as many paths). Without the memory, the
 * chains only grow longer.
 */
static void grow(struct pagecache *pc)
{
	size_t old_n = pc->nbuckets;
	struct served **old = pc->buckets, **buckets = calloc(2 * old_n, sizeof(*buckets));

	if (!buckets)
		return;
	pc->buckets = buckets;
	pc->nbuckets = 2 * old_n;
	for (size_t b = 0; b < old_n; b++) {
		while (old[b]) {
			struct served *s = old[b];
			size_t to = bucket_of(pc, s->path);

			old[b] = s->next;
			s->next = buckets[to];
			buckets[to] = s;
		}
	}
	free(old);
}

static struct served *add(struct pagecache *pc, size_t b, const char *path)
{
	size_t n = strlen(path) + 1;
	struct served *s;

	if (pc->added >= SWEEP_EVERY)
		sweep_unused(pc, now_seconds());
	if (pc->count >= MAX_PATHS)
		forget_all(pc);
	s = malloc(sizeof(*s) + n);
	if (!s)
		return NULL;
	memcpy(s->path, path, n);
	s->next = pc->buckets[b];
	pc->buckets[b] = s;
	pc->count++;
	pc->added++;
	if (pc->count > 2 * pc->nbuckets)
		grow(pc);
	return s;
}

/* path's record, made if it has none (*made then says so), or NULL; under the lock. */
static struct served *find_or_add(struct pagecache *pc, const char *path, int *made)
{
	size_t b = bucket_of(pc, path);
	struct served *s;

	for (s = pc->buckets[b]; s && strcmp(s->path, path); s = s->next)
		;
	*made = !s;
	if (!s)
		s = add(pc, b, path);
	if (s)
		s->used_at = now_seconds();
	return s;
}

int pagecache_serve(struct pagecache *pc, const char *path, const char *data, size_t len)
{
	uint64_t digest = fnv1a(data, len, FNV_OFFSET);
	struct served *s;
	int made, same = 0;

	pthread_mutex_lock(&pc->lock);
	s = find_or_add(pc, path, &made);
	if (s) {
		same = !made && s->has_bytes && s->digest == digest && s->len == len;
		s->digest = digest;
		s->len = len;
		s->has_bytes = 1;
	}
	pthread_mutex_unlock(&pc->lock);
	return s ? same : -ENOMEM;
}

int pagecache_note(struct pagecache *pc, const char *path)
{
	struct served *s;
	int made;

	pthread_mutex_lock(&pc->lock);
	s = find_or_add(pc, path, &made);
	if (s && made)
		s->has_bytes = 0;
	pthread_mutex_unlock(&pc->lock);
	return s ? 0 : -ENOMEM;
}

char **pagecache_take_all(struct pagecache *pc, size_t *count)
{
	char **names;
	size_t n = 0;

	pthread_mutex_lock(&pc->lock);
	names = pc->count ? malloc(pc->count * sizeof(*names)) : NULL;
	for (size_t b = 0; names && b < pc->nbuckets; b++)
		for (struct served *s = pc->buckets[b]; s; s = s->next)
			if ((names[n] = strdup(s->path)))
				n++;
	forget_all(pc);
	pthread_mutex_unlock(&pc->lock);
	*count = n;
	return names;
}
