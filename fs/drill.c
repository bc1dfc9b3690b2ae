/*
 * The restore drill: a write to <snapshot>/drill restores the snapshot's
 * indices (all, or those its body selects) under a prefix no index has; a
 * thread of the mount then waits until they are recovered, counts their
 * documents and deletes exactly them. Reading drill shows the run, kept in
 * the mount's state under drill/<repo>/<snap>; reading drill-wait (unlisted)
 * blocks until it has ended and fails at close unless it passed; rm drill or
 * a second write cancels a running one.
 *
 * The write returns once the engine has accepted the restore, rather than
 * when the drill ends: while a write is under way the kernel (the file's
 * lock) and libfuse (its path lock) hold every rm of the same file back, so
 * a drill that ran in its write could not be cancelled.
 *
 * A drill touches no index it did not create: the names it restores to all
 * start with a prefix checked free just before, it deletes those names only,
 * listed one by one (never a pattern), and only once the engine may have
 * created them.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client/api.h"
#include "client/log.h"
#include "fs/lookup.h"
#include "fs/nodes.h"
#include "fs/render.h"
#include "fs/restoreplan.h"
#include "fs/retention.h"
#include "fs/tree.h"

#define DRILL_PREFIX_HEAD "esfs-drill-"
/* As a policy run's wait: a drill of a big snapshot may take long, but not forever. */
#define DRILL_WAIT_DEFAULT (60 * 60)
/* How long rm (or a second write) waits for a cancelled drill to clean up. */
#define CANCEL_WAIT_SECONDS 120
/* Keeps each DELETE's path well under the engines' 4 kB request line. */
#define DELETE_NAMES_MAX_BYTES 2048
/* Drills that may run at once, each a thread of the mount and a few requests a second. */
#define DRILLS_MAX 8

struct drill_index {
	char *source;		/* the snapshot's index */
	char *target;		/* the drill's: prefix + source */
	int shards;		/* primaries seen so far */
	int recovered;		/* every primary started */
	int failed;		/* a primary failed to allocate */
	double restore_seconds;
	long long docs, bytes;
	int counted;
};

struct drill {
	char repo[NAME_MAX_BYTES + 1];
	char snap[NAME_MAX_BYTES + 1];
	char key[2 * NAME_MAX_BYTES + 16];
	char prefix[32];
	char started_at[32];
	struct timespec started;
	time_t deadline;
	struct drill_index *idx;
	size_t count;
	char *names;		/* the drill indices, comma-joined */
	cJSON *skipped;		/* the snapshot's indices left out, and why */
	cJSON *deleted;		/* the drill indices deleted */
	cJSON *problems;	/* what went wrong along the way, besides the outcome */
	int sent;		/* the restore may have created indices: they must be deleted */
	int cleanup_rc;
	atomic_int cancelled;
	struct drill *next;	/* in the list of running drills */
};

/* -------------------------------------------------- the running drills */

static pthread_mutex_t drills_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drills_changed = PTHREAD_COND_INITIALIZER;
static struct drill *running;

static struct drill **find_running(const char *repo, const char *snap)
{
	struct drill **pp = &running;

	while (*pp && (strcmp((*pp)->repo, repo) || strcmp((*pp)->snap, snap)))
		pp = &(*pp)->next;
	return pp;
}

/* 0, -EBUSY when a drill of the same snapshot runs already, -EAGAIN past DRILLS_MAX. */
static int register_drill(struct drill *d)
{
	int rc = 0;

	size_t count = 0;

	pthread_mutex_lock(&drills_lock);
	for (struct drill *r = running; r; r = r->next)
		count++;
	if (*find_running(d->repo, d->snap))
		rc = -EBUSY;
	else if (count >= DRILLS_MAX)
		rc = -EAGAIN;
	else {
		d->next = running;
		running = d;
	}
	pthread_mutex_unlock(&drills_lock);
	return rc;
}

static void unregister_drill(struct drill *d)
{
	pthread_mutex_lock(&drills_lock);
	struct drill **pp = find_running(d->repo, d->snap);

	if (*pp == d)
		*pp = d->next;
	pthread_cond_broadcast(&drills_changed);
	pthread_mutex_unlock(&drills_lock);
}

/*
 * Cancels the drill of repo/snap and waits until it has cleaned up: 0, or
 * -ENOENT when none runs, -ETIMEDOUT when it is still cleaning up.
 */
static int cancel_running(const char *repo, const char *snap)
{
	struct timespec until;
	struct drill *d;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CANCEL_WAIT_SECONDS;
	pthread_mutex_lock(&drills_lock);
	d = *find_running(repo, snap);
	if (!d)
		rc = -ENOENT;
	else
		atomic_store(&d->cancelled, 1);
	/* Compared by address: the drill is freed once it has left the list. */
	while (!rc && *find_running(repo, snap) == d)
		if (pthread_cond_timedwait(&drills_changed, &drills_lock, &until) == ETIMEDOUT)
			rc = -ETIMEDOUT;
	pthread_mutex_unlock(&drills_lock);
	return rc;
}

/* ---------------------------------------------------------- the report */

static void drill_key(const struct node *n, char *key, size_t size)
{
	snprintf(key, size, "drill/%s/%s", n->repo, n->snap);
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Tenths of a second: finer says nothing about a restore. */
static double tenths(double s)
{
	return (double)(long long)(s * 10 + 0.5) / 10;
}

static const char *index_verdict(const struct drill_index *ix, const char *outcome)
{
	if (ix->failed)
		return "failed to recover";
	if (ix->counted)
		return "passed";
	if (ix->recovered)
		return strcmp(outcome, "running") ? "not counted" : "counting";
	return strcmp(outcome, "running") ? "not recovered" : "restoring";
}

static cJSON *render_index(const struct drill_index *ix, const char *outcome)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "index", ix->source);
	cJSON_AddStringToObject(o, "drill_index", ix->target);
	if (ix->counted)
		cJSON_AddNumberToObject(o, "docs", (double)ix->docs);
	cJSON_AddNumberToObject(o, "shards", ix->shards);
	if (ix->counted)
		cJSON_AddNumberToObject(o, "bytes", (double)ix->bytes);
	if (ix->recovered)
		cJSON_AddNumberToObject(o, "restore_seconds", tenths(ix->restore_seconds));
	cJSON_AddStringToObject(o, "verdict", index_verdict(ix, outcome));
	return o;
}

/* outcome: running, passed, failed or cancelled; rc and err say why it is not passed. */
static void save_report(struct esfs *fs, const struct drill *d, const char *outcome, int rc,
			const struct esfs_error *err)
{
	cJSON *r = cJSON_CreateObject(), *list;
	struct buf text = BUF_INIT;

	cJSON_AddStringToObject(r, "repository", d->repo);
	cJSON_AddStringToObject(r, "snapshot", d->snap);
	cJSON_AddStringToObject(r, "state", outcome);
	cJSON_AddStringToObject(r, "started", d->started_at);
	cJSON_AddNumberToObject(r, "took", tenths(seconds_since(&d->started)));
	cJSON_AddStringToObject(r, "prefix", d->prefix);
	list = cJSON_AddArrayToObject(r, "indices");
	for (size_t i = 0; i < d->count; i++)
		cJSON_AddItemToArray(list, render_index(&d->idx[i], outcome));
	cJSON_AddItemToObject(r, "skipped", cJSON_Duplicate(d->skipped, 1));
	cJSON_AddItemToObject(r, "deleted", cJSON_Duplicate(d->deleted, 1));
	if (rc) {
		cJSON_AddStringToObject(r, "errno", errmap_errno_name(-rc));
		cJSON_AddStringToObject(r, "error", err && err->reason[0] ? err->reason : "");
	}
	cJSON_AddItemToObject(r, "problems", cJSON_Duplicate(d->problems, 1));
	if (render_json(&text, r) == 0)
		state_set(fs->state, d->key, text.data);
	buf_free(&text);
	cJSON_Delete(r);
}

int read_snap_drill(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err)
{
	char key[2 * NAME_MAX_BYTES + 16];
	int rc = lookup_snapshot_exists(fs, n, err);

	if (rc)
		return rc;
	drill_key(n, key, sizeof(key));
	rc = state_get(fs->state, key, out);
	return rc == -ENOENT ? buf_puts(out, "{}\n") : rc;
}

/* ---------------------------------------------------------- the request */

struct drill_request {
	const char *indices;	/* restore's "indices", or NULL for all; points into json */
	long long wait;		/* seconds until the drill gives up */
	cJSON *json;
};

static int parse_request(const struct buf *body, struct drill_request *req, struct esfs_error *err)
{
	const cJSON *item, *indices, *wait;

	memset(req, 0, sizeof(*req));
	req->wait = DRILL_WAIT_DEFAULT;
	req->json = cJSON_ParseWithLength(body->data, body->len);
	if (!cJSON_IsObject(req->json))
		return lookup_refuse(err, EINVAL, "drill takes a JSON object: {}, or "
				     "{\"indices\": \"a,b*\", \"wait\": \"10m\"}: nothing was sent");
	cJSON_ArrayForEach(item, req->json) {
		if (strcmp(item->string, "indices") && strcmp(item->string, "wait")) {
			char why[400];

			snprintf(why, sizeof(why), "drill takes \"indices\" and \"wait\" only, not \"%.200s\": "
				 "nothing was sent", item->string);
			return lookup_refuse(err, EINVAL, why);
		}
	}
	indices = cJSON_GetObjectItemCaseSensitive(req->json, "indices");
	if (indices && !(req->indices = cJSON_GetStringValue(indices)))
		return lookup_refuse(err, EINVAL, "drill: \"indices\" is a string such as \"a,b*\": "
				     "nothing was sent");
	wait = cJSON_GetObjectItemCaseSensitive(req->json, "wait");
	if (wait && (req->wait = policy_duration_seconds(cJSON_GetStringValue(wait))) < 0)
		return lookup_refuse(err, EINVAL, "drill: \"wait\" is a duration such as \"90s\", \"10m\" "
				     "or \"2h\": nothing was sent");
	return 0;
}

static void drill_free(struct drill *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->count; i++) {
		free(d->idx[i].source);
		free(d->idx[i].target);
	}
	free(d->idx);
	free(d->names);
	cJSON_Delete(d->skipped);
	cJSON_Delete(d->deleted);
	cJSON_Delete(d->problems);
	free(d);
}

/* A prefix of 8 random hex digits: two drills, or a drill and a live index, never share one. */
static void make_prefix(char *out, size_t size)
{
	unsigned int r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16) ^ (unsigned int)clock();
	snprintf(out, size, DRILL_PREFIX_HEAD "%08x-", r);
}

/* Whether no index (hidden ones too) starts with prefix: 0, -EEXIST, or the cluster's failure. */
static int prefix_is_free(struct esfs *fs, const char *prefix, struct esfs_error *err)
{
	char pattern[40];
	struct buf body = BUF_INIT;
	cJSON *answer;
	int rc;

	snprintf(pattern, sizeof(pattern), "%s*", prefix);
	rc = api_cat_indices(fs->client, pattern, &body, err);
	answer = rc ? NULL : cJSON_ParseWithLength(body.data, body.len);
	if (!rc && cJSON_GetArraySize(answer) > 0)
		rc = -EEXIST;
	cJSON_Delete(answer);
	buf_free(&body);
	return rc;
}

static int choose_prefix(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	int rc = -EEXIST;

	for (int tries = 0; tries < 3 && rc == -EEXIST; tries++) {
		make_prefix(d->prefix, sizeof(d->prefix));
		rc = prefix_is_free(fs, d->prefix, err);
	}
	return rc == -EEXIST ? lookup_refuse(err, EEXIST, "no free drill prefix: nothing was sent") : rc;
}

/*
 * Takes the snapshot's index source into the drill. Names starting with '.'
 * are left out: system indices belong to the engine's features, and a data
 * stream's backing indices (.ds-*) would be restored into the data stream
 * itself, which a rename does not keep apart from the live one.
 */
static int add_index(struct drill *d, const char *source, size_t *joined_len, struct esfs_error *err)
{
	struct drill_index *ix = &d->idx[d->count];
	char why[400];

	if (source[0] == '.') {
		cJSON_AddItemToArray(d->skipped, cJSON_CreateString(source));
		return 0;
	}
	if (strlen(d->prefix) + strlen(source) > NAME_MAX_BYTES) {
		snprintf(why, sizeof(why), "the drill index of %.200s would be longer than %d bytes: "
			 "nothing was sent", source, NAME_MAX_BYTES);
		return lookup_refuse(err, ENAMETOOLONG, why);
	}
	ix->source = strdup(source);
	if (!ix->source || asprintf(&ix->target, "%s%s", d->prefix, source) < 0)
		return -ENOMEM;
	d->count++;
	*joined_len += strlen(ix->target) + 1;
	return 0;
}

static int join_targets(struct drill *d)
{
	struct buf joined = BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < d->count && !rc; i++)
		rc = buf_printf(&joined, "%s%s", i ? "," : "", d->idx[i].target);
	if (rc) {
		buf_free(&joined);
		return -ENOMEM;
	}
	d->names = buf_steal(&joined);
	return 0;
}

/* The snapshot's indices the request selects; EINVAL when none. */
static int select_indices(struct esfs *fs, struct drill *d, const struct drill_request *req,
			  struct esfs_error *err)
{
	struct cached *info;
	const cJSON *snap, *indices, *state, *name;
	unsigned char *chosen = NULL;
	char why[1000] = "";
	size_t joined = 0;
	int rc = api_snapshot_info(fs->client, d->repo, d->snap, &info, err), k = 0;

	if (rc)
		return rc;
	snap = api_single_snapshot(info->json);
	state = cJSON_GetObjectItemCaseSensitive(snap, "state");
	indices = cJSON_GetObjectItemCaseSensitive(snap, "indices");
	if (!cJSON_GetStringValue(state) || strcmp(state->valuestring, "IN_PROGRESS") == 0)
		rc = lookup_refuse(err, EBUSY, "the snapshot is still running: drill it once it has ended");
	else if (!strcmp(state->valuestring, "FAILED") || !strcmp(state->valuestring, "INCOMPATIBLE"))
		rc = lookup_refuse(err, EINVAL, "the snapshot failed: there is nothing to restore");
	else if (!(d->idx = calloc((size_t)cJSON_GetArraySize(indices) + 1, sizeof(*d->idx))) ||
		 !(chosen = calloc((size_t)cJSON_GetArraySize(indices) + 1, 1)))
		rc = -ENOMEM;
	/* The selection a restore of the same "indices" makes (fs/restoreplan.c). */
	if (!rc && (rc = restore_select(req->json, snap, chosen, why, sizeof(why))) != 0 && rc != -ENOMEM)
		rc = lookup_refuse(err, -rc, why);
	cJSON_ArrayForEach(name, indices) {
		if (!rc && cJSON_GetStringValue(name) && chosen[k++])
			rc = add_index(d, name->valuestring, &joined, err);
	}
	free(chosen);
	cached_release(info);
	if (!rc && !d->count)
		rc = lookup_refuse(err, EINVAL, "drill: no index of the snapshot is selected (names starting "
				   "with '.' never are): nothing was sent");
	return rc ? rc : join_targets(d);
}

static int drill_new(struct esfs *fs, const struct node *n, const struct drill_request *req,
		     struct drill **out, struct esfs_error *err)
{
	struct drill *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d)
		return -ENOMEM;
	snprintf(d->repo, sizeof(d->repo), "%s", n->repo);
	snprintf(d->snap, sizeof(d->snap), "%s", n->snap);
	drill_key(n, d->key, sizeof(d->key));
	d->skipped = cJSON_CreateArray();
	d->deleted = cJSON_CreateArray();
	d->problems = cJSON_CreateArray();
	clock_gettime(CLOCK_MONOTONIC, &d->started);
	policy_iso_time(time(NULL), d->started_at, sizeof(d->started_at));
	d->deadline = time(NULL) + (time_t)req->wait;
	rc = !d->skipped || !d->deleted || !d->problems ? -ENOMEM : choose_prefix(fs, d, err);
	if (!rc)
		rc = select_indices(fs, d, req, err);
	if (rc)
		drill_free(d);
	else
		*out = d;
	return rc;
}

/* ---------------------------------------------------------- the run */

/*
 * The restore: exactly the selected indices, renamed, without the cluster's
 * global state, aliases or feature states, and without replicas so that a
 * single node gets them all started.
 */
static char *restore_body(const struct drill *d)
{
	cJSON *b = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(b, "indices");
	cJSON *settings;
	char replacement[40];
	char *text;

	for (size_t i = 0; i < d->count; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(d->idx[i].source));
	snprintf(replacement, sizeof(replacement), "%s$1", d->prefix);
	cJSON_AddFalseToObject(b, "ignore_unavailable");
	cJSON_AddFalseToObject(b, "include_global_state");
	cJSON_AddFalseToObject(b, "include_aliases");
	cJSON_AddFalseToObject(b, "partial");
	cJSON_AddStringToObject(b, "rename_pattern", "(.+)");
	cJSON_AddStringToObject(b, "rename_replacement", replacement);
	settings = cJSON_AddObjectToObject(b, "index_settings");
	cJSON_AddNumberToObject(settings, "index.number_of_replicas", 0);
	text = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return text;
}

static int start_restore(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	struct http_response resp = { 0 };
	char *body = restore_body(d);
	int rc;

	if (!body)
		return -ENOMEM;
	rc = api_snapshot_restore(fs->client, d->repo, d->snap, body, strlen(body), &resp, err);
	/* Refused by the engine (a 4xx), the restore created nothing; anything else may have. */
	d->sent = !(rc && resp.status >= 400 && resp.status < 500);
	http_response_free(&resp);
	free(body);
	return rc;
}

static struct drill_index *find_target(struct drill *d, const char *target)
{
	for (size_t i = 0; target && i < d->count; i++)
		if (!strcmp(d->idx[i].target, target))
			return &d->idx[i];
	return NULL;
}

struct shard_tally {
	int primaries, started, failed;
};

/* Where each drill index's primaries stand: started, or failed to allocate (a failed restore). */
static int poll_shards(struct esfs *fs, struct drill *d, int *changed, struct esfs_error *err)
{
	struct buf body = BUF_INIT;
	struct shard_tally *t = calloc(d->count + 1, sizeof(*t));
	cJSON *answer = NULL;
	const cJSON *row;
	int rc = t ? api_cat_shards(fs->client, d->names, &body, err) : -ENOMEM;

	if (rc == -ENOENT)	/* not all in the cluster's metadata yet */
		rc = 0;
	if (!rc && body.len)
		answer = cJSON_ParseWithLength(body.data, body.len);
	cJSON_ArrayForEach(row, answer) {
		struct drill_index *ix = find_target(d, cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(row, "index")));
		const char *prirep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "prirep"));
		const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "state"));
		const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "unassigned.reason"));
		struct shard_tally *s;

		if (!ix || !prirep || strcmp(prirep, "p") || !state)
			continue;
		s = &t[ix - d->idx];
		s->primaries++;
		s->started += !strcmp(state, "STARTED");
		s->failed += !strcmp(state, "UNASSIGNED") && why && !strcmp(why, "ALLOCATION_FAILED");
	}
	for (size_t i = 0; !rc && i < d->count; i++) {
		struct drill_index *ix = &d->idx[i];
		int recovered = t[i].primaries > 0 && t[i].started == t[i].primaries;

		*changed |= ix->shards != t[i].primaries || recovered != ix->recovered || (t[i].failed > 0) != ix->failed;
		ix->shards = t[i].primaries;
		ix->failed = t[i].failed > 0;
		if (recovered && !ix->recovered)
			ix->restore_seconds = seconds_since(&d->started);
		ix->recovered = recovered;
	}
	cJSON_Delete(answer);
	buf_free(&body);
	free(t);
	return rc;
}

/* One second, in tenths: -ECANCELED when rm, a second write or the unmount cancelled. */
static int pause_a_second(struct drill *d)
{
	for (int i = 0; i < 10; i++) {
		if (atomic_load(&d->cancelled))
			return -ECANCELED;
		usleep(100 * 1000);
	}
	return 0;
}

static int wait_recovered(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	for (;;) {
		int changed = 0, all = 1;
		int rc = poll_shards(fs, d, &changed, err);

		if (rc)
			return rc;
		if (changed)
			save_report(fs, d, "running", 0, NULL);
		for (size_t i = 0; i < d->count; i++) {
			if (d->idx[i].failed) {
				char why[400];

				snprintf(why, sizeof(why), "the drill index %.200s failed to recover",
					 d->idx[i].target);
				return lookup_refuse(err, EIO, why);
			}
			all &= d->idx[i].recovered;
		}
		if (all)
			return 0;
		if (time(NULL) >= d->deadline)
			return lookup_refuse(err, ETIMEDOUT, "the drill indices were not all recovered in time");
		rc = pause_a_second(d);
		if (rc)
			return rc;
	}
}

static long long number_member(const cJSON *row, const char *name)
{
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, name));

	return text ? strtoll(text, NULL, 10) : 0;
}

/* Documents as a search counts them (nested ones are not), and the bytes each index holds. */
static int count_documents(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	struct buf body = BUF_INIT;
	cJSON *answer;
	const cJSON *row;
	int rc = api_cat_indices(fs->client, d->names, &body, err);

	answer = rc ? NULL : cJSON_ParseWithLength(body.data, body.len);
	cJSON_ArrayForEach(row, answer) {
		struct drill_index *ix = find_target(d, cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(row, "index")));

		if (ix)
			ix->bytes = number_member(row, "store.size");
	}
	cJSON_Delete(answer);
	buf_free(&body);
	for (size_t i = 0; i < d->count && !rc; i++) {
		rc = api_index_count(fs->client, d->idx[i].target, &d->idx[i].docs, err);
		d->idx[i].counted = !rc;
	}
	return rc;
}

/* ---------------------------------------------------------- the cleanup */

static void note_problem(struct drill *d, const struct esfs_error *err, const char *what)
{
	char line[700];

	snprintf(line, sizeof(line), "%s: %s", what, err->reason[0] ? err->reason : err->type);
	cJSON_AddItemToArray(d->problems, cJSON_CreateString(line));
}

static int delete_batch(struct esfs *fs, struct drill *d, size_t from, size_t to, struct esfs_error *err)
{
	struct buf joined = BUF_INIT;
	int rc = 0;

	for (size_t i = from; i < to && !rc; i++)
		rc = buf_printf(&joined, "%s%s", i > from ? "," : "", d->idx[i].target);
	if (!rc)
		rc = api_indices_delete(fs->client, joined.data, err);
	for (size_t i = from; i < to && !rc; i++)
		cJSON_AddItemToArray(d->deleted, cJSON_CreateString(d->idx[i].target));
	buf_free(&joined);
	return rc;
}

/* Deletes the drill indices by name, in batches; every batch is tried even when one fails. */
static int delete_drill_indices(struct esfs *fs, struct drill *d)
{
	size_t from = 0, len = 0;
	int rc = 0;

	for (size_t i = 0; i <= d->count; i++) {
		if (i == d->count || (i > from && len + strlen(d->idx[i].target) > DELETE_NAMES_MAX_BYTES)) {
			struct esfs_error err = { 0 };
			int one = i > from ? delete_batch(fs, d, from, i, &err) : 0;

			if (one) {
				note_problem(d, &err, "deleting the drill indices");
				rc = one;
			}
			from = i;
			len = 0;
		}
		if (i < d->count)
			len += strlen(d->idx[i].target) + 1;
	}
	return rc;
}

/* What the drill leaves behind, by its prefix: nothing, or -EIO. */
static int check_left_behind(struct esfs *fs, struct drill *d)
{
	struct esfs_error err = { 0 };
	int rc = prefix_is_free(fs, d->prefix, &err);

	if (rc == -EEXIST)
		cJSON_AddItemToArray(d->problems, cJSON_CreateString("drill indices are left behind"));
	else if (rc)
		note_problem(d, &err, "checking that no drill index is left");
	return rc ? -EIO : 0;
}

/* Deletes what the drill may have created, then checks by its prefix that nothing is left. */
static void clean_up(struct esfs *fs, struct drill *d)
{
	if (!d->sent)
		return;
	d->cleanup_rc = delete_drill_indices(fs, d);
	if (!d->cleanup_rc)
		d->cleanup_rc = check_left_behind(fs, d);
}

/* ---------------------------------------------------------- the drill's thread */

static const char *outcome_of(int rc)
{
	if (!rc)
		return "passed";
	return rc == -ECANCELED ? "cancelled" : "failed";
}

/* After the restore was accepted: wait, count, and whatever happened, clean up. */
static int finish_drill(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	int rc = wait_recovered(fs, d, err);

	if (!rc) {
		save_report(fs, d, "running", 0, NULL);
		rc = count_documents(fs, d, err);
	}
	if (rc == -ECANCELED)
		lookup_refuse(err, ECANCELED, "the drill was cancelled (rm drill, a second write, or unmount)");
	clean_up(fs, d);
	if (!rc && d->cleanup_rc)
		rc = lookup_refuse(err, EIO, "the drill indices were not all deleted: see problems in drill");
	return rc;
}

/* Ends the drill: its last report kept, and whoever waits for it told. */
static void end_drill(struct esfs *fs, struct drill *d, int rc, const struct esfs_error *err)
{
	save_report(fs, d, outcome_of(rc), rc, err);
	if (rc)
		log_warn("drill of %s/%s: %s", d->repo, d->snap, err->reason);
	else
		log_info("drill of %s/%s: passed", d->repo, d->snap);
	unregister_drill(d);
	drill_free(d);
}

struct drill_job {
	struct esfs *fs;
	struct drill *d;
};

/* The drill's own thread: no FUSE request is under way there, so nothing interrupts its requests. */
static void *drill_thread(void *arg)
{
	struct drill_job *job = arg;
	struct esfs_error err = { 0 };
	int rc = finish_drill(job->fs, job->d, &err);

	end_drill(job->fs, job->d, rc, &err);
	free(job);
	return NULL;
}

/* Hands the drill to a thread of its own; on failure, cleans up here. */
static int start_thread(struct esfs *fs, struct drill *d, struct esfs_error *err)
{
	struct drill_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t thread;
	int rc = job ? pthread_attr_init(&attr) : ENOMEM;

	if (!rc) {
		*job = (struct drill_job){ fs, d };
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&thread, &attr, drill_thread, job);
		pthread_attr_destroy(&attr);
	}
	if (!rc)
		return 0;
	free(job);
	rc = lookup_refuse(err, rc, "no thread for the drill");
	clean_up(fs, d);
	end_drill(fs, d, rc, err);
	return rc;
}

static int start_drill(struct esfs *fs, const struct node *n, const struct drill_request *req,
		       struct esfs_error *err)
{
	struct drill *d;
	int rc = drill_new(fs, n, req, &d, err);

	if (rc)
		return rc;
	rc = register_drill(d);
	if (rc) {
		drill_free(d);
		return rc == -EBUSY ? lookup_refuse(err, EBUSY, "a drill of this snapshot is starting: try again")
				    : lookup_refuse(err, -rc, "too many drills run already: try again later");
	}
	save_report(fs, d, "running", 0, NULL);
	rc = start_restore(fs, d, err);
	if (rc) {
		/* Unanswered, the restore may still have started: what it made goes too. */
		struct esfs_error scratch = { 0 };

		save_report(fs, d, "running", 0, NULL);
		memcpy(&scratch, err, sizeof(scratch));
		clean_up(fs, d);
		end_drill(fs, d, rc, &scratch);
		return rc;
	}
	save_report(fs, d, "running", 0, NULL);
	return start_thread(fs, d, err);
}

/*
 * echo '{}' > <snapshot>/drill: starts the drill, returning once the engine
 * has accepted its restore. Refused under -o ro (it restores and deletes
 * indices); under -o nodelete it runs, as the only indices it deletes are
 * its own.
 */
int body_drill(struct esfs *fs, const struct node *n, const struct buf *body, struct esfs_error *err)
{
	struct drill_request req;
	int rc;

	if (fs->read_only)
		return lookup_refuse(err, EROFS, "mounted with -o ro: a drill restores and deletes indices");
	rc = parse_request(body, &req, err);
	if (!rc)
		rc = lookup_snapshot_exists(fs, n, err);
	if (!rc && cancel_running(n->repo, n->snap) != -ENOENT)
		rc = lookup_refuse(err, ECANCELED, "a drill of this snapshot was running: it is cancelled "
				   "and cleaned up; write again to start one");
	if (!rc)
		rc = start_drill(fs, n, &req, err);
	cJSON_Delete(req.json);
	return rc;
}

/*
 * rm <snapshot>/drill cancels the running drill and returns once it has
 * cleaned up. With none running it does what rm of a view does (nothing), so
 * that rm -r of a snapshot reaches its rmdir.
 */
int unlink_snap_drill(struct esfs *fs, const struct node *n, struct esfs_error *err)
{
	int rc = cancel_running(n->repo, n->snap);

	if (rc == 0)
		return 0;
	if (rc == -ETIMEDOUT)
		return lookup_refuse(err, ETIMEDOUT, "the drill is cancelled but still cleaning up");
	if (fs->nodelete)
		return lookup_refuse(err, EPERM, "mounted with -o nodelete");
	return lookup_snapshot_exists(fs, n, err);
}

/* ---------------------------------------------------------- drill-wait */

/* The errno a kept report ends with: 0 when it passed. */
static int report_errno(const struct buf *report)
{
	static const int known[] = { EIO, ETIMEDOUT, ECANCELED, EINTR, ENOMEM, EROFS, EPERM, ENOENT,
				     EINVAL, EBUSY, EAGAIN, ECONNREFUSED, EHOSTUNREACH };
	cJSON *r = cJSON_ParseWithLength(report->data, report->len);
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "state"));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "errno"));
	int rc = state && !strcmp(state, "passed") ? 0 : EIO;

	for (size_t i = 0; rc && name && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(errmap_errno_name(known[i]), name))
			rc = known[i];
	cJSON_Delete(r);
	return -rc;
}

static int drill_is_running(const char *repo, const char *snap)
{
	int yes;

	pthread_mutex_lock(&drills_lock);
	yes = *find_running(repo, snap) != NULL;
	pthread_mutex_unlock(&drills_lock);
	return yes;
}

/*
 * Reading drill-wait blocks while the snapshot's drill runs, then gives its
 * report; close fails unless it passed (cat's exit status says so). Ctrl-C
 * stops the waiting, not the drill. Unlisted, as wait is: a crawler that
 * reads every file never blocks on it.
 */
int open_drill_wait(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
		    struct esfs_error *err)
{
	int rc = lookup_snapshot_exists(fs, n, err);

	if (!rc && drill_is_running(n->repo, n->snap) && !(rc = tree_block_begin(err))) {
		while (!rc && drill_is_running(n->repo, n->snap)) {
			if (fs->interrupted && fs->interrupted())
				rc = -EINTR;
			else
				usleep(100 * 1000);
		}
		tree_block_end();
	}
	if (rc)
		return rc;
	rc = read_snap_drill(fs, n, out, err);
	if (!rc && !strcmp(out->data, "{}\n"))
		*close_rc = lookup_refuse(err, ENODATA, "no drill of this snapshot has run");
	else if (!rc && (*close_rc = report_errno(out)) != 0)
		lookup_refuse(err, -*close_rc, "the drill did not pass: see its report");
	return rc;
}

/* At unmount: every running drill cancelled, and waited for until it has cleaned up. */
void tree_drills_stop(void)
{
	pthread_mutex_lock(&drills_lock);
	for (struct drill *d = running; d; d = d->next)
		atomic_store(&d->cancelled, 1);
	while (running)
		pthread_cond_wait(&drills_changed, &drills_lock);
	pthread_mutex_unlock(&drills_lock);
}
