/*
 * zfuse/zfuse.h — the public API of libzfuse: import OpenZFS pool images
 * from userspace and read their datasets as POSIX file trees.
 *
 * Handles:
 *   zfuse_pool_t  an imported pool (its devices, its chosen uberblock, MOS).
 *   zfuse_fs_t    one open ZPL object set: a filesystem dataset or snapshot.
 * Objects of a filesystem are named by their object number, which is also
 * their inode number (st_ino) as OpenZFS reports it.
 *
 * Errors: calls return 0 (or a non-negative count) on success and a negative
 * ZFUSE_E* code on failure; see zfuse/errors.h. Each call below lists the
 * codes it returns besides ZFUSE_E_IO / ZFUSE_E_CHECKSUM / ZFUSE_E_CORRUPT /
 * ZFUSE_E_DECOMPRESS / ZFUSE_E_NOMEM, which any call that reads the pool
 * may return when the image is damaged.
 *
 * Threads: a pool and its open filesystems may be used from many threads at
 * once; all read calls are thread-safe.
 */
#ifndef ZFUSE_ZFUSE_H
#define ZFUSE_ZFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "zfuse/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZFUSE_VERSION_STRING "0.1.0"

typedef struct zfuse_pool zfuse_pool_t;
typedef struct zfuse_fs zfuse_fs_t;

/* Log levels of messages the library emits (import decisions, damage). */
enum zfuse_log_level { ZFUSE_LOG_ERROR = 0, ZFUSE_LOG_WARN, ZFUSE_LOG_INFO, ZFUSE_LOG_DEBUG };
typedef void (*zfuse_log_fn)(void *arg, int level, const char *msg);

struct zfuse_import_opts {
	/* Device image files, whole-disk images with a GPT partition table,
	 * or directories (every regular file in them is probed). */
	const char *const *paths;
	size_t npaths;
	/* Pool to import when the devices hold several; NULL: the only one. */
	const char *pool_name;
	/* Bytes of decompressed blocks kept cached; 0: default (256 MiB). */
	uint64_t cache_size;
	/* Import as of this txg (an older uberblock); 0: newest valid. */
	uint64_t txg;
	/* Fall back to older uberblocks when the newest one's tree is damaged. */
	bool rewind;
	/* Receives messages; NULL: messages go to stderr at WARN and above. */
	zfuse_log_fn log;
	void *log_arg;
	int log_level;
};

/*
 * Import a pool read-only from opts->paths. Chooses the active uberblock as
 * OpenZFS does, checks the vdev tree (missing devices, guid sum) and the
 * features needed for reading.
 * Errors: ZFUSE_E_NOTFOUND_POOL (no label on any device, or no pool of that
 * name), ZFUSE_E_MISSING_DEV (more devices missing than redundancy allows),
 * ZFUSE_E_UNSUPPORTED (big-endian pool, or a read-incompatible feature
 * zfuse does not implement; the log names it), ZFUSE_E_INVAL.
 */
int zfuse_pool_import(const struct zfuse_import_opts *opts, zfuse_pool_t **out);

/* Close a pool. All zfuse_fs_t of it must be closed before. */
void zfuse_pool_close(zfuse_pool_t *pool);

const char *zfuse_pool_name(const zfuse_pool_t *pool);
uint64_t zfuse_pool_guid(const zfuse_pool_t *pool);
/* txg of the uberblock the pool was imported at. */
uint64_t zfuse_pool_txg(const zfuse_pool_t *pool);

enum zfuse_dataset_type {
	ZFUSE_DS_FILESYSTEM = 1,
	ZFUSE_DS_VOLUME,
	ZFUSE_DS_SNAPSHOT,
	ZFUSE_DS_BOOKMARK,
};

struct zfuse_dataset_info {
	const char *name;	/* "pool/a/b", "pool/a@snap", "pool/a#mark" */
	enum zfuse_dataset_type type;
	uint64_t dsobj;		/* MOS object of the dsl_dataset (0: bookmark) */
	uint64_t creation_txg;
	uint64_t creation_time;	/* seconds since the epoch */
	uint64_t guid;
	uint64_t used;		/* bytes, as `zfs list -p` USED */
	uint64_t referenced;	/* bytes, REFER */
	uint64_t compressed;	/* bytes of referenced data as stored */
	uint64_t uncompressed;	/* logical bytes referenced */
	/* Effective mountpoint as OpenZFS computes it ("/pool/a" by default,
	 * inherited with the relative path appended); "legacy" or "none" as
	 * such; NULL for snapshots, volumes and bookmarks. */
	const char *mountpoint;
	int canmount;		/* 0 off, 1 on, 2 noauto (`zfs mount -a` skips it) */
	bool snapdir_visible;	/* snapdir=visible: .zfs is listed in the root */
	const char *origin;	/* clone's origin snapshot name, or NULL */
	bool encrypted;		/* its data cannot be read without keys */
};

/*
 * Call cb for every dataset of the pool: filesystems and volumes in
 * depth-first name order, each followed by its snapshots (in txg order)
 * and bookmarks. The info and its strings are valid during the call only.
 * A non-zero return from cb stops the walk and is returned.
 */
int zfuse_dataset_iter(zfuse_pool_t *pool,
		       int (*cb)(const struct zfuse_dataset_info *info, void *arg),
		       void *arg);

/*
 * Open a filesystem dataset or snapshot by full name ("pool", "pool/a",
 * "pool/a@snap").
 * Errors: ZFUSE_E_NOENT (no such dataset), ZFUSE_E_ACCESS (encrypted),
 * ZFUSE_E_UNSUPPORTED (a volume, or a ZPL version zfuse cannot read).
 */
int zfuse_fs_open(zfuse_pool_t *pool, const char *name, zfuse_fs_t **out);
void zfuse_fs_close(zfuse_fs_t *fs);

/* Object number of the filesystem's root directory. */
uint64_t zfuse_fs_root(const zfuse_fs_t *fs);
/* Full name of the dataset ("pool/a@snap"). */
const char *zfuse_fs_name(const zfuse_fs_t *fs);
bool zfuse_fs_is_snapshot(const zfuse_fs_t *fs);

struct zfuse_statfs {
	uint64_t block_size;	/* f_bsize (recordsize) */
	uint64_t frag_size;	/* f_frsize (512) */
	uint64_t blocks;	/* f_blocks in frag_size units */
	uint64_t bfree;
	uint64_t bavail;
	uint64_t files;		/* f_files */
	uint64_t ffree;
	uint64_t fsid;
	uint64_t namemax;	/* 255 */
};
/* Space figures as OpenZFS's statfs reports them for this dataset. */
int zfuse_fs_statfs(zfuse_fs_t *fs, struct zfuse_statfs *out);

/*
 * stat() of object ino, with every field as OpenZFS reports it through
 * Linux (object-layer.md §8.17): st_ino = ino, st_dev = 0, st_blksize.
 * Errors: ZFUSE_E_NOENT (no such object, or not a ZPL file object).
 */
int zfuse_getattr(zfuse_fs_t *fs, uint64_t ino, struct stat *st);

/*
 * Look a name up in directory dir; ino receives the object number. Follows
 * the directory's normalization/case rules.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_NOTDIR, ZFUSE_E_NAMETOOLONG.
 */
int zfuse_lookup(zfuse_fs_t *fs, uint64_t dir, const char *name, uint64_t *ino);

/*
 * Path of object ino from the filesystem's root ("/dir/file"), following
 * parent links and finding each name in its parent directory. For a file
 * with several hard links, the link in its recorded parent. Returns the
 * length. Errors: ZFUSE_E_NOENT (unlinked or unreachable), ZFUSE_E_RANGE.
 */
ssize_t zfuse_object_path(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap);

/* Object number of dir's parent directory (the root is its own parent). */
int zfuse_parent(zfuse_fs_t *fs, uint64_t dir, uint64_t *parent);

/*
 * Read directory entries starting at cookie (0: the beginning, which yields
 * "." and ".." first, then the entries). For each entry cb gets its name,
 * object number, d_type (DT_*) and the cookie of the entry after it; cb
 * returns non-zero to stop (that value is returned). Cookies are stable:
 * they encode the position in the directory's ZAP, not a count, so a walk
 * resumed from one sees the same later entries.
 * Errors: ZFUSE_E_NOTDIR.
 */
typedef int (*zfuse_dirent_fn)(void *arg, const char *name, uint64_t ino,
			       unsigned dtype, uint64_t next_cookie);
int zfuse_readdir(zfuse_fs_t *fs, uint64_t dir, uint64_t cookie,
		  zfuse_dirent_fn cb, void *arg);

/* Read up to len bytes of file ino at offset off; returns bytes read (0 at
 * or past the end). Holes read as zeros. Errors: ZFUSE_E_ISDIR. */
ssize_t zfuse_read(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off);

/* Symlink target into buf (NUL terminated); returns its length.
 * Errors: ZFUSE_E_INVAL (not a symlink), ZFUSE_E_RANGE (cap too small). */
ssize_t zfuse_readlink(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap);

/*
 * Extended attributes, from the SA nvlist and the xattr directory (SA
 * first), under their full Linux names ("user.x"; names stored without a
 * namespace prefix are shown as "user.NAME").
 * zfuse_getxattr: value into buf; cap 0 returns the size only.
 * zfuse_listxattr: NUL-separated names into buf; cap 0 returns the size.
 * Errors: ZFUSE_E_NODATA (no such attribute), ZFUSE_E_RANGE.
 */
ssize_t zfuse_getxattr(zfuse_fs_t *fs, uint64_t ino, const char *name, void *buf, size_t cap);
ssize_t zfuse_listxattr(zfuse_fs_t *fs, uint64_t ino, char *buf, size_t cap);

/*
 * Volumes (zvols): their contents as one byte range.
 * zfuse_volume_open errors: ZFUSE_E_NOENT, ZFUSE_E_UNSUPPORTED (not a
 * volume), ZFUSE_E_ACCESS (encrypted). zfuse_volume_read returns the bytes
 * read (0 at the end).
 */
typedef struct zfuse_volume zfuse_volume_t;
int zfuse_volume_open(zfuse_pool_t *pool, const char *name, zfuse_volume_t **out);
uint64_t zfuse_volume_size(const zfuse_volume_t *vol);
ssize_t zfuse_volume_read(zfuse_volume_t *vol, void *buf, size_t len, uint64_t off);
void zfuse_volume_close(zfuse_volume_t *vol);

#ifdef __cplusplus
}
#endif
#endif
