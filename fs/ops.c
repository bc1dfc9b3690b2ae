#include "fs/ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/errlog.h"
#include "client/log.h"
#include "fs/tree.h"

struct esfs_ctx {
	struct esfs tree;
	struct esfs_mount *mount;
};

/* What an open file reads: rendered once at open, so every read of one open sees one version. */
struct open_file {
	struct buf content;
};

static struct esfs *current_fs(void)
{
	return &((struct esfs_ctx *)fuse_get_context()->private_data)->tree;
}

/* Failures that came from the cluster are kept for /_esfs/errors; a mistyped path is not. */
static int report(const char *op, const char *path, int rc, const struct esfs_error *err)
{
	if (rc && err->type[0])
		errlog_add(op, path, err);
	return rc;
}

static void fill_stat(const struct esfs *fs, const struct node_attr *attr, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_mode = attr->is_dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_nlink = attr->is_dir ? 2 : 1;
	st->st_size = (off_t)attr->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((attr->size + 511) / 512);
	st->st_mtime = st->st_ctime = st->st_atime = attr->mtime;
}

static int esfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct esfs *fs = current_fs();
	struct esfs_error err = { 0 };
	struct node_attr attr;
	struct node n;
	int rc;

	(void)fi;
	rc = path_parse(path, &n);
	if (rc)
		return rc;
	rc = tree_stat(fs, &n, &attr, &err);
	if (rc)
		return report("stat", path, rc, &err);
	fill_stat(fs, &attr, st);
	return 0;
}

struct dir_fill {
	const struct esfs *fs;
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_entry(void *ctx, const char *name, const struct node_attr *attr)
{
	struct dir_fill *df = ctx;
	struct stat st;

	fill_stat(df->fs, attr, &st);
	/* Only the type is promised here: sizes are the business of getattr. */
	return df->filler(df->buf, name, &st, 0, 0) ? -ENOMEM : 0;
}

static int esfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
			struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct esfs *fs = current_fs();
	struct dir_fill df = { fs, buf, filler };
	struct esfs_error err = { 0 };
	struct node n;
	int rc;

	(void)offset;
	(void)fi;
	(void)flags;
	rc = path_parse(path, &n);
	if (rc)
		return rc;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	rc = tree_list(fs, &n, fill_entry, &df, &err);
	return report("readdir", path, rc, &err);
}

static int esfs_open(const char *path, struct fuse_file_info *fi)
{
	struct esfs *fs = current_fs();
	struct esfs_error err = { 0 };
	struct open_file *of;
	struct node n;
	int rc;

	rc = path_parse(path, &n);
	if (rc)
		return rc;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	of = calloc(1, sizeof(*of));
	if (!of)
		return -ENOMEM;
	rc = tree_read(fs, &n, &of->content, &err);
	if (rc) {
		buf_free(&of->content);
		free(of);
		return report("open", path, rc, &err);
	}
	fi->fh = (uint64_t)(uintptr_t)of;
	/* Contents change under the kernel's feet (a snapshot finishing): no page cache. */
	fi->direct_io = 1;
	return 0;
}

static int esfs_read(const char *path, char *buf, size_t size, off_t offset,
		     struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
	size_t n;

	(void)path;
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

static int esfs_release(const char *path, struct fuse_file_info *fi)
{
	struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

	(void)path;
	buf_free(&of->content);
	free(of);
	return 0;
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

static void *esfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct esfs_mount *mount = fuse_get_context()->private_data;
	struct esfs_ctx *ctx = calloc(1, sizeof(*ctx));

	(void)conn;
	/*
	 * The kernel asks us every time; our own cache answers. Kernel-side
	 * caching would show a finished snapshot as running, or hide a new one.
	 */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->kernel_cache = 0;
	if (!ctx) {
		log_err("out of memory at mount");
		exit(1);
	}
	ctx->mount = mount;
	ctx->tree.mounted_at = time(NULL);
	ctx->tree.uid = getuid();
	ctx->tree.gid = getgid();
	ctx->tree.client = client_new(&mount->http, mount->cache_ttl);
	if (!ctx->tree.client) {
		log_err("cannot set up the HTTP client");
		exit(1);
	}
	return ctx;
}

static void esfs_destroy(void *private_data)
{
	struct esfs_ctx *ctx = private_data;

	client_free(ctx->tree.client);
	free(ctx);
}

const struct fuse_operations esfs_ops = {
	.getattr = esfs_getattr,
	.readdir = esfs_readdir,
	.open = esfs_open,
	.read = esfs_read,
	.release = esfs_release,
	.statfs = esfs_statfs,
	.init = esfs_init,
	.destroy = esfs_destroy,
};
