#include "fs/render.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int put_indent(struct buf *out, int depth)
{
	int rc = 0;

	for (int i = 0; i < depth && !rc; i++)
		rc = buf_puts(out, "  ");
	return rc;
}

/* Scalars as cJSON writes them, compactly. */
static int put_scalar(struct buf *out, const cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	int rc;

	if (!text)
		return -ENOMEM;
	rc = buf_puts(out, text);
	free(text);
	return rc;
}

static int put_key(struct buf *out, const char *key)
{
	cJSON *s = cJSON_CreateString(key);
	int rc = s ? put_scalar(out, s) : -ENOMEM;

	cJSON_Delete(s);
	return rc ? rc : buf_puts(out, ": ");
}

static int put_value(struct buf *out, const cJSON *item, int depth);

static int put_container(struct buf *out, const cJSON *item, int depth)
{
	int is_object = cJSON_IsObject(item);
	const cJSON *child;
	int rc;

	if (!item->child)
		return buf_puts(out, is_object ? "{}" : "[]");
	rc = buf_puts(out, is_object ? "{\n" : "[\n");
	for (child = item->child; child && !rc; child = child->next) {
		rc = put_indent(out, depth + 1);
		if (!rc && is_object)
			rc = put_key(out, child->string ? child->string : "");
		if (!rc)
			rc = put_value(out, child, depth + 1);
		if (!rc)
			rc = buf_puts(out, child->next ? ",\n" : "\n");
	}
	if (!rc)
		rc = put_indent(out, depth);
	return rc ? rc : buf_puts(out, is_object ? "}" : "]");
}

static int put_value(struct buf *out, const cJSON *item, int depth)
{
	if (cJSON_IsObject(item) || cJSON_IsArray(item))
		return put_container(out, item, depth);
	return put_scalar(out, item);
}

/* Two-space indentation, as the engines' own ?pretty and jq write it. */
int render_json(struct buf *out, const cJSON *json)
{
	int rc;

	if (!json)
		return -ENODATA;
	rc = put_value(out, json, 0);
	return rc ? rc : buf_puts(out, "\n");
}

/* Whole names compared without case: a name of any length is looked at to its end. */
static int is_secret_setting(const char *name)
{
	static const char *const parts[] = { "secret", "password", "token", "private_key",
					     "account_key", "credentials" };

	if (!strcasecmp(name, "key") || !strcasecmp(name, "sas_token"))
		return 1;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strcasestr(name, parts[i]))
			return 1;
	return 0;
}

static void redact_item(cJSON *settings, cJSON *item)
{
	cJSON *redacted = cJSON_CreateString("<redacted>");

	if (redacted)
		redacted->string = strdup(item->string);	/* freed by cJSON_Delete: esfs sets no hooks */
	/* Out of memory: the item goes rather than show the secret. */
	if (!redacted || !redacted->string || !cJSON_ReplaceItemViaPointer(settings, item, redacted)) {
		cJSON_Delete(redacted);
		cJSON_Delete(cJSON_DetachItemViaPointer(settings, item));
	}
}

/* Settings come flat ("s3.client.secret_key") or nested; both are walked. */
static void redact_secrets(cJSON *settings)
{
	cJSON *item, *next;

	/* Not cJSON_ArrayForEach: a replaced item is freed before the loop would step on. */
	for (item = settings ? settings->child : NULL; item; item = next) {
		next = item->next;
		if (cJSON_IsObject(item))
			redact_secrets(item);
		else if (item->string && is_secret_setting(item->string))
			/* This very item: by name, a name given twice would redact the first twice. */
			redact_item(settings, item);
	}
}

int render_repository(struct buf *out, const cJSON *entry)
{
	cJSON *copy = cJSON_Duplicate(entry, 1);
	int rc;

	if (!copy)
		return -ENOMEM;
	redact_secrets(cJSON_GetObjectItemCaseSensitive(copy, "settings"));
	rc = render_json(out, copy);
	cJSON_Delete(copy);
	return rc;
}

int render_line(struct buf *out, const cJSON *obj, const char *member)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, member));

	if (!s)
		return -ENODATA;
	return buf_printf(out, "%s\n", s);
}

/* obj.a.b as a number; 0 when absent, as the engines leave out counters they have not started. */
static double number_at(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, a), b);

	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static int state_is_final(const char *state)
{
	return state && (!strcmp(state, "SUCCESS") || !strcmp(state, "PARTIAL") ||
			 !strcmp(state, "FAILED"));
}

/*
 * stats.total is what the snapshot holds; stats.processed is what the engine
 * has written so far, present only while it works. Once the snapshot is done
 * the engine drops "processed", and every byte counts as done.
 */
static void snapshot_bytes(const cJSON *status, double *done, double *total)
{
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(status, "stats");
	const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "state"));

	*total = number_at(stats, "total", "size_in_bytes");
	*done = state_is_final(state) ? *total : number_at(stats, "processed", "size_in_bytes");
}

int render_progress(struct buf *out, const cJSON *status)
{
	double shards_done = number_at(status, "shards_stats", "done");
	double shards_total = number_at(status, "shards_stats", "total");
	double bytes_done, bytes_total, percent;

	snapshot_bytes(status, &bytes_done, &bytes_total);
	if (bytes_total > 0)
		percent = 100.0 * bytes_done / bytes_total;
	else
		percent = shards_total > 0 ? 100.0 * shards_done / shards_total : 100.0;
	return buf_printf(out, "%.1f%% shards %.0f/%.0f bytes %.0f/%.0f\n", percent, shards_done,
			  shards_total, bytes_done, bytes_total);
}

int render_size(struct buf *out, const cJSON *status)
{
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(status, "stats");

	return buf_printf(out, "total_bytes %.0f\ntotal_files %.0f\nincremental_bytes %.0f\n"
			  "incremental_files %.0f\n",
			  number_at(stats, "total", "size_in_bytes"), number_at(stats, "total", "file_count"),
			  number_at(stats, "incremental", "size_in_bytes"),
			  number_at(stats, "incremental", "file_count"));
}

/* A reason can span lines (stack traces), and any field may hold a line break: one failure stays one line. */
static void fold_lines(struct buf *out, size_t start)
{
	for (size_t i = start; i < out->len; i++)
		if (out->data[i] == '\n' || out->data[i] == '\r')
			out->data[i] = ' ';
}

static int render_failure(struct buf *out, const cJSON *f)
{
	const cJSON *shard = cJSON_GetObjectItemCaseSensitive(f, "shard_id");
	const char *index = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "index"));
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "status"));
	const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "reason"));
	size_t start = out->len;
	int rc;

	rc = buf_printf(out, "%s %d %s %s", index ? index : "-", cJSON_IsNumber(shard) ? shard->valueint : -1,
			status ? status : "-", reason ? reason : "");
	if (!rc)
		fold_lines(out, start);
	return rc ? rc : buf_puts(out, "\n");
}

int render_failures(struct buf *out, const cJSON *snapshot)
{
	const cJSON *f;
	int rc = 0;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(snapshot, "failures")) {
		if (!rc)
			rc = render_failure(out, f);
	}
	return rc;
}

static const char *const recovery_stages[] = {
	"init", "index", "verify_index", "translog", "finalize", "done",
};

static int stage_rank(const char *stage)
{
	for (size_t i = 0; i < sizeof(recovery_stages) / sizeof(recovery_stages[0]); i++)
		if (!strcmp(stage, recovery_stages[i]))
			return (int)i;
	return 0;
}

/* _cat answers numbers as strings. */
static long long cat_number(const cJSON *row, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, name));

	return s ? strtoll(s, NULL, 10) : 0;
}

static const char *cat_text(const cJSON *row, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, name));

	return s ? s : "";
}

struct recovery_sum {
	long long files_done, files_total, bytes_done, bytes_total;
	int shards, shards_done, least_stage;
	const cJSON *first;
};

/* The engine's numbers are summed without overflow: strtoll gives LLONG_MAX for "99999999999999999999". */
static void add_count(long long *sum, long long n)
{
	if (__builtin_add_overflow(*sum, n, sum))
		*sum = n < 0 ? LLONG_MIN : LLONG_MAX;
}

static void add_recovery_row(struct recovery_sum *sum, const cJSON *row)
{
	int rank = stage_rank(cat_text(row, "stage"));

	if (!sum->first || rank < sum->least_stage)
		sum->least_stage = rank;
	if (!sum->first)
		sum->first = row;
	add_count(&sum->files_done, cat_number(row, "files_recovered"));
	add_count(&sum->files_total, cat_number(row, "files_total"));
	add_count(&sum->bytes_done, cat_number(row, "bytes_recovered"));
	add_count(&sum->bytes_total, cat_number(row, "bytes_total"));
	sum->shards++;
	sum->shards_done += !strcmp(cat_text(row, "stage"), "done");
}

static double percent(long long done, long long total, int finished)
{
	if (total > 0)
		return 100.0 * (double)done / (double)total;
	return finished ? 100.0 : 0.0;
}

int render_recovery(struct buf *out, const cJSON *rows, const char *index)
{
	struct recovery_sum sum = { 0 };
	char stage[32];
	const cJSON *row;
	int finished;

	cJSON_ArrayForEach(row, rows) {
		if (!strcmp(cat_text(row, "type"), "snapshot") && !strcmp(cat_text(row, "index"), index))
			add_recovery_row(&sum, row);
	}
	if (!sum.first)
		return -ENOENT;
	snprintf(stage, sizeof(stage), "%s", recovery_stages[sum.least_stage]);
	for (char *p = stage; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	finished = sum.shards_done == sum.shards;
	return buf_printf(out, "%s files %.1f%% %lld/%lld bytes %.1f%% %lld/%lld shards %d/%d snapshot %s/%s\n",
			  stage, percent(sum.files_done, sum.files_total, finished), sum.files_done,
			  sum.files_total, percent(sum.bytes_done, sum.bytes_total, finished),
			  sum.bytes_done, sum.bytes_total, sum.shards_done, sum.shards,
			  cat_text(sum.first, "repository"), cat_text(sum.first, "snapshot"));
}
