/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/zfuse.h — the public API of libzfuse: create and import OpenZFS
 * pool images from userspace, and read and write their datasets as POSIX
 * file trees (writes land in transaction groups OpenZFS imports as its own).
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
 * once; all calls are thread-safe (reads run in parallel, changes take
 * the pool lock in turn).
 */
#ifndef ZFUSE_ZFUSE_H
#define ZFUSE_ZFUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include "zfuse/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZFUSE_VERSION_STRING "0.1.0"

typedef struct zfuse_pool zfuse_pool_t;
typedef struct zfuse_fs zfuse_fs_t;

/* Log levels of messages the library emits (import decisions, damage). */
enum zfuse_log_level { ZFUSE_LOG_ERROR = 0, ZFUSE_LOG_WARN, ZFUSE_LOG_INFO, ZFUSE_LOG_DEBUG };
/* The log callback may run while the library holds a pool's lock: it must
 * not call into the library (record or print the message only). */
typedef void (*zfuse_log_fn)(void *arg, int level, const char *msg);

struct zfuse_import_opts {
	/* Device image files, whole-disk images with a GPT partition table,
	 * or directories (every regular file in them is probed). */
	const char *const *paths;
	size_t npaths;
	/* Pool to import when the devices hold several; NULL: the only one. */
	const char *pool_name;
	/* Bytes of decompressed blocks kept cached; 0: the default, a
	 * sixteenth of the machine's memory within 256 MiB..4 GiB. */
	uint64_t cache_size;
	/* Import as of this txg (an older uberblock); 0: newest valid. */
	uint64_t txg;
	/* Fall back to older uberblocks when the newest one's tree is damaged. */
	bool rewind;
	/* Open for writing when every active feature is one zfuse maintains;
	 * otherwise the pool is imported read-only and zfuse_pool_readonly_reason
	 * says why. Ignored with txg or rewind. */
	bool readwrite;
	/* Receives messages; NULL: messages go to stderr at WARN and above. */
	zfuse_log_fn log;
	void *log_arg;
	int log_level;
};

/*
 * Import a pool from opts->paths, read-only unless opts->readwrite asks
 * for writes (and the pool allows them). Chooses the active uberblock as
 * OpenZFS does, checks the vdev tree (missing devices, guid sum) and the
 * features needed for reading.
 * Errors: ZFUSE_E_NOTFOUND_POOL (no label on any device, or no pool of that
 * name), ZFUSE_E_MISSING_DEV (more devices missing than redundancy allows),
 * ZFUSE_E_UNSUPPORTED (big-endian pool, or a read-incompatible feature
 * zfuse does not implement; the log names it), ZFUSE_E_INVAL.
 */
int zfuse_pool_import(const struct zfuse_import_opts *opts, zfuse_pool_t **out);

/* Close a pool. All zfuse_fs_t of it must be closed before. A writable
 * pool is synced first (its last txg reaches the disk). */
void zfuse_pool_close(zfuse_pool_t *pool);

/* Whether the pool takes writes. */
bool zfuse_pool_writable(const zfuse_pool_t *pool);
/* Why a pool asked for read-write is read-only ("feature 'X' is active
 * ..."), or NULL. */
const char *zfuse_pool_readonly_reason(const zfuse_pool_t *pool);

/*
 * Write everything changed so far and wait until it is on disk (a new
 * uberblock). Errors: ZFUSE_E_IO (the txg could not be written: the pool
 * has become read-only and stays as of its last good txg), ZFUSE_E_NOSPC.
 */
int zfuse_pool_sync(zfuse_pool_t *pool);

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
 * The list is read first and cb runs with no library lock held, so it may
 * call any zfuse_* function.
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
 * The first writable open of a filesystem replays the intent log a crash
 * left in it (claimed by the read-write import), as OpenZFS's mount does;
 * a log with records zfuse cannot execute leaves the filesystem read-only
 * (zfuse_fs_writable false, the reason logged) and the log in place.
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
 * resumed from one sees the same later entries. Entries are read in
 * batches and cb runs with no library lock held, so it may call any
 * zfuse_* function (zfuse_getattr for readdirplus, for example).
 * Errors: ZFUSE_E_NOTDIR.
 */
typedef int (*zfuse_dirent_fn)(void *arg, const char *name, uint64_t ino,
			       unsigned dtype, uint64_t next_cookie);
int zfuse_readdir(zfuse_fs_t *fs, uint64_t dir, uint64_t cookie,
		  zfuse_dirent_fn cb, void *arg);

/* Read up to len bytes of file ino at offset off; returns bytes read (0 at
 * or past the end). Holes read as zeros. Errors: ZFUSE_E_ISDIR. */
ssize_t zfuse_read(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off);

/*
 * zfuse_read with flags: ZFUSE_READ_CACHED says the caller keeps what it
 * reads in a cache of its own (a page cache, FUSE's reads). When the read
 * continues a sequential stream, a block it covers whole leaves the
 * library's block cache once no one else holds it: a stream reuses the
 * same few buffers instead of filling the block cache with copies of the
 * caller's (and pushing out what other readers use). Blocks read in part
 * or at random stay cached, for the reads and partial writes of the rest
 * and for when the caller's cache drops them. Errors: those of
 * zfuse_read, ZFUSE_E_INVAL (unknown flag).
 */
#define ZFUSE_READ_CACHED 1u
ssize_t zfuse_read_flags(zfuse_fs_t *fs, uint64_t ino, void *buf, size_t len, uint64_t off,
			 unsigned flags);

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
 * Volumes (zvols): their contents as one byte range of volsize bytes.
 *
 * zfuse_volume_open opens a volume or a snapshot of one. A volume of a
 * pool imported read-write is writable (zfuse_volume_writable) unless it
 * is a snapshot or its intent log holds records zfuse cannot replay (the
 * first writable open replays a log a crash left: writes and truncates); the
 * handle shares the pool's in-core state of the volume, so what one handle
 * writes every other reads at once, and a rollback or volsize change shows
 * in the next call. While a handle is open the volume cannot be destroyed
 * (ZFUSE_E_BUSY). Errors: ZFUSE_E_NOENT, ZFUSE_E_UNSUPPORTED (not a
 * volume), ZFUSE_E_ACCESS (encrypted).
 *
 * zfuse_volume_size: volsize now (0 if it cannot be read).
 * zfuse_volume_blocksize: volblocksize (the data block size; fixed at
 *   creation).
 * zfuse_volume_read returns the bytes read: short at the end, 0 at or past
 *   it.
 */
typedef struct zfuse_volume zfuse_volume_t;
int zfuse_volume_open(zfuse_pool_t *pool, const char *name, zfuse_volume_t **out);
uint64_t zfuse_volume_size(const zfuse_volume_t *vol);
uint64_t zfuse_volume_blocksize(const zfuse_volume_t *vol);
ssize_t zfuse_volume_read(zfuse_volume_t *vol, void *buf, size_t len, uint64_t off);
void zfuse_volume_close(zfuse_volume_t *vol);

/* Whether zfuse_volume_write/free may be used on vol. */
bool zfuse_volume_writable(const zfuse_volume_t *vol);

/*
 * Write len bytes of buf at off (as a write to /dev/zvol/POOL/VOL): the
 * blocks of volblocksize it covers are rewritten in the pool's open
 * transaction group, as OpenZFS's zvol writes are, and logged in the
 * volume's intent log; they reach the disk at the next sync
 * (zfuse_volume_sync commits the log; the pool's timer syncs the txg),
 * and every read sees them at once. With sync=always the log is committed
 * before the call returns. Returns len. A volume never grows by writing.
 * Errors: ZFUSE_E_ROFS (not writable), ZFUSE_E_FBIG (off + len beyond
 * volsize), ZFUSE_E_NOSPC (pool full), ZFUSE_E_IO.
 */
ssize_t zfuse_volume_write(zfuse_volume_t *vol, const void *buf, size_t len, uint64_t off);

/*
 * Discard [off, off + len) (BLKDISCARD, fallocate punch-hole): whole
 * blocks in it are freed and read as zeros, partial ones are zeroed.
 * Errors: as zfuse_volume_write.
 */
int zfuse_volume_free(zfuse_volume_t *vol, uint64_t off, uint64_t len);

/*
 * Make every write and discard made so far through any handle of vol
 * durable, as fsync of the device: the volume's intent log is committed
 * (a crash after this returns leaves them to the log's replay, by zfuse
 * at the next open or by OpenZFS at import); where the volume has no log
 * (encrypted without its key, pools older than version 23, ZFUSE_ZIL=0,
 * a failed log write) the pool's transaction group is synced instead.
 * sync=disabled returns at once. Errors: ZFUSE_E_IO (the pool has become
 * read-only; earlier synced state is intact).
 */
int zfuse_volume_sync(zfuse_volume_t *vol);


/* ==== write side ==================================================== */
/*
 * Changing a filesystem. Every call below needs a writable filesystem: a
 * dataset (not a snapshot) of a pool imported read-write; otherwise it
 * returns ZFUSE_E_ROFS. Changes land in the pool's open transaction group
 * and reach the disk at the next sync (zfuse_fs_sync, or the pool's own
 * timer); until then the read calls above already see them.
 *
 * Permission checks (rwx, ownership for chmod/chown/utimes) are the
 * caller's: the FUSE daemon runs with default_permissions and the kernel
 * checks. The rules the VFS leaves to filesystems are applied here:
 *   - new objects get uid/gid from the caller, except that in a setgid
 *     directory they get the directory's gid and new subdirectories
 *     inherit S_ISGID;
 *   - the caller's umask must already be applied to mode.
 * Names are at most 255 bytes, contain no '/', and are not "." or "..".
 * Directories follow their normalization / case-insensitivity rules.
 *
 * Times: every call sets ctime/mtime (and atime at creation) as Linux
 * filesystems do, to the current time of the coarse clock
 * (CLOCK_REALTIME_COARSE, a tick's resolution), as OpenZFS on Linux does
 * and as the kernel stamps its own writes: a FUSE writeback cache then
 * finds a new file's times current and has no times to send at close.
 *
 * Errors besides those listed with each call: ZFUSE_E_ROFS, ZFUSE_E_NOSPC
 * (pool full), ZFUSE_E_NOENT (ino or dir is not an object),
 * ZFUSE_E_UNSUPPORTED (the dataset uses the legacy znode format, ZPL
 * version < 5, which zfuse does not write), and the read errors listed at
 * the top of this file.
 */

/* Whether the write calls may be used on fs. */
bool zfuse_fs_writable(const zfuse_fs_t *fs);

/* Whether a quota or refquota limits the filesystem (as of its opening
 * or its last property change): writes and creations may then fail with
 * ZFUSE_E_DQUOT, and a daemon should not cache writes it cannot refuse. */
bool zfuse_fs_limited(const zfuse_fs_t *fs);
/* Whether the filesystem has sync=always (as of its opening or its last
 * property change): every changing call is durable when it returns, so a
 * daemon should not cache writes (a cached write(2) would return first). */
bool zfuse_fs_sync_always(const zfuse_fs_t *fs);

/*
 * Push every change made so far to disk (all datasets of the pool) and
 * wait for it: fsync(2), syncfs(2), unmount. Errors: ZFUSE_E_IO (the pool
 * has become read-only; earlier synced state is intact).
 */
int zfuse_fs_sync(zfuse_fs_t *fs);

/*
 * Make every change of this filesystem made so far durable without
 * waiting for a txg sync, as OpenZFS's zil_commit: the changes are
 * written to the dataset's intent log and the devices flushed (fsync(2),
 * fdatasync(2), O_SYNC writes). sync=disabled returns at once; encrypted
 * datasets, pools older than version 23, ZFUSE_ZIL=0 in the environment
 * and changes the log does not describe (xattrs, file flags) wait for a
 * txg sync as zfuse_fs_sync. After a crash the next read-write import
 * (zfuse's or OpenZFS's) replays the log. Errors: ZFUSE_E_IO.
 */
int zfuse_fs_commit(zfuse_fs_t *fs);

/*
 * zfuse_fs_commit for fsync(2) of object ino (a file or a directory), as
 * OpenZFS's zil_commit(zilog, ino): every change made so far is durable
 * but other files' data writes, truncates and attribute changes, which
 * wait for their own fsync or a txg sync (a renamed file's go with the
 * rename). A directory's fsync thus makes its entries durable without
 * copying every file's data into the log. Errors: as zfuse_fs_commit.
 */
int zfuse_fs_commit_object(zfuse_fs_t *fs, uint64_t ino);

/*
 * Make a new object called name in directory dir. ino receives its object
 * number (= inode number) and st, when not NULL, its attributes, as
 * zfuse_getattr would report them. In a setgid directory the object gets
 * the directory's group (and a directory the setgid bit); mode is kept as
 * given otherwise: dropping S_ISGID for a caller outside the new group is
 * the caller's part (Linux's VFS does it before a FUSE create).
 *   zfuse_create: a regular file; mode's type bits are ignored.
 *   zfuse_mknod: S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK in mode;
 *     rdev is used for devices only (stored as Linux OpenZFS does).
 *   zfuse_mkdir: a directory; mode's type bits are ignored.
 *   zfuse_symlink: a symbolic link to target (mode 0777); target is at
 *     most 4095 bytes.
 * Errors: ZFUSE_E_EXIST (name is taken), ZFUSE_E_NOTDIR (dir is not a
 * directory), ZFUSE_E_NAMETOOLONG (name over 255 bytes, target over
 * 4095), ZFUSE_E_INVAL (bad name, mode or empty target; invalid UTF-8 on
 * a utf8only filesystem), ZFUSE_E_NOENT (dir was removed: it has no
 * links), ZFUSE_E_UNSUPPORTED (a symlink target too long for the bonus
 * buffer needs a spill block, which the engine does not write yet).
 */
int zfuse_create(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode,
		 uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st);
int zfuse_mknod(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode, dev_t rdev,
		uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st);
int zfuse_mkdir(zfuse_fs_t *fs, uint64_t dir, const char *name, mode_t mode,
		uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st);
int zfuse_symlink(zfuse_fs_t *fs, uint64_t dir, const char *name, const char *target,
		  uint32_t uid, uint32_t gid, uint64_t *ino, struct stat *st);

/*
 * A new name newname in directory newdir for the existing object ino.
 * st (may be NULL) receives ino's attributes (links and ctime changed).
 * Errors: ZFUSE_E_EXIST, ZFUSE_E_PERM (ino is a directory),
 * ZFUSE_E_MLINK, ZFUSE_E_NOTDIR, ZFUSE_E_NAMETOOLONG, ZFUSE_E_INVAL,
 * ZFUSE_E_NOENT (ino has no links left: it was unlinked while open).
 */
int zfuse_link(zfuse_fs_t *fs, uint64_t ino, uint64_t newdir, const char *newname,
	       struct stat *st);

/*
 * Remove the name name from directory dir.
 *   zfuse_unlink: name must not be a directory (ZFUSE_E_ISDIR).
 *   zfuse_rmdir: name must be an empty directory (ZFUSE_E_NOTDIR,
 *     ZFUSE_E_NOTEMPTY); "." gives ZFUSE_E_INVAL, ".." ZFUSE_E_NOTEMPTY.
 * An object that loses its last name is not freed yet: it joins the
 * filesystem's delete queue and is freed by zfuse_forget (the last user
 * is gone) or, at the latest, by the next read-write zfuse_fs_open.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_NOTDIR (dir), ZFUSE_E_NAMETOOLONG.
 */
int zfuse_unlink(zfuse_fs_t *fs, uint64_t dir, const char *name);
int zfuse_rmdir(zfuse_fs_t *fs, uint64_t dir, const char *name);

/*
 * The caller (the FUSE daemon on FORGET, or a library user after its last
 * use of ino) holds no more references to ino: if ino has no links left it
 * is freed now. Cheap for live objects. Errors: none besides I/O; an ino
 * that is not in the delete queue returns 0.
 */
int zfuse_forget(zfuse_fs_t *fs, uint64_t ino);

/* rename(2) flags, same values as Linux's RENAME_*. */
#define ZFUSE_RENAME_NOREPLACE (1u << 0)
#define ZFUSE_RENAME_EXCHANGE (1u << 1)

/*
 * Move olddir/oldname to newdir/newname (same filesystem; the caller
 * returns EXDEV across filesystems). An existing target is replaced
 * atomically (a directory only by a directory, and only when empty),
 * unless ZFUSE_RENAME_NOREPLACE; ZFUSE_RENAME_EXCHANGE swaps the two
 * names (both must exist). A replaced target that loses its last link
 * goes to the delete queue as with zfuse_unlink. Renaming a name onto a
 * hard link of the same object does nothing, as rename(2).
 * Errors: ZFUSE_E_NOENT (oldname, or newname with EXCHANGE),
 * ZFUSE_E_EXIST (newname with NOREPLACE), ZFUSE_E_ISDIR (non-directory
 * onto a directory), ZFUSE_E_NOTDIR (directory onto a non-directory, or a
 * dir that is not one), ZFUSE_E_NOTEMPTY, ZFUSE_E_INVAL
 * (a directory into its own subtree, both flags, "." or ".."),
 * ZFUSE_E_NAMETOOLONG.
 */
int zfuse_rename(zfuse_fs_t *fs, uint64_t olddir, const char *oldname, uint64_t newdir,
		 const char *newname, unsigned flags);

/*
 * Write len bytes of buf into file ino at offset off (O_APPEND: the
 * caller passes the current size as off). Returns len. Grows the file and
 * its block size as OpenZFS does (one block growing to the next power of
 * two up to recordsize, then recordsize blocks). Clears nothing: the
 * kernel removes setuid/setgid bits through zfuse_setattr.
 * Errors: ZFUSE_E_ISDIR, ZFUSE_E_INVAL (not a regular file),
 * ZFUSE_E_FBIG (off + len beyond 2^63 - 1).
 */
ssize_t zfuse_write(zfuse_fs_t *fs, uint64_t ino, const void *buf, size_t len, uint64_t off);

/*
 * zfuse_write with flags: ZFUSE_WRITE_CACHED is a page cache writing back
 * data it already shows (FUSE's writepage): mtime and ctime are left as
 * they are, since the cache owns them and sets them through zfuse_setattr
 * (with a writeback cache the kernel's times are the file's; a write
 * reaching the library after that setattr must not replace them by a
 * later "now"). Errors: those of zfuse_write, ZFUSE_E_INVAL (unknown flag).
 */
#define ZFUSE_WRITE_CACHED 1u
ssize_t zfuse_write_flags(zfuse_fs_t *fs, uint64_t ino, const void *buf, size_t len,
			  uint64_t off, unsigned flags);

/* Which fields of struct zfuse_setattr apply. */
#define ZFUSE_SET_MODE (1u << 0)
#define ZFUSE_SET_UID (1u << 1)
#define ZFUSE_SET_GID (1u << 2)
#define ZFUSE_SET_SIZE (1u << 3)
#define ZFUSE_SET_ATIME (1u << 4)
#define ZFUSE_SET_MTIME (1u << 5)
#define ZFUSE_SET_ATIME_NOW (1u << 7)	/* atime = now; atime field ignored */
#define ZFUSE_SET_MTIME_NOW (1u << 8)
#define ZFUSE_SET_CTIME (1u << 10)	/* explicit ctime (else ctime = now) */

struct zfuse_setattr {
	unsigned valid;		/* ZFUSE_SET_* */
	mode_t mode;		/* permission bits incl. setuid/setgid/sticky;
				 * the type bits are kept */
	uint32_t uid, gid;
	uint64_t size;		/* regular files only: truncate or extend */
	struct timespec atime, mtime, ctime;
};

/*
 * Change attributes of ino as chmod/chown/truncate/utimensat do; ctime
 * becomes now (unless ZFUSE_SET_CTIME; with nothing valid that is the
 * whole change, as chown(-1, -1) makes it); a size change also sets mtime.
 * Shrinking frees the blocks past the new size. st (may be NULL)
 * receives the new attributes.
 * Errors: ZFUSE_E_ISDIR (size of a directory), ZFUSE_E_INVAL (size of a
 * non-regular file), ZFUSE_E_FBIG.
 */
int zfuse_setattr(zfuse_fs_t *fs, uint64_t ino, const struct zfuse_setattr *attr,
		  struct stat *st);

/* fallocate(2) modes, same values as Linux's FALLOC_FL_*. */
#define ZFUSE_FALLOC_KEEP_SIZE 0x01
#define ZFUSE_FALLOC_PUNCH_HOLE 0x02
#define ZFUSE_FALLOC_ZERO_RANGE 0x10

/*
 * fallocate(2) on a regular file. mode 0 or KEEP_SIZE: ZFS preallocates
 * nothing (copy-on-write); without KEEP_SIZE the size grows to off + len.
 * PUNCH_HOLE | KEEP_SIZE, or ZERO_RANGE: the part of [off, off + len)
 * inside the file reads as zeros afterwards and whole blocks in it are
 * freed; ZERO_RANGE without KEEP_SIZE then extends the file to off + len
 * (as Linux filesystems do; the kernel shows that size at once).
 * Errors: ZFUSE_E_UNSUPPORTED (other modes, or PUNCH_HOLE without
 * KEEP_SIZE), ZFUSE_E_INVAL (len 0), ZFUSE_E_ISDIR, ZFUSE_E_FBIG.
 */
int zfuse_fallocate(zfuse_fs_t *fs, uint64_t ino, int mode, uint64_t off, uint64_t len);

/*
 * Copy len bytes of file ino_in at off_in into file ino_out at off_out
 * (copy_file_range(2); a plain copy, no block sharing). Returns the bytes
 * copied: short at ino_in's end, unless flags has ZFUSE_COPY_LEN_CHECKED.
 * Errors: ZFUSE_E_ISDIR, ZFUSE_E_INVAL (overlapping ranges of the same
 * file, unknown flags), ZFUSE_E_FBIG, ZFUSE_E_ROFS, ZFUSE_E_NOSPC.
 */
/* The caller has already shortened len to the source's size as it knows
 * it, which may be ahead of the library's: a kernel with a writeback cache
 * extends files in its page cache before the writes arrive, and flushes
 * only the copied range first. Bytes past the stored end are then copied
 * as zeros (what the kernel shows there) instead of ending the copy. */
#define ZFUSE_COPY_LEN_CHECKED 0x1
ssize_t zfuse_copy_file_range(zfuse_fs_t *fs, uint64_t ino_in, uint64_t off_in,
			      uint64_t ino_out, uint64_t off_out, size_t len, unsigned flags);

/* setxattr(2) flags, same values as Linux's XATTR_*. */
#define ZFUSE_XATTR_CREATE 0x1
#define ZFUSE_XATTR_REPLACE 0x2

/*
 * Set or remove an extended attribute under its full Linux name
 * ("user.x", "trusted.x", "security.x"; "system.posix_acl_*" are stored as
 * plain xattrs). Where it is stored follows the dataset's xattr property
 * as OpenZFS does: xattr=sa puts it in the SA nvlist while the nvlist
 * stays under OpenZFS's SA size limit and falls back to the hidden xattr
 * directory otherwise; xattr=on/dir always uses the directory. Setting
 * replaces a same-named value wherever it was stored.
 * Errors: ZFUSE_E_EXIST (CREATE and it exists), ZFUSE_E_NODATA (REPLACE or
 * remove and it does not), ZFUSE_E_NAMETOOLONG (name over 255 bytes),
 * ZFUSE_E_RANGE (value over 65536 bytes), ZFUSE_E_UNSUPPORTED (xattr=off,
 * or a namespace Linux OpenZFS refuses).
 */
int zfuse_setxattr(zfuse_fs_t *fs, uint64_t ino, const char *name, const void *value,
		   size_t size, int flags);
int zfuse_removexattr(zfuse_fs_t *fs, uint64_t ino, const char *name);

/* ==== pool creation ================================================== */

struct zfuse_create_opts {
	/* Pool name (zpool's rules: a letter first, then letters, digits,
	 * "_-.:"; not "mirror", "raidz...", "draid...", "spare", "log"). */
	const char *name;
	/*
	 * The devices in zpool create's grammar, one word per element:
	 * "FILE...", "mirror FILE FILE...", "raidz|raidz1|raidz2|raidz3 FILE
	 * FILE...", several groups for a stripe of top-level vdevs. FILEs are
	 * image files or block devices (absolute or relative paths).
	 */
	const char *const *vdev_args;
	size_t nvdev_args;
	/* Create missing FILEs as sparse files of this many bytes; 0: every
	 * FILE must exist. Devices must have at least 64 MiB. */
	uint64_t file_size;
	/* Use FILEs that carry labels of another (not destroyed) pool. */
	bool force;
	/* Pool properties "name=value": ashift=9..16, feature@NAME=enabled or
	 * disabled (only features zfuse keeps may be enabled; the default set
	 * is contrib/compatibility.d/zfuse). */
	const char *const *pool_props;
	size_t npool_props;
	/* Root filesystem properties "name=value": compression, checksum,
	 * recordsize, copies, atime, dnodesize, xattr, mountpoint, canmount,
	 * the creation-only normalization, utf8only, casesensitivity, and
	 * encryption, keyformat, keylocation, pbkdf2iters (key_material). */
	const char *const *fs_props;
	size_t nfs_props;
	/* The command line recorded as the creating command in the pool's
	 * history (`zpool history`); NULL: only the internal events. */
	const char *history_command;
	/* Messages (NULL: stderr at WARN and above). */
	zfuse_log_fn log;
	void *log_arg;
	int log_level;	/* Key material of an encrypted root filesystem (fs_props with
	 * encryption and keyformat; see zfuse_dataset_create_key). */
	const void *key_material;
	size_t key_len;
};

/*
 * Create a pool, as `zpool create` does (pool version 5000, the zfuse
 * feature set, an empty root filesystem), write it, and close it: the
 * devices hold a cleanly exported pool that OpenZFS and zfuse import.
 * Errors: ZFUSE_E_INVAL (bad name, grammar, property or value; too few
 * devices for the layout; device too small), ZFUSE_E_NOENT (a FILE is
 * missing and file_size is 0), ZFUSE_E_BUSY (a FILE belongs to a pool and
 * force is false, or is named twice), ZFUSE_E_UNSUPPORTED (log, cache,
 * spare, special, dedup or draid vdevs; a feature zfuse does not keep),
 * ZFUSE_E_IO, ZFUSE_E_NOSPC.
 */
int zfuse_pool_create(const struct zfuse_create_opts *opts);

/* Pool versions zfuse reads: legacy versions 1 to this one, and feature
 * pools (version 5000), the only version it creates. */
#define ZFUSE_SPA_VERSION_LEGACY_MAX 28
#define ZFUSE_SPA_VERSION_FEATURES 5000

/* A feature flag OpenZFS 2.3 defines, and what zfuse does with pools where
 * it is active. */
struct zfuse_feature_support {
	const char *name;	/* "lz4_compress" */
	const char *guid;	/* "org.illumos:lz4_compress" */
	bool readonly_compat;	/* a pool without it in zfuse's reach still reads */
	bool reads;		/* pools where it is active are read */
	bool writes;		/* ... and written */
};

/* Each feature in OpenZFS's order; stops when fn returns nonzero (that
 * value is returned). */
int zfuse_feature_support_iter(int (*fn)(void *arg, const struct zfuse_feature_support *f),
			       void *arg);

#ifdef __cplusplus
}
#endif
#endif
