/* Snapshot start times kept between mounts (see client/starts.h). */
#include "client/starts.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/buf.h"
#include "client/log.h"

#define STARTS_HEADER "esfs snapshot starts 1 "

struct kept_start {
	const char *uuid;
	long long start_ms;
};

/*
 * A repository's name may be 255 bytes, more once encoded: the file is named
 * after a hash of it, and the header names the repository in full, so that
 * two names of one hash never take each other's times.
 */
static void file_name(const char *repo, char *out, size_t size)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a, 64 bits */

	for (const unsigned char *p = (const unsigned char *)repo; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	snprintf(out, size, "starts-%016llx", (unsigned long long)h);
}

/* A UUID the engine made (base64url); "_na_", which snapshots of old versions share, is none. */
static int is_uuid(const char *s)
{
	if (!*s || !strcmp(s, "_na_"))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

/* One "UUID start_ms" line, split in place: 0, or -EBADMSG. */
static int parse_line(char *line, struct kept_start *out)
{
	char *space = strchr(line, ' '), *end;
	long long ms;

	if (!space)
		return -EBADMSG;
	*space = '\0';
	errno = 0;
	ms = strtoll(space + 1, &end, 10);
	if (!is_uuid(line) || errno || end == space + 1 || *end || ms < 0)
		return -EBADMSG;
	out->uuid = line;
	out->start_ms = ms;
	return 0;
}

/*
 * The lines of text (split in place) into *out, sorted by UUID: 0, -ESTALE
 * for another repository's file, -EBADMSG for one esfs did not write.
 */
static int parse_file(struct buf *text, const char *repo, struct kept_start **out, size_t *count)
{
	char *line, *next, *header_end;
	size_t n = 0, cap = 0;
	struct kept_start *kept = NULL;
	int rc = 0;

	if (buf_puts(text, "") || text->len < strlen(STARTS_HEADER) ||
	    strncmp(text->data, STARTS_HEADER, strlen(STARTS_HEADER)) ||
	    !(header_end = memchr(text->data, '\n', text->len)) || text->data[text->len - 1] != '\n' ||
	    strlen(text->data) != text->len)
		return -EBADMSG;
	*header_end = '\0';
	if (strcmp(text->data + strlen(STARTS_HEADER), repo))
		return -ESTALE;
	for (line = header_end + 1; !rc && *line; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		if (n == cap) {
			struct kept_start *more = realloc(kept, (cap = cap ? 2 * cap : 256) * sizeof(*kept));

			if (!more) {
				rc = -ENOMEM;
				break;
			}
			kept = more;
		}
		rc = parse_line(line, &kept[n]);
		n += rc == 0;
	}
	if (rc) {
		free(kept);
		return rc;
	}
	*out = kept;
	*count = n;
	return 0;
}

static int by_uuid(const void *a, const void *b)
{
	return strcmp(((const struct kept_start *)a)->uuid, ((const struct kept_start *)b)->uuid);
}

static size_t apply(struct snaplist *l, struct kept_start *kept, size_t count)
{
	size_t filled = 0;

	qsort(kept, count, sizeof(*kept), by_uuid);
	for (size_t i = 0; count && i < snaplist_count(l); i++) {
		struct snap_row *row = snaplist_row(l, i);
		struct kept_start key = { .uuid = row->uuid }, *found;

		if (!snaplist_row_final(row) || atomic_load(&row->start_ms) != SNAP_START_UNKNOWN ||
		    !is_uuid(row->uuid))
			continue;
		found = bsearch(&key, kept, count, sizeof(*kept), by_uuid);
		if (found) {
			atomic_store(&row->start_ms, found->start_ms);
			filled++;
		}
	}
	return filled;
}

static void report_unusable(struct statedir *sd, const char *name, int rc)
{
	char aside[256] = "";

	if (rc == -EBADMSG && statedir_set_aside(sd, name, aside, sizeof(aside)) == 0)
		log_err("state: %s/%s is not a file of snapshot start times: set aside as %s; "
			"the times are asked of the engine again", statedir_path(sd), name, aside);
	else
		log_err("state: cannot read %s/%s (%s): the times are asked of the engine again",
			statedir_path(sd), name, strerror(-rc));
}

size_t starts_load(struct statedir *sd, const char *repo, struct snaplist *l)
{
	struct buf text = BUF_INIT;
	struct kept_start *kept = NULL;
	size_t count = 0, filled = 0;
	char name[32];
	int rc;

	file_name(repo, name, sizeof(name));
	rc = statedir_read(sd, name, &text);
	if (rc == 0)
		rc = parse_file(&text, repo, &kept, &count);
	if (rc == 0)
		filled = apply(l, kept, count);
	else if (rc != -ENOENT && rc != -ESTALE)
		report_unusable(sd, name, rc);
	free(kept);
	buf_free(&text);
	return filled;
}

int starts_save(struct statedir *sd, const char *repo, const struct snaplist *l)
{
	struct buf text = BUF_INIT;
	char name[32];
	int rc = buf_printf(&text, STARTS_HEADER "%s\n", repo);

	for (size_t i = 0; !rc && i < snaplist_count(l); i++) {
		const struct snap_row *row = snaplist_row(l, i);
		long long start = atomic_load(&row->start_ms);

		if (start >= 0 && snaplist_row_final(row) && is_uuid(row->uuid))
			rc = buf_printf(&text, "%s %lld\n", row->uuid, start);
	}
	file_name(repo, name, sizeof(name));
	if (!rc)
		rc = statedir_write(sd, name, text.data, text.len);
	buf_free(&text);
	return rc;
}
