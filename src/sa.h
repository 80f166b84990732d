/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * sa.h — system attributes (object-layer.md §8.3): the per-filesystem
 * registry and layout table, locating attributes of one object in its
 * bonus buffer and spill block, and rewriting them.
 */
#ifndef ZFUSE_SA_H
#define ZFUSE_SA_H

#include <stdint.h>
#include "arc.h"
#include "dnode.h"
#include "zfs_sa.h"

#define SA_MAGIC 0x2F505A

typedef struct sa_table sa_table_t;

/*
 * Load the registry and layouts below the SA master node object (either
 * may be absent yet: ZPL attributes then have their default numbers).
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

/* ==== writing ========================================================== */
/*
 * Writing an object's system attributes as OpenZFS's sa_build_layouts
 * does: the attribute list (in order) picks a layout from the dataset's
 * LAYOUTS ZAP (a new one is numbered and stored when none matches), the
 * bonus gets what fits, the rest goes to a spill block.
 */
struct dmu_tx;

#define SA_MAX_OBJ_ATTRS 64
#define SA_ATTR_MAX_LEN 65535	/* a variable-length attribute's bytes at most */

/* Bumped whenever a new layout is stored: other tables of the same
 * filesystem must then be reloaded. */
unsigned sa_table_generation(const sa_table_t *t);

/* Number of an existing layout with exactly these attributes.
 * Errors: ZFUSE_E_NOENT. */
int sa_table_find_layout(const sa_table_t *t, const uint16_t *attrs, unsigned n, unsigned *num);

/* One object's attributes in storage order, values owned. */
struct sa_obj_attr {
	uint16_t num;		/* registry number */
	uint32_t len;
	uint8_t *val;
	bool in_spill;		/* where it was loaded from */
	uint32_t off;		/* its offset in that buffer */
	bool dirty;
};
typedef struct sa_attrs {
	unsigned count;
	struct sa_obj_attr a[SA_MAX_OBJ_ATTRS];
	bool reshaped;		/* attributes added/removed or a length changed */
	bool loaded;		/* read from an existing SA bonus */
	uint8_t *spill;		/* the old spill block (NULL: none) */
	uint64_t spill_size;
} sa_attrs_t;

/* An empty list (new object). */
void sa_attrs_init(sa_attrs_t *l);
/* Read dn's attributes (bonus then spill, in layout order).
 * Errors: ZFUSE_E_CORRUPT (not SA, unknown layout), read errors. */
int sa_attrs_load(const sa_table_t *t, dnode_t *dn, sa_attrs_t *l);
void sa_attrs_free(sa_attrs_t *l);

/* Value of a ZPL attribute (NULL when absent). */
const uint8_t *sa_attrs_get(const sa_table_t *t, const sa_attrs_t *l, enum zpl_attr a,
			    uint32_t *len);
uint64_t sa_attrs_get_u64(const sa_table_t *t, const sa_attrs_t *l, enum zpl_attr a,
			  uint64_t dflt);
/* Replace in place, or append at the end when absent (as sa_update).
 * Errors: ZFUSE_E_INVAL (fixed-length attribute with another length),
 * ZFUSE_E_FBIG (a variable-length value over SA_ATTR_MAX_LEN bytes),
 * ZFUSE_E_RANGE (too many attributes), ZFUSE_E_NOMEM. */
int sa_attrs_set(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, const void *val,
		 uint32_t len);
int sa_attrs_set_u64(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, uint64_t v);
int sa_attrs_set_time(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a, const int64_t ts[2]);
void sa_attrs_remove(const sa_table_t *t, sa_attrs_t *l, enum zpl_attr a);

/*
 * Store the list as object obj's SA bonus (+ spill). The object's bonus
 * type must already be DMU_OT_SA. Unchanged shapes are patched in place;
 * others are laid out anew (layout lookup/registration, split, spill
 * resize or removal). Errors: ZFUSE_E_FBIG (over 128 KiB of attributes),
 * write errors.
 */
int sa_attrs_store(sa_table_t *t, objset_t *os, uint64_t obj, sa_attrs_t *l,
		   struct dmu_tx *tx);

/* The raw SA bytes of a list laid out for a dnode of dnodesize (no
 * layout registration; layout numbers come from lookup_layout). For unit
 * tests of the split rule. */
struct sa_layout_out {
	uint8_t bonus[16384];
	uint64_t bonuslen;
	uint8_t *spill;		/* malloc'd; NULL when no spill */
	uint64_t spill_size;
	unsigned bonus_count, spill_count;	/* attributes in each */
};
int sa_layout_compute(const sa_table_t *t, const sa_attrs_t *l, uint64_t dnodesize,
		      uint64_t old_spill_size, const uint8_t *old_spill,
		      int (*lookup_layout)(void *arg, const uint16_t *attrs, unsigned n, unsigned *num),
		      void *arg, struct sa_layout_out *out);

#endif
