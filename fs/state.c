/*
 * The mount's state (see fs/state.h): two short lists under one lock, and
 * their file in the cluster's state folder, rewritten whole at each change.
 */
#include "fs/state.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/errlog.h"
#include "client/log.h"
#include "client/sys.h"
#include "fs/names.h"

/* The file's layout; a file of another version is not understood (and set aside). */
#define STATE_VERSION 1

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
	struct statedir *dir;		/* where it is kept; NULL until known */
	pthread_mutex_t save_lock;	/* one write at a time, each of the newest state */
	atomic_int settled;		/* dir is set, or never will be */
	state_locate_fn *locate;
	void *locate_ctx;
	pthread_mutex_t locate_lock;
	double next_locate;		/* monotonic seconds */
};

struct mount_state *state_new(void)
{
	struct mount_state *st = calloc(1, sizeof(*st));

	if (st) {
		pthread_mutex_init(&st->lock, NULL);
		pthread_mutex_init(&st->save_lock, NULL);
		pthread_mutex_init(&st->locate_lock, NULL);
	}
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
	statedir_free(st->dir);
	pthread_mutex_destroy(&st->lock);
	pthread_mutex_destroy(&st->save_lock);
	pthread_mutex_destroy(&st->locate_lock);
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

/* ---------------------------------------------------------------- the file */

/* A failure of the state's file: the log and /_esfs/errors, never the caller's errno. */
static void report(const struct statedir *dir, int rc, const char *type, const char *what)
{
	struct esfs_error err = { 0 };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", statedir_path(dir), STATE_FILE);
	errmap_set(&err, -rc, type, "%s: %s", what, strerror(-rc));
	errlog_add("state", path, &err);
}

static cJSON *list_to_json(const struct entry *e, int texts)
{
	cJSON *json = texts ? cJSON_CreateObject() : cJSON_CreateArray();

	for (; e && json; e = e->next)
		if (texts ? !cJSON_AddStringToObject(json, e->key, e->text)
			  : !cJSON_AddItemToArray(json, cJSON_CreateString(e->key))) {
			cJSON_Delete(json);
			json = NULL;
		}
	return json;
}

/* {"version": 1, "pending": [names], "texts": {key: text}}; NULL when out of memory. Under st->lock. */
static char *serialize(const struct mount_state *st)
{
	cJSON *root = cJSON_CreateObject();
	char *json = NULL, *text = NULL;

	if (root && cJSON_AddNumberToObject(root, "version", STATE_VERSION) &&
	    cJSON_AddItemToObject(root, "pending", list_to_json(st->pending, 0)) &&
	    cJSON_AddItemToObject(root, "texts", list_to_json(st->texts, 1)))
		json = cJSON_Print(root);
	cJSON_Delete(root);
	/* A final newline, as every text file esfs shows has. */
	if (json && asprintf(&text, "%s\n", json) < 0)
		text = NULL;
	free(json);
	return text;
}

/* Writes the state as it is now; later changes write again, so the newest one always lands last. */
static void save(struct mount_state *st)
{
	struct statedir *dir;
	char *text;
	int rc;

	pthread_mutex_lock(&st->save_lock);
	pthread_mutex_lock(&st->lock);
	dir = st->dir;
	text = dir ? serialize(st) : NULL;
	pthread_mutex_unlock(&st->lock);
	if (dir) {
		rc = text ? statedir_write(dir, STATE_FILE, text, strlen(text)) : -ENOMEM;
		if (rc)
			report(dir, rc, "state_not_saved",
			       "the change holds for this mount but was not written");
	}
	pthread_mutex_unlock(&st->save_lock);
	free(text);
}

/*
 * The kinds of text esfs keeps, by the start of their keys; those of one
 * snapshot ("<kind><repo>/<snapshot>") go with it (state_forget_snapshot).
 */
static const struct {
	const char *prefix;
	int of_snapshot;
} kinds[] = {
	{ "defaults/", 0 }, { "restore/", 1 }, { "clone/", 1 }, { "cleanup/", 0 }, { "policy/", 0 },
	{ "policy-run/", 0 }, { "restore-plan/", 1 }, { "drill/", 1 },
};

static int key_is_known(const char *key)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(key, kinds[i].prefix, strlen(kinds[i].prefix)))
			return 1;
	return 0;
}

/* A text esfs wrote: its key's kind is known and it is JSON (a defaults text is a request body). */
static int text_is_sound(const char *key, const cJSON *value)
{
	const char *text = cJSON_GetStringValue(value);
	cJSON *parsed;

	if (!text || !key_is_known(key))
		return 0;
	parsed = cJSON_Parse(text);
	cJSON_Delete(parsed);
	return parsed != NULL;
}

/* The lists of a file's text: 0, -EBADMSG when it is not what esfs writes, -ENOMEM. */
static int parse_state(const char *text, struct entry **texts, struct entry **pending)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(root, "pending");
	const cJSON *kept = cJSON_GetObjectItemCaseSensitive(root, "texts");
	const cJSON *item;
	int rc = 0;

	if (!cJSON_IsNumber(version) || version->valueint != STATE_VERSION ||
	    !cJSON_IsArray(names) || !cJSON_IsObject(kept)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	cJSON_ArrayForEach(item, names) {
		const char *name = cJSON_GetStringValue(item);

		if (!name || name_check_repository(name, NULL, 0))
			rc = -EBADMSG;
		else
			rc = append(pending, name, NULL);
		if (rc)
			break;
	}
	for (item = rc ? NULL : kept->child; item; item = item->next) {
		rc = text_is_sound(item->string, item) ? append(texts, item->string, item->valuestring)
						       : -EBADMSG;
		if (rc)
			break;
	}
	cJSON_Delete(root);
	return rc;
}

/*
 * The file's lists, or none at all: 0 (a missing file is an empty state),
 * or a negative errno when the file could be neither used nor set aside.
 */
static int load(struct statedir *dir, struct entry **texts, struct entry **pending)
{
	struct buf text = BUF_INIT;
	char aside[256];
	int rc = statedir_read(dir, STATE_FILE, &text);

	if (rc == 0)
		rc = parse_state(text.data ? text.data : "", texts, pending);
	buf_free(&text);
	if (rc == 0 || rc == -ENOENT)
		return 0;
	list_free(*texts);
	list_free(*pending);
	*texts = *pending = NULL;
	if (rc == -ENOMEM)
		return rc;
	report(dir, rc, "state_unreadable", "cannot use the saved state: starting with an empty one");
	rc = statedir_set_aside(dir, STATE_FILE, aside, sizeof(aside));
	if (rc)
		log_err("state: cannot move %s/%s aside (%s): this mount keeps its state in memory only",
			statedir_path(dir), STATE_FILE, strerror(-rc));
	else
		log_warn("state: the unusable file is kept as %s/%s", statedir_path(dir), aside);
	return rc;
}

/* Moves memory's entries into loaded: a text set in this mount replaces the saved one. */
static int merge(struct entry **loaded, struct entry *memory)
{
	int any = memory != NULL;

	while (memory) {
		struct entry *e = memory, **at = find(loaded, e->key);

		memory = e->next;
		e->next = NULL;
		if (*at) {
			free((*at)->text);
			(*at)->text = e->text;
			e->text = NULL;
			list_free(e);
		} else {
			*at = e;
		}
	}
	return any;
}

int state_attach(struct mount_state *st, struct statedir *dir)
{
	struct entry *texts = NULL, *pending = NULL;
	int rc = load(dir, &texts, &pending), changed;

	if (rc) {
		statedir_free(dir);
		atomic_store(&st->settled, 1);
		return rc;
	}
	pthread_mutex_lock(&st->lock);
	changed = merge(&texts, st->texts) | merge(&pending, st->pending);
	st->texts = texts;
	st->pending = pending;
	statedir_free(st->dir);
	st->dir = dir;
	pthread_mutex_unlock(&st->lock);
	atomic_store(&st->settled, 1);
	log_info("state: kept in %s", statedir_path(dir));
	if (changed)
		save(st);
	return 0;
}

void state_locate_with(struct mount_state *st, state_locate_fn *fn, void *ctx)
{
	st->locate = fn;
	st->locate_ctx = ctx;
}

/*
 * Where the state goes, asked at the first access that finds it unknown:
 * one thread asks, the others go on with the state in memory.
 */
static void settle(struct mount_state *st)
{
	struct statedir *dir;
	int rc;

	if (atomic_load(&st->settled) || !st->locate || pthread_mutex_trylock(&st->locate_lock))
		return;
	if (!atomic_load(&st->settled) && monotonic_seconds() >= st->next_locate) {
		rc = st->locate(st->locate_ctx, &dir);
		if (rc == 0)
			state_attach(st, dir);
		else if (rc == -EAGAIN)
			st->next_locate = monotonic_seconds() + 1;
		else
			atomic_store(&st->settled, 1);
	}
	pthread_mutex_unlock(&st->locate_lock);
}

/* ---------------------------------------------------------------- access */

int state_get(struct mount_state *st, const char *key, struct buf *out)
{
	struct entry *e;
	int rc;

	settle(st);
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
	settle(st);
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
	if (rc == 0)
		save(st);
	return rc;
}

int state_pending_add(struct mount_state *st, const char *repo)
{
	int rc;

	settle(st);
	pthread_mutex_lock(&st->lock);
	rc = *find(&st->pending, repo) ? -EEXIST : append(&st->pending, repo, NULL);
	pthread_mutex_unlock(&st->lock);
	if (rc == 0)
		save(st);
	return rc;
}

/* Takes key's entry out of the list and writes the state: 0, or -ENOENT when it is not there. */
static int remove_entry(struct mount_state *st, struct entry **head, const char *key)
{
	struct entry **pp, *e;

	settle(st);
	pthread_mutex_lock(&st->lock);
	pp = find(head, key);
	e = *pp;
	if (e)
		*pp = e->next;
	pthread_mutex_unlock(&st->lock);
	if (!e)
		return -ENOENT;
	e->next = NULL;
	list_free(e);
	save(st);
	return 0;
}

int state_unset(struct mount_state *st, const char *key)
{
	return remove_entry(st, &st->texts, key);
}

int state_forget_snapshot(struct mount_state *st, const char *repo, const char *snap)
{
	struct entry *gone = NULL;
	struct buf key = BUF_INIT;
	int rc = 0;

	settle(st);
	pthread_mutex_lock(&st->lock);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !rc; i++) {
		struct entry **pp, *e;

		if (!kinds[i].of_snapshot)
			continue;
		buf_reset(&key);
		rc = buf_printf(&key, "%s%s/%s", kinds[i].prefix, repo, snap) ? -ENOMEM : 0;
		if (rc || !*(pp = find(&st->texts, key.data)))
			continue;
		e = *pp;
		*pp = e->next;
		e->next = gone;
		gone = e;
	}
	pthread_mutex_unlock(&st->lock);
	buf_free(&key);
	if (gone) {
		list_free(gone);
		save(st);
	}
	return rc;
}

int state_pending_remove(struct mount_state *st, const char *repo)
{
	return remove_entry(st, &st->pending, repo);
}

int state_pending_has(struct mount_state *st, const char *repo)
{
	int has;

	settle(st);
	pthread_mutex_lock(&st->lock);
	has = *find(&st->pending, repo) != NULL;
	pthread_mutex_unlock(&st->lock);
	return has;
}

int state_pending_each(struct mount_state *st, int (*fn)(void *ctx, const char *name), void *ctx)
{
	int rc = 0;

	settle(st);
	pthread_mutex_lock(&st->lock);
	for (struct entry *e = st->pending; e && !rc; e = e->next)
		rc = fn(ctx, e->key);
	pthread_mutex_unlock(&st->lock);
	return rc;
}
