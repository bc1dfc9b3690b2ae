/*
 * The tree's contents: whether a node exists, its attributes, its bytes and
 * its entries, all from the client's (cached) answers. The FUSE glue in ops.c
 * only translates.
 */
#ifndef ESFS_TREE_H
#define ESFS_TREE_H

#include <sys/types.h>
#include <time.h>

#include "client/client.h"
#include "client/jsonscan.h"
#include "fs/path.h"
#include "fs/state.h"

/*
 * libfuse's worker threads (-o max_threads), and how many of them may be
 * held at once by reads that block (wait): a quarter, so that stat, the
 * kernel's interrupts and everyone else always find a free worker. Past the
 * bound a blocking read fails with EAGAIN at once.
 */
#define ESFS_MAX_THREADS 32
#define ESFS_MAX_BLOCKED (ESFS_MAX_THREADS / 4)
#define ESFS_STRINGIFY_(x) #x
#define ESFS_STRINGIFY(x) ESFS_STRINGIFY_(x)

struct esfs {
	struct client *client;
	struct mount_state *state;
	time_t mounted_at;
	uid_t uid;
	gid_t gid;
	int nodelete;
	int read_only;				/* -o ro: the kernel refuses writes, esfs the reads that act */
	const struct http_signer *signer;	/* AWS SigV4, or NULL */
	/* Whether the caller gave up (Ctrl-C) on the operation under way; blocking reads poll it. */
	int (*interrupted)(void);
	/* After a flush: makes the kernel drop the attributes and pages it holds (fs/ops.c). */
	void (*forget_kernel)(struct esfs *fs);
	/* After a change the kernel did not see (a policy run's): it drops what it holds of path. */
	void (*forget_path)(struct esfs *fs, const char *path);
};

struct node_attr {
	int is_dir;
	int is_link;	/* a symbolic link: its read is the target */
	int writable;
	int write_only;	/* shown 0200: writing acts, reading gives nothing */
	size_t size;
	time_t mtime;
	int complete;	/* in a listing: every field is known, as stat would give it */
};

typedef int (*tree_entry_fn)(void *ctx, const char *name, const struct node_attr *attr);

/*
 * Each returns 0 or a negative errno. A failure that came from the cluster
 * (refused or unanswered) has err->type set; one found locally (no such
 * snapshot in the listing) leaves err->type empty.
 */
int tree_stat(struct esfs *fs, const struct node *n, struct node_attr *attr, struct esfs_error *err);
/*
 * Whether n's bytes can no longer change: a detail file of a snapshot that
 * has ended (while it runs, state, progress and status.json move on).
 */
int tree_is_final(struct esfs *fs, const struct node *n);
int tree_read(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err);
/* A symbolic link's target; EINVAL for any other node, as readlink(2) says. */
int tree_readlink(struct esfs *fs, const struct node *n, struct buf *out, struct esfs_error *err);
int tree_list(struct esfs *fs, const struct node *n, tree_entry_fn fn, void *ctx,
	      struct esfs_error *err);
/* A snapshot's mtime: its start time, or the mount's while that is not known. */
time_t tree_snapshot_mtime(const struct esfs *fs, long long start_ms);
/*
 * The fixed entries of the directory dir that readdir shows. One with a
 * stat of its own is left out when that says ENOENT; when the cluster
 * failed to say, so does the listing (err set), rather than ask twice.
 */
int tree_list_fixed(struct esfs *fs, const struct node *dir, tree_entry_fn fn, void *ctx,
		    struct esfs_error *err);

/*
 * A text the mount's state keeps for the registered repository repo (under
 * key): fallback when there is none. And keeping one: the JSON body,
 * indented; EINVAL when it is not JSON.
 */
int tree_read_kept(struct esfs *fs, const char *repo, const char *key, const char *fallback,
		   struct buf *out, struct esfs_error *err);
int tree_keep_json(struct esfs *fs, const char *key, const struct buf *body, struct esfs_error *err);
/* The same for a snapshot that exists: its text under key, or nothing. */
int tree_read_snapshot_kept(struct esfs *fs, const struct node *n, const char *key, struct buf *out,
			    struct esfs_error *err);

/* The keys under which the mount's state keeps a repository's defaults and a snapshot's last restore. */
void tree_defaults_key(const char *repo, char *key, size_t size);
void tree_restore_key(const struct node *n, char *key, size_t size);

/*
 * Files whose reading does something: _verify runs the verification (its
 * failure comes back as *close_rc, after the engine's words were read), and
 * wait blocks until the snapshot is done. Others behave as tree_read.
 */
int tree_open_read(struct esfs *fs, const struct node *n, struct buf *out, int *close_rc,
		   struct esfs_error *err);

/*
 * What mkdir of a snapshot does: the name checked, the repository registered
 * and writable, then the snapshot started with body (NULL: the repository's
 * _defaults.json). Policy runs take theirs the same way.
 */
int tree_take_snapshot(struct esfs *fs, const char *repo, const char *name, const char *body,
		       struct esfs_error *err);
/*
 * An operation that holds its FUSE worker for long (a reader of wait, a
 * policy run) takes one of ESFS_MAX_BLOCKED places first: 0, or -EAGAIN
 * with err said when none is free.
 */
int tree_block_begin(struct esfs_error *err);
void tree_block_end(void);
/* At unmount: cancels every running restore drill and waits until each has cleaned up (fs/drill.c). */
void tree_drills_stop(void);
/*
 * Waits until the snapshot n is no longer running, asking the engine each
 * second; out then holds its state line. -EINTR when the caller gives up
 * (Ctrl-C), -ETIMEDOUT past deadline (0: none).
 */
int tree_wait_snapshot(struct esfs *fs, const struct node *n, time_t deadline, struct buf *out,
		       struct esfs_error *err);

/* The changes: mkdir takes the path of what does not exist yet. */
int tree_mkdir(struct esfs *fs, const char *path, struct esfs_error *err);
int tree_rmdir(struct esfs *fs, const struct node *n, struct esfs_error *err);
int tree_unlink(struct esfs *fs, const struct node *n, struct esfs_error *err);

/* A write to a request file, kept per open: the document is acted on when it is complete. */
struct request_body {
	struct buf text;
	struct json_scanner scan;	/* where the scan of text stands: each byte is scanned once */
	int done;		/* acted on (or refused): the rest may only be white space */
	int refused;		/* the negative errno of a refusal, repeated to later writes */
	off_t next_offset;	/* where the next write must start, once one was taken */
};

/*
 * Returns size, or a negative errno when the bytes are refused or the request
 * failed. A body is the bytes written in order: the first write may start
 * anywhere (">>" starts at the end), each next one where the last ended.
 */
int tree_write(struct esfs *fs, const struct node *n, struct request_body *rb, const char *data,
	       size_t size, off_t offset, struct esfs_error *err);
/* Whether a write to a command file (NF_COMMAND) is want, give or take white space around it. */
int tree_command_is(const struct buf *command, const char *want);
/* At close: an unfinished document is refused here (EINVAL). */
int tree_write_end(struct esfs *fs, const struct node *n, struct request_body *rb,
		   struct esfs_error *err);

#endif
