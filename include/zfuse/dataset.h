/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse/dataset.h — the ZFS half of libzfuse: make and destroy datasets,
 * snapshots and clones, roll back, and read and change properties, in
 * OpenZFS's on-disk format (what `zfs create/snapshot/destroy/rollback/
 * clone/get/set/inherit` do to a pool).
 *
 * Every change needs a pool imported read-write (else ZFUSE_E_ROFS). A
 * change is checked at once (names, existence, dependents) and then
 * carried out inside the next sync, in the txg being written, as
 * OpenZFS's sync tasks are: a snapshot therefore captures every write
 * made before the call returned and none made after. The call returns
 * when that txg is on disk (or failed: ZFUSE_E_IO, nothing of it is on
 * disk).
 *
 * Names are full dataset names: "pool/a/b", "pool/a@snap", "pool/a#mark".
 * Components follow zfs's rules: letters, digits and "_-.: " (a space
 * too), at most 255 bytes for a whole name (ZFS_MAX_DATASET_NAME_LEN
 * 256 with its NUL).
 *
 * Errors besides those listed: ZFUSE_E_ROFS, ZFUSE_E_NOSPC (only slop
 * space left; destroying never fails for it), ZFUSE_E_IO, and the read
 * errors of zfuse.h.
 */
#ifndef ZFUSE_DATASET_H
#define ZFUSE_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zfuse/zfuse.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A property setting "name=value" split in two. */
struct zfuse_prop_setting {
	const char *name;
	const char *value;
};

/*
 * Create a filesystem (volsize 0), or with volsize > 0 a volume, as `zfs
 * create [-V volsize]` does, with these properties set locally. The
 * parent must exist and be a filesystem. A volume is made exactly as
 * zfuse_volume_create(pool, name, volsize, false, props, nprops): not
 * sparse.
 * Errors: ZFUSE_E_EXIST (name taken), ZFUSE_E_NOENT (no parent),
 * ZFUSE_E_INVAL (bad name, a snapshot name, bad property or value, a
 * parent that is a volume), ZFUSE_E_NAMETOOLONG, and those of
 * zfuse_volume_create.
 */
int zfuse_dataset_create(zfuse_pool_t *pool, const char *name, uint64_t volsize,
			 const struct zfuse_prop_setting *props, size_t nprops);

/*
 * Create a volume of volsize bytes, as `zfs create -V volsize [-s]`: a
 * DMU_OST_ZVOL objset whose object 1 holds the data in blocks of
 * volblocksize (props "volblocksize", creation-only: a power of 2 from
 * 512 to 128K, up to 16M on pools with large_blocks enabled; default 16K)
 * and object 2 the size. volsize must be a non-zero multiple of
 * volblocksize. Unless sparse (-s) or props set refreservation, the
 * volume gets refreservation = what libzfs's zvol_volsize_to_reservation
 * computes (volsize scaled for RAID-Z, plus metadata; copies does not
 * count, as in OpenZFS 2.3), which
 * is accounted as OpenZFS does (usedbyrefreservation, used, available).
 * Later volsize changes: zfuse_prop_set(..., "volsize", ...).
 * Errors: as zfuse_dataset_create, and ZFUSE_E_INVAL (volsize 0 or not a
 * multiple of volblocksize, bad volblocksize, a property of filesystems
 * only), ZFUSE_E_UNSUPPORTED (volblocksize over 128K without large_blocks),
 * ZFUSE_E_NOSPC (the refreservation is more than the space available).
 */
int zfuse_volume_create(zfuse_pool_t *pool, const char *name, uint64_t volsize, bool sparse,
			const struct zfuse_prop_setting *props, size_t nprops);

/*
 * Take snapshots "ds@snap" of several datasets in one txg, atomically: all
 * or none. Errors: ZFUSE_E_EXIST (a snapshot of that name exists),
 * ZFUSE_E_NOENT (no such dataset), ZFUSE_E_INVAL (not "ds@snap", a dataset
 * named twice, a snapshot of a snapshot), ZFUSE_E_NAMETOOLONG.
 */
int zfuse_snapshot(zfuse_pool_t *pool, const char *const *names, size_t n);

/*
 * Destroy a snapshot (any of a chain: its deadlist is merged into the next
 * one's and the blocks only it held are freed, as OpenZFS does). Its
 * bookmarks stay, and those before it learn what their next snapshot is.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_BUSY (it has clones, or user holds),
 * ZFUSE_E_INVAL (not a snapshot name).
 */
int zfuse_snapshot_destroy(zfuse_pool_t *pool, const char *name);

/*
 * Destroy a filesystem or volume with no snapshots and no children; its
 * blocks and its bookmarks are freed. Errors: ZFUSE_E_NOENT, ZFUSE_E_BUSY (it has snapshots
 * or children: destroy them first; it is the pool's root dataset),
 * ZFUSE_E_INVAL (a snapshot name).
 */
int zfuse_dataset_destroy(zfuse_pool_t *pool, const char *name);

/*
 * Roll a filesystem or volume back to its newest snapshot "ds@snap":
 * everything written after it is freed. Open handles of the dataset
 * (zfuse_fs_t) see the rolled-back tree afterwards.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_EXIST (snap is not the newest snapshot,
 * or bookmarks were made of later snapshots: destroy the later ones
 * first), ZFUSE_E_INVAL.
 */
int zfuse_rollback(zfuse_pool_t *pool, const char *snapname);

/*
 * Make bookmark "ds#mark" of snapshot source "fs@snap", or a copy of
 * bookmark source "fs#other", as `zfs bookmark` does. The source must be
 * in the past of ds: a snapshot or bookmark of ds itself, or of the
 * origin of ds (a clone) or of that origin's origin, and so on. On pools
 * with bookmark_written the bookmark records the snapshot's referenced
 * bytes and what died before the next snapshot (written#mark); those
 * figures are kept as the dataset changes, as OpenZFS keeps them.
 * Errors: ZFUSE_E_EXIST (ds has a bookmark of that name), ZFUSE_E_NOENT
 * (no such source, no such ds, or a name of another pool), ZFUSE_E_XDEV
 * (the source is not in the past of ds), ZFUSE_E_INVAL (source not
 * "fs@snap" or "fs#mark", bookmark not "ds#mark", a bad name),
 * ZFUSE_E_NAMETOOLONG, ZFUSE_E_UNSUPPORTED (the pool lacks the bookmarks
 * feature).
 */
int zfuse_bookmark_create(zfuse_pool_t *pool, const char *source, const char *bookmark);

/*
 * Destroy bookmark "ds#mark" (with the last one of ds, its bookmarks ZAP).
 * Errors: ZFUSE_E_NOENT (no such bookmark or dataset), ZFUSE_E_INVAL (not
 * a bookmark name).
 */
int zfuse_bookmark_destroy(zfuse_pool_t *pool, const char *bookmark);

/*
 * Make a clone named newname of snapshot "ds@snap", with these properties
 * set locally. Errors: as zfuse_dataset_create, and ZFUSE_E_NOENT (no such
 * snapshot).
 */
int zfuse_clone(zfuse_pool_t *pool, const char *snapname, const char *newname,
		const struct zfuse_prop_setting *props, size_t nprops);

/*
 * The bytes destroying the snapshots first..last of one filesystem (and
 * every snapshot between) would free, as OpenZFS's
 * lzc_snaprange_space computes them (`zfs destroy -v` "would reclaim").
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not snapshots of one filesystem,
 * or last older than first).
 */
int zfuse_snapshot_range_space(zfuse_pool_t *pool, const char *first, const char *last,
			       uint64_t *used);

/*
 * Promote clone `clone` (a filesystem or volume) as `zfs promote` does:
 * the snapshots of its origin's filesystem up to and including its origin
 * snapshot move to it (keeping their names), the origin's filesystem
 * becomes a clone of that snapshot, and the space they hold is charged to
 * the clone from then on (usedbysnapshots, used of both and of their
 * ancestors). Later snapshots of the origin stay where they are, and
 * clones of the moved snapshots now depend on the promoted one. Names do
 * not change, so mounts stay as they are. A livelist of either
 * filesystem (OpenZFS clones have one) is dropped, as OpenZFS does.
 * Errors: ZFUSE_E_NOENT (no such dataset), ZFUSE_E_INVAL (a snapshot
 * name, or not a clone: "not a cloned filesystem"), ZFUSE_E_EXIST (a
 * snapshot that would move has the name of one of the clone's; zfs's
 * "conflicting snapshot 'S' from parent 'ORIGIN'" is logged),
 * ZFUSE_E_BUSY (a snapshot that would move is open), ZFUSE_E_NAMETOOLONG
 * (a moved snapshot's new name would be too long), ZFUSE_E_XDEV (the
 * clone is marked not promotable), ZFUSE_E_NOSPC (a quota of the clone, or
 * of an ancestor it does not share with the origin, has no room for the
 * space that moves: "out of space"), ZFUSE_E_UNSUPPORTED (either
 * filesystem has bookmarks, or is encrypted).
 */
int zfuse_promote(zfuse_pool_t *pool, const char *clone);

/*
 * Rename a filesystem or volume (within the pool, also under another
 * parent: its children and snapshots move with it) or a snapshot
 * ("ds@a" -> "ds@b"; with recursive, the snapshot of that name of every
 * descendant too, in one txg).
 * Errors: ZFUSE_E_NOENT (no such dataset, or no such new parent),
 * ZFUSE_E_EXIST (the new name is taken), ZFUSE_E_INVAL (bad name; a
 * snapshot renamed into another dataset; the pool's root; a dataset moved
 * below itself).
 */
int zfuse_dataset_rename(zfuse_pool_t *pool, const char *oldname, const char *newname, bool recursive);

/*
 * User holds on a snapshot (zfs hold/release/holds): a held snapshot
 * cannot be destroyed. zfuse_hold errors: ZFUSE_E_EXIST (tag already on
 * it), ZFUSE_E_NOENT, ZFUSE_E_INVAL (not a snapshot, empty or too long
 * tag). zfuse_release errors: ZFUSE_E_NOENT (no such snapshot or tag).
 * zfuse_holds_iter calls cb for each tag with its time (seconds since
 * the epoch), without the library's lock held; a non-zero return stops
 * it and is returned.
 */
int zfuse_hold(zfuse_pool_t *pool, const char *snapname, const char *tag);
int zfuse_release(zfuse_pool_t *pool, const char *snapname, const char *tag);
int zfuse_holds_iter(zfuse_pool_t *pool, const char *snapname,
		     int (*cb)(void *arg, const char *tag, uint64_t when), void *arg);

/* ---- properties ------------------------------------------------------- */

enum zfuse_prop_source {
	ZFUSE_SRC_NONE = 0,	/* read-only, computed ("-" in zfs get) */
	ZFUSE_SRC_DEFAULT,
	ZFUSE_SRC_LOCAL,
	ZFUSE_SRC_INHERITED,	/* from the dataset named in inherited_from */
	ZFUSE_SRC_TEMPORARY,
	ZFUSE_SRC_RECEIVED,
};

/*
 * One property of a dataset as `zfs get` shows it: value as text (exactly
 * zfs get's -p form when parsable is set, its human form otherwise) and
 * where it came from.
 */
struct zfuse_prop_value {
	char value[1024];
	enum zfuse_prop_source source;
	char inherited_from[256];	/* ZFUSE_SRC_INHERITED only */
};

/*
 * Get property prop ("used", "compression", "com.example:tag", ...; also
 * zfs's column names such as "avail", "refer", "compress") of dataset
 * name (a filesystem, volume, snapshot "ds@snap" or bookmark "ds#mark").
 * A property of this type that has no value here (origin of a dataset
 * that is not a clone) gives "-" with ZFUSE_SRC_NONE, as zfs get prints
 * it. Errors: ZFUSE_E_NOENT (no such dataset), ZFUSE_E_INVAL (no such
 * property, or not one of this dataset type), ZFUSE_E_NODATA (a user
 * property that is not set). userquota@ID, groupquota@ID, projectquota@ID,
 * the *objquota@ID ones and the userused@ID ... projectobjused@ID figures
 * come from the filesystem's quota and used ZAPs, source ZFUSE_SRC_LOCAL,
 * "none" for no limit; "-" (ZFUSE_SRC_NONE) where zfs get prints it (an
 * id that is neither a name nor a number, figures the pool does not keep).
 * zfuse_prop_iter does not list them, as zfs get all does not.
 */
int zfuse_prop_get(zfuse_pool_t *pool, const char *name, const char *prop, bool parsable,
		   struct zfuse_prop_value *out);

/*
 * Call cb for every property of dataset name that `zfs get all` lists,
 * in its order: native properties (those that apply to the dataset's type
 * and have a value: origin only for clones, written only after a
 * snapshot...), then user properties as OpenZFS gathers them (a
 * snapshot's own, then the nearest dir's, then ancestors'). The values
 * are read under the pool lock first; cb runs without it. A non-zero
 * return from cb stops the walk and is returned.
 */
int zfuse_prop_iter(zfuse_pool_t *pool, const char *name, bool parsable,
		    int (*cb)(void *arg, const char *prop, const struct zfuse_prop_value *v),
		    void *arg);

/*
 * Set properties locally on dataset name (all or none, one txg).
 * volsize (volumes) is special, as in zfs: it is the volume's size, a
 * non-zero multiple of volblocksize; shrinking frees the blocks past the
 * new end; a refreservation that equals the old size's reservation (a
 * volume made without -s) is moved to the new size's unless refreservation
 * is set in the same call. The DSL properties are set first, then the size
 * (two txgs). refreservation and reservation are accounted as OpenZFS
 * does; filesystem_limit / snapshot_limit activate filesystem_limits and
 * start the counts. userquota@ID ... projectobjquota@ID settings are
 * checked with the others, the others set, then the limits written in the
 * filesystem's objset (an ID is a user or group name, else a number).
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (unknown property, bad value, a
 * read-only or creation-only property, a bad volsize, any property but a
 * user one on a snapshot, an id that does not decode), ZFUSE_E_UNSUPPORTED
 * (a value this pool's features do not allow), ZFUSE_E_NOSPC (a
 * refreservation or reservation larger than the space available, a quota
 * below what is used or reserved).
 */
int zfuse_prop_set(zfuse_pool_t *pool, const char *name, const struct zfuse_prop_setting *props,
		   size_t nprops);

/*
 * The user, group and project accounting of a filesystem, as `zfs
 * userspace` gathers it: the figures and limits of one kind (the order is
 * OpenZFS's zfs_userquota_prop_t).
 */
enum zfuse_userquota_prop {
	ZFUSE_USERUSED, ZFUSE_USERQUOTA, ZFUSE_GROUPUSED, ZFUSE_GROUPQUOTA,
	ZFUSE_USEROBJUSED, ZFUSE_USEROBJQUOTA, ZFUSE_GROUPOBJUSED, ZFUSE_GROUPOBJQUOTA,
	ZFUSE_PROJECTUSED, ZFUSE_PROJECTQUOTA, ZFUSE_PROJECTOBJUSED, ZFUSE_PROJECTOBJQUOTA,
};

struct zfuse_userspace_entry {
	uint32_t domain;	/* FUID domain index: 0 for a POSIX id */
	uint32_t rid;		/* the uid, gid or project id */
	uint64_t value;		/* bytes (or objects) used, or the limit */
};

/*
 * Call cb for every id that has a figure of kind type in filesystem or
 * snapshot name: the synced used figures (bytes or, for the *OBJ* kinds,
 * objects; what the last txg sync counted, as OpenZFS reads them) or the
 * limits set. Ids with nothing used and no limit have no entry. The
 * entries are read under the pool lock, cb runs without it; a non-zero
 * return from cb stops the walk and is returned. Errors: ZFUSE_E_NOENT
 * (no such dataset), ZFUSE_E_INVAL (a volume, or a type out of range),
 * ZFUSE_E_UNSUPPORTED (the pool does not keep figures of this kind: older
 * than version 15, or without userobj_accounting / project_quota; only
 * the byte figures of users and groups log a message, as zfs passes over
 * the other kinds quietly).
 */
int zfuse_userspace(zfuse_pool_t *pool, const char *name, enum zfuse_userquota_prop type,
		    int (*cb)(void *arg, const struct zfuse_userspace_entry *e), void *arg);

/* Remove the local value of prop, so that it is inherited again.
 * Errors: ZFUSE_E_NOENT, ZFUSE_E_INVAL (not inheritable). */
int zfuse_prop_inherit(zfuse_pool_t *pool, const char *name, const char *prop);

#ifdef __cplusplus
}
#endif
#endif
