#include "fs/ops.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/api.h"
#include "client/errlog.h"
#include "client/log.h"
#include "client/stats.h"
#include "fs/forget.h"
#include "fs/lookup.h"
#include "fs/pagecache.h"
#include "fs/notify.h"
#include "fs/service.h"
#include "fs/tree.h"

struct open_file;

struct esfs_ctx {
	struct esfs tree;
	struct esfs_mount *mount;
	/*
	 * Every open file. At unmount the kernel may drop a RELEASE still
	 * waiting in its background queue; what it leaves is freed here.
	 */
	pthread_mutex_t open_lock;
	struct open_file *open_files;
	struct pagecache *pagecache;	/* what the kernel holds of each path */
	struct fuse *fuse;		/* for invalidations outside a FUSE request (SIGHUP) */
	struct notifier *notifier;	/* systemd's notifications, when asked for */
	struct forgetter *forgetter;	/* drops the kernel's views of gone snapshots */
};

/*
 * An open file. Read: its bytes, rendered once at open, so every read of one
 * open sees one version. Written: the request body gathered so far.
 */
struct open_file {
	pthread_mutex_t lock;	/* writes to one open may come on several threads */
	struct node node;
	struct buf content;
	struct request_body body;
	int writing;
	int close_rc;		/* a failure to report at close, after the answer was read */
	pid_t opener;		/* the thread that opened it: its close ends the body */
	struct open_file *prev, *next;	/* in esfs_ctx.open_files */
};

static struct esfs_ctx *current_ctx(void)
{
	return fuse_get_context()->private_data;
}

static struct esfs *current_fs(void)
{
	return &current_ctx()->tree;
}

/*
 * libfuse gives no path (NULL) to an operation on a file that is still open
 * but whose name is gone: a snapshot deleted while a reader held one of its
 * files (hard_remove, so that rmdir is not refused for open files). What is
 * logged of it says so.
 */
static const char *shown(const char *path)
{
	return path ? path : "(removed while open)";
}

/* Failures that came from the cluster are kept for /_esfs/errors; a mistyped path is not. */
static int report(const char *op, const char *path, int rc, const struct esfs_error *err)
{
	if (rc && err->type[0])
		errlog_add(op, shown(path), err);
	return rc;
}

/*
 * The node a path names. A name that is not UTF-8 is bad input, not a
 * missing file: EINVAL, in /_esfs/errors, for stat, mkdir and rmdir alike
 * (the kernel looks a name up before it makes or removes it).
 */
static int parse(const char *op, const char *path, struct node *n)
{
	struct esfs_error err = { 0 };
	int rc = path ? path_parse(path, n) : -ENOENT;	/* removed while open */

	if (rc == -EINVAL)
		report(op, path, lookup_refuse(&err, EINVAL, "a name in the path is not valid UTF-8: "
					       "the engine would decode it into another name"), &err);
	return rc;
}

static void fill_stat(const struct esfs *fs, const struct node_attr *attr, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	if (attr->is_dir)
		st->st_mode = S_IFDIR | (attr->writable ? 0755 : 0555);
	else if (attr->is_link)
		st->st_mode = S_IFLNK | 0777;
	else
		st->st_mode = S_IFREG | (attr->write_only ? 0200 : attr->writable ? 0644 : 0444);
	st->st_nlink = attr->is_dir ? 2 : 1;
	st->st_size = (off_t)attr->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((attr->size + 511) / 512);
	st->st_mtime = st->st_atime = attr->mtime;
	/*
	 * What ctime tells (mode, owner) never changes while mounted; a file's
	 * mtime is when it was asked for. Kept apart, so that tar does not take
	 * a newer stat of a file it read for "file changed as we read it".
	 */
	st->st_ctime = fs->mounted_at;
}

/*
 * fstat of a file whose name is gone (see shown()): the open file is all
 * there is, as for an unlinked file anywhere, and what it holds is what its
 * reads return.
 */
static void stat_removed_while_open(const struct esfs *fs, const struct open_file *of, struct stat *st)
{
	struct node_attr attr = { .size = of->content.len, .mtime = fs->mounted_at,
				  .writable = of->writing };

	fill_stat(fs, &attr, st);
	st->st_nlink = 0;
}

static int esfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct esfs *fs = current_fs();
	struct esfs_error err = { 0 };
	struct node_attr attr;
	struct node n;
	int rc;

	STATS_INC(fuse_getattr);
	if (!path && fi) {
		stat_removed_while_open(fs, (const struct open_file *)(uintptr_t)fi->fh, st);
		return 0;
	}
	rc = parse("stat", path, &n);
	if (rc)
		return rc;
	rc = tree_stat(fs, &n, &attr, &err);
	if (rc)
		return report("stat", path, rc, &err);
	fill_stat(fs, &attr, st);
	pagecache_note(current_ctx()->pagecache, path);
	return 0;
}

/*
 * A directory's entries as readdir found them at offset 0. The kernel reads
 * a big directory in chunks, each from the offset the last one ended at;
 * the chunks come from this copy, so that one listing is one version of it
 * and a chunk is not a new listing.
 */
struct dir_entry {
	char *name;
	struct node_attr attr;
};

struct dir_listing {
	size_t count, cap;
	struct dir_entry *entries;
};

static void dir_listing_clear(struct dir_listing *dl)
{
	for (size_t i = 0; i < dl->count; i++)
		free(dl->entries[i].name);
	dl->count = 0;
}

static int collect_entry(void *ctx, const char *name, const struct node_attr *attr)
{
	struct dir_listing *dl = ctx;
	struct dir_entry *e;

	if (dl->count == dl->cap) {
		size_t cap = dl->cap ? 2 * dl->cap : 64;
		struct dir_entry *grown = realloc(dl->entries, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		dl->entries = grown;
		dl->cap = cap;
	}
	e = &dl->entries[dl->count];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->attr = *attr;
	dl->count++;
	return 0;
}

static int esfs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct dir_listing *dl = calloc(1, sizeof(*dl));

	(void)path;
	if (!dl)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)dl;
	return 0;
}

static int esfs_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct dir_listing *dl = (struct dir_listing *)(uintptr_t)fi->fh;

	(void)path;
	dir_listing_clear(dl);
	free(dl->entries);
	free(dl);
	return 0;
}

static int list_into(const char *path, struct dir_listing *dl)
{
	static const struct node_attr dot = { .is_dir = 1 };
	struct esfs_error err = { 0 };
	struct node n;
	int rc = parse("readdir", path, &n);

	dir_listing_clear(dl);
	if (rc)
		return rc;
	rc = collect_entry(dl, ".", &dot) || collect_entry(dl, "..", &dot) ? -ENOMEM : 0;
	if (!rc)
		rc = tree_list(current_fs(), &n, collect_entry, dl, &err);
	return report("readdir", path, rc, &err);
}

/* An entry whose attributes went to the kernel with the listing: a flush must reach it too. */
static void note_entry(const char *dir, const char *name, struct buf *path)
{
	buf_reset(path);
	if (strcmp(name, ".") && strcmp(name, "..") &&
	    buf_printf(path, "%s/%s", strcmp(dir, "/") ? dir : "", name) == 0)
		pagecache_note(current_ctx()->pagecache, path->data);
}

/*
 * Entries whose attributes are all known (a snapshot whose start time esfs
 * has) go to the kernel with them when it takes them (READDIRPLUS), so that
 * "ls -l" needs no lookup each. For the others only the type is promised:
 * the rest is getattr's business.
 */
static int esfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
			struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct dir_listing *dl = (struct dir_listing *)(uintptr_t)fi->fh;
	const struct esfs *fs = current_fs();
	struct buf entry_path = BUF_INIT;	/* one for the chunk: 10,000 entries, one malloc */
	int rc = 0;

	if (offset == 0)
		rc = list_into(path, dl);
	for (size_t i = (size_t)offset; !rc && i < dl->count; i++) {
		const struct dir_entry *e = &dl->entries[i];
		int plus = (flags & FUSE_READDIR_PLUS) && e->attr.complete;
		struct stat st;

		fill_stat(fs, &e->attr, &st);
		if (filler(buf, e->name, &st, (off_t)i + 1, plus ? FUSE_FILL_DIR_PLUS : 0))
			break;	/* the chunk is full: the next starts at i */
		if (plus)
			note_entry(path, e->name, &entry_path);
	}
	buf_free(&entry_path);
	return rc;
}

static void open_file_track(struct esfs_ctx *ctx, struct open_file *of)
{
	pthread_mutex_lock(&ctx->open_lock);
	of->next = ctx->open_files;
	if (of->next)
		of->next->prev = of;
	ctx->open_files = of;
	pthread_mutex_unlock(&ctx->open_lock);
}

static void open_file_untrack(struct esfs_ctx *ctx, struct open_file *of)
{
	pthread_mutex_lock(&ctx->open_lock);
	if (of->prev)
		of->prev->next = of->next;
	else
		ctx->open_files = of->next;
	if (of->next)
		of->next->prev = of->prev;
	pthread_mutex_unlock(&ctx->open_lock);
}

static void open_file_free(struct open_file *of)
{
	pthread_mutex_destroy(&of->lock);
	buf_free(&of->content);
	buf_free(&of->body.text);
	free(of);
}

/*
 * Most bytes change under the kernel's feet (a snapshot finishing): read
 * straight from the open, no page cache. Those of an ended snapshot do not,
 * and are kept in the page cache from one open to the next; when they differ
 * from what the kernel holds for that path (the name taken again), its pages
 * and attributes are dropped first, so that its size is the new one. A read
 * that has nothing to report at close needs no FLUSH.
 */
static void set_caching(struct esfs *fs, const char *path, const struct open_file *of,
			struct fuse_file_info *fi)
{
	int same;

	fi->direct_io = 1;
	fi->noflush = !of->writing && !of->close_rc;
	if (of->writing || !tree_is_final(fs, &of->node))
		return;
	same = pagecache_serve(current_ctx()->pagecache, path, of->content.data, of->content.len);
	if (same < 0)
		return;
	if (same)
		STATS_INC(page_cache_kept);
	else
		fuse_invalidate_path(fuse_get_context()->fuse, path);
	fi->direct_io = 0;
	fi->keep_cache = same;
}

static int esfs_open(const char *path, struct fuse_file_info *fi)
{
	struct esfs *fs = current_fs();
	struct esfs_error err = { 0 };
	struct node_attr attr;
	struct open_file *of;
	int rc;

	STATS_INC(fuse_open);
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	pthread_mutex_init(&of->lock, NULL);
	of->opener = fuse_get_context()->pid;
	rc = parse("open", path, &of->node);
	of->writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	if (!rc && of->writing && !node_is_writable(of->node.kind))
		rc = -EACCES;
	/* A body is only read back through a new open; one open does one thing. */
	if (!rc && of->writing && (fi->flags & O_ACCMODE) == O_RDWR)
		rc = -EINVAL;
	if (!rc && of->writing)
		rc = tree_stat(fs, &of->node, &attr, &err);
	else if (!rc)
		rc = tree_open_read(fs, &of->node, &of->content, &of->close_rc, &err);
	if (rc) {
		open_file_free(of);
		return report("open", path, rc, &err);
	}
	/* Logged now, returned at close, once the engine's answer was read. */
	report("open", path, of->close_rc, &err);
	open_file_track(current_ctx(), of);
	fi->fh = (uint64_t)(uintptr_t)of;
	set_caching(fs, path, of, fi);
	return 0;
}

static int esfs_read(const char *path, char *buf, size_t size, off_t offset,
		     struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	size_t n;

	(void)path;
	STATS_INC(fuse_read);
	if (offset < 0)
		return -EINVAL;
	if ((size_t)offset >= of->content.len)
		return 0;
	n = of->content.len - (size_t)offset;
	if (n > size)
		n = size;
	memcpy(buf, of->content.data + offset, n);
	return (int)n;
}

static int esfs_write(const char *path, const char *buf, size_t size, off_t offset,
		      struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct esfs_error err = { 0 };
	int rc;

	pthread_mutex_lock(&of->lock);
	rc = tree_write(current_fs(), &of->node, &of->body, buf, size, offset, &err);
	pthread_mutex_unlock(&of->lock);
	return rc < 0 ? report("write", path, rc, &err) : rc;
}

/*
 * Every close(), in any process that holds the file: a failure held back
 * until the answer was read, or a body left unfinished. Only the opener's
 * close ends a body: a child that inherited the descriptor and exits (as
 * /bin/echo in "{ printf ...; /bin/echo ...; printf ...; } > restore.json")
 * closes it too, in the middle of the body.
 */
static int esfs_flush(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct esfs_error err = { 0 };
	int rc;

	pthread_mutex_lock(&of->lock);
	rc = of->close_rc;
	of->close_rc = 0;
	if (of->writing && fuse_get_context()->pid == of->opener)
		rc = report("close", path, tree_write_end(current_fs(), &of->node, &of->body, &err), &err);
	pthread_mutex_unlock(&of->lock);
	return rc;
}

/* The last close: a body nobody ended (the opener's thread never closed it) is said in the log. */
static int esfs_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	struct esfs_error err = { 0 };

	if (of->writing)
		report("close", path, tree_write_end(current_fs(), &of->node, &of->body, &err), &err);
	open_file_untrack(current_ctx(), of);
	open_file_free(of);
	return 0;
}

static int esfs_mkdir(const char *path, mode_t mode)
{
	struct esfs_error err = { 0 };

	(void)mode;
	return report("mkdir", path, tree_mkdir(current_fs(), path, &err), &err);
}

static int esfs_rmdir(const char *path)
{
	struct esfs_error err = { 0 };
	struct node n;
	int rc = parse("rmdir", path, &n);

	return rc ? rc : report("rmdir", path, tree_rmdir(current_fs(), &n, &err), &err);
}

static int esfs_unlink(const char *path)
{
	struct esfs_error err = { 0 };
	struct node n;
	int rc = parse("unlink", path, &n);

	return rc ? rc : report("unlink", path, tree_unlink(current_fs(), &n, &err), &err);
}

/* A link's target is its read: _latest and the entries of /_indices/<index>. */
static int esfs_readlink(const char *path, char *target, size_t size)
{
	struct esfs_error err = { 0 };
	struct buf text = BUF_INIT;
	struct node n;
	int rc = parse("readlink", path, &n);

	if (!rc)
		rc = report("readlink", path, tree_readlink(current_fs(), &n, &text, &err), &err);
	if (!rc && size) {
		size_t len = text.len < size - 1 ? text.len : size - 1;

		memcpy(target, text.data, len);
		target[len] = '\0';
	}
	buf_free(&text);
	return rc;
}

/* "> file" truncates before it writes: a body starts empty at each open anyway. */
static int esfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct node n;
	int rc = parse("truncate", path, &n);

	(void)size;
	(void)fi;
	if (rc)
		return rc;
	return node_is_writable(n.kind) ? 0 : -EACCES;
}

/* touch works, and changes nothing: the times come from the cluster. */
static int esfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct stat st;

	(void)tv;
	return esfs_getattr(path, &st, fi);
}

static int esfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int esfs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EPERM;
}

static int esfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path;
	(void)mode;
	(void)fi;
	return -EPERM;
}

static int esfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path;
	(void)uid;
	(void)gid;
	(void)fi;
	return -EPERM;
}

/*
 * A file here is always ready, as a regular file on a local disk is: its
 * bytes are there once open() returned. Without this, libfuse 3.14 leaks the
 * poll handle it made for the kernel's POLL request (restic sends one).
 */
static int esfs_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph,
		     unsigned *reventsp)
{
	(void)path;
	(void)fi;
	if (ph)
		fuse_pollhandle_destroy(ph);
	*reventsp |= POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	return 0;
}

/* The mount whose tree fs is. */
static struct esfs_ctx *ctx_of(struct esfs *fs)
{
	return (struct esfs_ctx *)(void *)((char *)fs - offsetof(struct esfs_ctx, tree));
}

/*
 * After a flush: every path the kernel may hold attributes or pages of is
 * invalidated, so that its next stat or read reaches esfs, and through it
 * the cluster. Names stay in the kernel's dentry cache until
 * entry_timeout, but their next stat asks again: one the cluster no longer
 * has is ENOENT. The flush file itself is skipped: its write is under way.
 */
static void forget_kernel_caches(struct esfs *fs)
{
	struct esfs_ctx *ctx = ctx_of(fs);
	size_t count = 0;
	char **paths = pagecache_take_all(ctx->pagecache, &count);

	for (size_t i = 0; i < count; i++) {
		if (ctx->fuse && strcmp(paths[i], "/_esfs/flush"))
			fuse_invalidate_path(ctx->fuse, paths[i]);
		free(paths[i]);
	}
	free(paths);
}

static void forget_kernel_path(struct esfs *fs, const char *path)
{
	struct esfs_ctx *ctx = ctx_of(fs);

	if (ctx->fuse)
		fuse_invalidate_path(ctx->fuse, path);
}

static int was_interrupted(void)
{
	return fuse_interrupted();
}

static int esfs_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = NAME_MAX_BYTES;
	return 0;
}

/* The cluster's folder of the state directory; failures are logged, and the state stays in memory. */
static int open_state_dir(const struct esfs_mount *mount, const char *uuid, struct statedir **out)
{
	int rc = statedir_open(mount->state_root, uuid, out);

	if (rc)
		log_err("state: cannot use %s/%s (%s): this mount keeps its state in memory only",
			mount->state_root, uuid, strerror(-rc));
	return rc;
}

/* The client keeps the snapshots' start times in the same folder (client/starts.h), with a handle of its own. */
static void share_state_dir(struct esfs_ctx *ctx, const char *uuid)
{
	struct statedir *dir;

	if (statedir_open(ctx->mount->state_root, uuid, &dir) == 0)
		client_keep_starts_in(ctx->tree.client, dir);
}

/*
 * Where the state goes when the cluster did not answer at mount time: asked
 * again (at most once a second) while no node answers or no master is
 * elected; a cluster that refuses to name its UUID is not asked again.
 */
static int locate_state(void *ctx_, struct statedir **out)
{
	struct esfs_ctx *ctx = ctx_;
	struct esfs_error err = { 0 };
	char uuid[sizeof(ctx->mount->cluster_uuid)];
	int rc = api_cluster_uuid(ctx->tree.client, uuid, sizeof(uuid), &err);

	if (rc && (rc == -ENODATA || !err.status || err.status >= 500))
		return -EAGAIN;
	if (rc) {
		log_err("state: the cluster does not name its UUID (%s: %s): this mount keeps its "
			"state in memory only", err.type, err.reason);
		return rc;
	}
	rc = open_state_dir(ctx->mount, uuid, out);
	if (rc == 0)
		share_state_dir(ctx, uuid);
	return rc;
}

static void keep_state(struct esfs_ctx *ctx)
{
	const struct esfs_mount *mount = ctx->mount;
	struct statedir *dir;

	if (!mount->state_root)
		return;
	if (!mount->cluster_uuid[0])
		state_locate_with(ctx->tree.state, locate_state, ctx);
	else if (open_state_dir(mount, mount->cluster_uuid, &dir) == 0) {
		state_attach(ctx->tree.state, dir);
		share_state_dir(ctx, mount->cluster_uuid);
	}
}

/*
 * The tree and its client are made before fuse_main, so that a failure is
 * esfs's exit status rather than a mount that answers nothing. Nothing here
 * starts a thread, so the fork that puts esfs in the background is safe.
 */
int esfs_mount_prepare(struct esfs_mount *mount)
{
	struct esfs_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->mount = mount;
	pthread_mutex_init(&ctx->open_lock, NULL);
	ctx->tree.mounted_at = time(NULL);
	ctx->tree.uid = getuid();
	ctx->tree.gid = getgid();
	ctx->tree.nodelete = mount->nodelete;
	ctx->tree.read_only = mount->read_only;
	ctx->tree.signer = mount->http.signer;
	ctx->tree.interrupted = was_interrupted;
	ctx->tree.forget_kernel = forget_kernel_caches;
	ctx->tree.forget_path = forget_kernel_path;
	/* Ctrl-C abandons a request under way at once, not after its timeout. */
	mount->http.interrupted = was_interrupted;
	ctx->tree.state = state_new();
	ctx->tree.client = client_new(&mount->http, mount->cache_ttl);
	/* Named at start already: the first change need not ask again (client/api.c, repository_use). */
	if (ctx->tree.client && mount->engine.kind != ENGINE_UNKNOWN)
		client_engine_remember(ctx->tree.client, &mount->engine);
	/* Longer than the kernel keeps attributes (attr_timeout is cache_ttl unless given). */
	ctx->pagecache = pagecache_new(mount->cache_ttl * 2 > 60 ? mount->cache_ttl * 2 : 60);
	mount->ctx = ctx;
	if (!ctx->tree.client || !ctx->tree.state || !ctx->pagecache) {
		esfs_mount_release(mount);
		return -ENOMEM;
	}
	keep_state(ctx);
	return 0;
}

void esfs_mount_release(struct esfs_mount *mount)
{
	struct esfs_ctx *ctx = mount->ctx;

	if (!ctx)
		return;
	tree_drills_stop();	/* their threads use the client and the state freed below */
	while (ctx->open_files) {
		struct open_file *of = ctx->open_files;

		ctx->open_files = of->next;
		open_file_free(of);
	}
	pthread_mutex_destroy(&ctx->open_lock);
	client_free(ctx->tree.client);
	state_free(ctx->tree.state);
	pagecache_free(ctx->pagecache);
	free(ctx);
	mount->ctx = NULL;
}

static void *esfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct esfs_mount *mount = fuse_get_context()->private_data;

	/*
	 * Attributes with every chunk of a listing, not only the first: "ls -l"
	 * reads all the names before it stats one, so the kernel's adaptive
	 * choice would leave the rest to a lookup each.
	 */
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/*
	 * The kernel keeps names and attributes for entry_timeout and
	 * attr_timeout (main.c: cache_ttl unless given), as long as esfs keeps
	 * the answers they come from; a name that is not there is asked again
	 * every time, so that a new snapshot shows at once. Pages: set_caching.
	 */
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	/*
	 * rm acts at once: libfuse would otherwise rename a file the kernel has
	 * not released yet (its RELEASE comes asynchronously after close) to
	 * .fuse_hidden*, which esfs refuses, and rm of a file just read would
	 * fail with EPERM now and then.
	 */
	cfg->hard_remove = 1;
	mount->ctx->fuse = fuse_get_context()->fuse;
	notify_watch_stop_signals();
	/* Here, after the fork into the background: a thread started before it would not be in the daemon. */
	if (service_start(&mount->ctx->tree))
		log_warn("cannot start the thread that handles SIGHUP: it will do nothing");
	mount->ctx->forgetter = forget_start(mount->ctx->fuse, mount->ctx->tree.client);
	if (!mount->ctx->forgetter)
		log_warn("cannot start the thread that drops gone snapshots from the kernel's /_indices");
	if (mount->notify_socket) {
		mount->ctx->notifier = notify_start(mount->notify_socket, mount->mountpoint,
						    mount->ctx->tree.client);
		if (!mount->ctx->notifier)
			log_err("cannot start the thread that tells systemd the mount is ready");
	}
	return mount->ctx;
}

/* At unmount, while the tree is still whole: both threads use it. */
static void esfs_destroy(void *private_data)
{
	struct esfs_ctx *ctx = private_data;

	notify_stop(ctx->notifier);
	ctx->notifier = NULL;
	forget_stop(ctx->forgetter);
	ctx->forgetter = NULL;
	service_stop();
}

const struct fuse_operations esfs_ops = {
	.getattr = esfs_getattr,
	.opendir = esfs_opendir,
	.readdir = esfs_readdir,
	.releasedir = esfs_releasedir,
	.readlink = esfs_readlink,
	.open = esfs_open,
	.read = esfs_read,
	.write = esfs_write,
	.flush = esfs_flush,
	.release = esfs_release,
	.mkdir = esfs_mkdir,
	.rmdir = esfs_rmdir,
	.unlink = esfs_unlink,
	.truncate = esfs_truncate,
	.utimens = esfs_utimens,
	.create = esfs_create,
	.rename = esfs_rename,
	.chmod = esfs_chmod,
	.chown = esfs_chown,
	.statfs = esfs_statfs,
	.poll = esfs_poll,
	.init = esfs_init,
	.destroy = esfs_destroy,
};
