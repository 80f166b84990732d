/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * nodes.h — the table of FUSE node ids the kernel holds.
 *
 * Node ids are ours and never object numbers: one session shows a dataset
 * and its snapshots (and the children composed into it), whose object
 * numbers repeat. Each session has a table of its own. A node is identified
 * by what it shows — (kind, dataset, object) — so the same file reached
 * twice gets the same id, which the kernel requires for directories. Each
 * node counts the kernel's lookups of it and is freed when the kernel has
 * forgotten all of them; ids are never reused, so a stale id can only miss.
 *
 * Fields other than nlookup never change after creation, and the kernel
 * never forgets a node while a request on it is in flight, so a pointer
 * from zf_nodes_get() stays valid for the request that asked for it.
 */
#ifndef ZFUSE_FUSE_NODES_H
#define ZFUSE_FUSE_NODES_H

#include <stdbool.h>
#include <stdint.h>

struct zf_fs;
struct zf_junction;

enum zf_node_kind {
	ZF_NODE_OBJ = 1,	/* a file object of fs (obj) */
	ZF_NODE_CTL_ROOT,	/* fs's .zfs */
	ZF_NODE_CTL_SNAPDIR,	/* fs's .zfs/snapshot */
	ZF_NODE_CTL_SHARES,	/* fs's .zfs/shares (always empty) */
	ZF_NODE_STUB,		/* a directory only a mount path creates (j) */
};

/* What a node shows; also the identity key of the table. */
struct zf_target {
	enum zf_node_kind kind;
	struct zf_fs *fs;		/* STUB: the filesystem holding the path */
	uint64_t obj;			/* OBJ: object number; STUB: its st_ino */
	/* Directories on a mount path (OBJ and STUB; see zfuse_ll.c's
	 * dir_junction()); NULL elsewhere. Not part of the key: a directory
	 * has a single path. */
	const struct zf_junction *j;
};

struct zf_node {
	uint64_t id;
	uint64_t nlookup;
	struct zf_target t;
	struct zf_node *next_id, *next_key;
};

struct zf_nodes;

/* The table, with the mount root as FUSE_ROOT_ID (never forgotten). */
struct zf_nodes *zf_nodes_new(const struct zf_target *root);
void zf_nodes_free(struct zf_nodes *tab);

struct zf_node *zf_nodes_get(struct zf_nodes *tab, uint64_t id);
/* Find or create the node of t and count one lookup; NULL on ENOMEM. */
struct zf_node *zf_nodes_ref(struct zf_nodes *tab, const struct zf_target *t);
/*
 * Count down the kernel's lookups of node id. Returns true when that was
 * the last one and the node is gone; *gone (may be NULL) then receives what
 * it showed, so that the caller can tell the library the object has no user
 * left (an unlinked file is freed then).
 */
bool zf_nodes_forget(struct zf_nodes *tab, uint64_t id, uint64_t nlookup,
		     struct zf_target *gone);
uint64_t zf_nodes_count(struct zf_nodes *tab);
/* The id of the node of t, or 0 when the kernel holds none (no lookup
 * is counted). */
uint64_t zf_nodes_find(struct zf_nodes *tab, const struct zf_target *t);
/* The ids of every node showing something of fs (any kind), in *ids
 * (malloc'd; NULL when none). Returns how many; 0 on ENOMEM too. The ids
 * may be forgotten by the time the caller uses them; they are never
 * reused, so a notification for one only misses. */
size_t zf_nodes_ids_of(struct zf_nodes *tab, const struct zf_fs *fs, uint64_t **ids);
/* Call fn for every node but the root. Only while no request can be in
 * flight (the session is being destroyed): the lock is held throughout. */
void zf_nodes_each(struct zf_nodes *tab, void (*fn)(const struct zf_target *t, void *arg),
		   void *arg);

#endif
