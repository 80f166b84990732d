/*
 * sa.h — system attributes (object-layer.md §8.3): the per-filesystem
 * registry and layout tables, and locating attributes of one object in its
 * bonus buffer and spill block.
 */
#ifndef ZFUSE_SA_H
#define ZFUSE_SA_H

#include <stdint.h>
#include "arc.h"
#include "dnode.h"

#define SA_MAGIC 0x2F505A

/* The ZPL attributes zfuse uses, by name (numbers come from the registry). */
enum zpl_attr {
	ZPL_ATIME, ZPL_MTIME, ZPL_CTIME, ZPL_CRTIME, ZPL_GEN, ZPL_MODE, ZPL_SIZE,
	ZPL_PARENT, ZPL_LINKS, ZPL_XATTR, ZPL_RDEV, ZPL_FLAGS, ZPL_UID, ZPL_GID,
	ZPL_PAD, ZPL_ZNODE_ACL, ZPL_DACL_COUNT, ZPL_SYMLINK, ZPL_SCANSTAMP,
	ZPL_DACL_ACES, ZPL_DXATTR, ZPL_PROJID, ZPL_END
};

const char *sa_zpl_attr_name(enum zpl_attr a);

typedef struct sa_table sa_table_t;

/*
 * Load the registry and layouts below the SA master node object.
 * Errors: ZFUSE_E_CORRUPT, read errors.
 */
int sa_table_load(objset_t *os, uint64_t sa_master_obj, sa_table_t **out);
void sa_table_free(sa_table_t *t);

/* Where each ZPL attribute of one object lives (NULL when absent). */
typedef struct sa_handle {
	const uint8_t *attr[ZPL_END];
	uint32_t len[ZPL_END];
	arc_buf_t *spill;
	dnode_t *dn;
} sa_handle_t;

/*
 * Parse the SA bonus (and spill, when flagged) of dn. The handle keeps
 * pointers into dn's buffer and the spill block: release it before dn.
 * Errors: ZFUSE_E_CORRUPT (bad magic, unknown layout, lengths overrun).
 */
int sa_handle_get(const sa_table_t *t, dnode_t *dn, sa_handle_t *h);
void sa_handle_release(sa_handle_t *h);

/* uint64 attribute value, or dflt when absent/short. */
uint64_t sa_get_u64(const sa_handle_t *h, enum zpl_attr a, uint64_t dflt);

/* Describe an object's SA attributes for an inspector: calls cb with the
 * registered name, number and raw bytes of every attribute present. */
int sa_foreach(const sa_table_t *t, dnode_t *dn,
	       void (*cb)(void *arg, const char *name, unsigned num, const uint8_t *val, uint32_t len),
	       void *arg);

#endif
