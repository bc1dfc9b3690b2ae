#include "fs/state.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A short list: a mount holds a few repositories and restores, not thousands. */
struct entry {
	struct entry *next;
	char *key;
	char *text;		/* NULL for a pending repository */
};

struct mount_state {
	pthread_mutex_t lock;
	struct entry *texts;
	struct entry *pending;
};

struct mount_state *state_new(void)
{
	struct mount_state *st = calloc(1, sizeof(*st));

	if (st)
		pthread_mutex_init(&st->lock, NULL);
	return st;
}

static void list_free(struct entry *e)
{
	while (e) {
		struct entry *next = e->next;

		free(e->key);
		free(e->text);
		free(e);
		e = next;
	}
}

void state_free(struct mount_state *st)
{
	if (!st)
		return;
	list_free(st->texts);
	list_free(st->pending);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

static struct entry **find(struct entry **head, const char *key)
{
	while (*head && strcmp((*head)->key, key))
		head = &(*head)->next;
	return head;
}

/* Appends, so that listings keep the order things were made in. */
static int append(struct entry **head, const char *key, const char *text)
{
	struct entry *e = calloc(1, sizeof(*e));

	if (!e || !(e->key = strdup(key)) || (text && !(e->text = strdup(text)))) {
		if (e)
			free(e->key);
		free(e);
		return -ENOMEM;
	}
	*find(head, key) = e;
	return 0;
}

int state_get(struct mount_state *st, const char *key, struct buf *out)
{
	struct entry *e;
	int rc;

	pthread_mutex_lock(&st->lock);
	e = *find(&st->texts, key);
	rc = e ? buf_puts(out, e->text) : -ENOENT;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int state_set(struct mount_state *st, const char *key, const char *text)
{
	struct entry *e;
	char *copy = strdup(text);
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&st->lock);
	e = *find(&st->texts, key);
	if (e) {
		free(e->text);
		e->text = copy;
		copy = NULL;
	} else {
		rc = append(&st->texts, key, text);
	}
	pthread_mutex_unlock(&st->lock);
	free(copy);
	return rc;
}

int state_pending_add(struct mount_state *st, const char *repo)
{
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = *find(&st->pending, repo) ? -EEXIST : append(&st->pending, repo, NULL);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

int state_pending_remove(struct mount_state *st, const char *repo)
{
	struct entry **pp, *e;

	pthread_mutex_lock(&st->lock);
	pp = find(&st->pending, repo);
	e = *pp;
	if (e)
		*pp = e->next;
	pthread_mutex_unlock(&st->lock);
	if (!e)
		return -ENOENT;
	e->next = NULL;
	list_free(e);
	return 0;
}

int state_pending_has(struct mount_state *st, const char *repo)
{
	int has;

	pthread_mutex_lock(&st->lock);
	has = *find(&st->pending, repo) != NULL;
	pthread_mutex_unlock(&st->lock);
	return has;
}

int state_pending_each(struct mount_state *st, int (*fn)(void *ctx, const char *name), void *ctx)
{
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	for (struct entry *e = st->pending; e && !rc; e = e->next)
		rc = fn(ctx, e->key);
	pthread_mutex_unlock(&st->lock);
	return rc;
}
