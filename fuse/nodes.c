/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * nodes.c — the node table (see nodes.h): two chained hash tables over the
 * same nodes, by id for requests and by target for lookups, under one
 * mutex. Critical sections are a few pointer steps; the library is never
 * called with the lock held.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "nodes.h"

#define ZF_ROOT_ID 1	/* FUSE_ROOT_ID; kept here so this file needs no FUSE */

struct zf_nodes {
	pthread_mutex_t lock;
	struct zf_node **by_id, **by_key;
	size_t mask;		/* buckets - 1, a power of two minus one */
	uint64_t count;
	uint64_t next_id;
	struct zf_node *root;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t key_hash(const struct zf_target *t)
{
	return mix((uint64_t)t->kind * 0x9e3779b97f4a7c15ULL ^ mix((uintptr_t)t->fs) ^
		   mix(t->obj + 0x632be59bd9b4e019ULL));
}

static bool key_eq(const struct zf_target *a, const struct zf_target *b)
{
	return a->kind == b->kind && a->fs == b->fs && a->obj == b->obj;
}

static void link_node(struct zf_nodes *tab, struct zf_node *n)
{
	size_t bi = mix(n->id) & tab->mask, bk = key_hash(&n->t) & tab->mask;
	n->next_id = tab->by_id[bi];
	tab->by_id[bi] = n;
	n->next_key = tab->by_key[bk];
	tab->by_key[bk] = n;
}

/* Double the buckets when nodes outnumber them; on ENOMEM keep the old
 * (longer-chained but correct) tables. */
static void grow(struct zf_nodes *tab)
{
	size_t nb = 2 * (tab->mask + 1);
	struct zf_node **bi = calloc(nb, sizeof(*bi)), **bk = calloc(nb, sizeof(*bk));

	if (!bi || !bk) {
		free(bi);
		free(bk);
		return;
	}
	struct zf_node **oi = tab->by_id;
	size_t ob = tab->mask + 1;
	free(tab->by_key);
	tab->by_id = bi;
	tab->by_key = bk;
	tab->mask = nb - 1;
	for (size_t b = 0; b < ob; b++) {
		struct zf_node *n = oi[b];
		while (n) {
			struct zf_node *next = n->next_id;
			link_node(tab, n);
			n = next;
		}
	}
	free(oi);
}

struct zf_nodes *zf_nodes_new(const struct zf_target *root)
{
	struct zf_nodes *tab = calloc(1, sizeof(*tab));

	if (!tab)
		return NULL;
	tab->mask = 1023;
	tab->by_id = calloc(tab->mask + 1, sizeof(*tab->by_id));
	tab->by_key = calloc(tab->mask + 1, sizeof(*tab->by_key));
	tab->root = calloc(1, sizeof(*tab->root));
	if (!tab->by_id || !tab->by_key || !tab->root) {
		free(tab->by_id);
		free(tab->by_key);
		free(tab->root);
		free(tab);
		return NULL;
	}
	pthread_mutex_init(&tab->lock, NULL);
	tab->root->id = ZF_ROOT_ID;
	tab->root->nlookup = 1;
	tab->root->t = *root;
	tab->next_id = ZF_ROOT_ID + 1;
	link_node(tab, tab->root);
	tab->count = 1;
	return tab;
}

void zf_nodes_free(struct zf_nodes *tab)
{
	if (!tab)
		return;
	for (size_t b = 0; b <= tab->mask; b++) {
		struct zf_node *n = tab->by_id[b];
		while (n) {
			struct zf_node *next = n->next_id;
			free(n);
			n = next;
		}
	}
	free(tab->by_id);
	free(tab->by_key);
	pthread_mutex_destroy(&tab->lock);
	free(tab);
}

static struct zf_node *find_id(struct zf_nodes *tab, uint64_t id)
{
	struct zf_node *n = tab->by_id[mix(id) & tab->mask];

	while (n && n->id != id)
		n = n->next_id;
	return n;
}

struct zf_node *zf_nodes_get(struct zf_nodes *tab, uint64_t id)
{
	pthread_mutex_lock(&tab->lock);
	struct zf_node *n = find_id(tab, id);
	pthread_mutex_unlock(&tab->lock);
	return n;
}

static struct zf_node *find_key(struct zf_nodes *tab, const struct zf_target *t)
{
	struct zf_node *n = tab->by_key[key_hash(t) & tab->mask];

	while (n && !key_eq(&n->t, t))
		n = n->next_key;
	return n;
}

uint64_t zf_nodes_find(struct zf_nodes *tab, const struct zf_target *t)
{
	pthread_mutex_lock(&tab->lock);
	struct zf_node *n = find_key(tab, t);
	uint64_t id = n ? n->id : 0;
	pthread_mutex_unlock(&tab->lock);
	return id;
}

size_t zf_nodes_ids_of(struct zf_nodes *tab, const struct zf_fs *fs, uint64_t **ids)
{
	size_t n = 0;

	pthread_mutex_lock(&tab->lock);
	*ids = malloc(tab->count * sizeof(**ids));
	for (size_t b = 0; *ids && b <= tab->mask; b++)
		for (struct zf_node *x = tab->by_id[b]; x; x = x->next_id)
			if (x->t.fs == fs)
				(*ids)[n++] = x->id;
	pthread_mutex_unlock(&tab->lock);
	return n;
}

struct zf_node *zf_nodes_ref(struct zf_nodes *tab, const struct zf_target *t)
{
	pthread_mutex_lock(&tab->lock);
	struct zf_node *n = find_key(tab, t);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (n) {
			n->id = tab->next_id++;
			n->t = *t;
			link_node(tab, n);
			if (++tab->count > tab->mask + 1)
				grow(tab);
		}
	}
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&tab->lock);
	return n;
}

static void unlink_node(struct zf_nodes *tab, struct zf_node *n)
{
	struct zf_node **pp = &tab->by_id[mix(n->id) & tab->mask];
	while (*pp != n)
		pp = &(*pp)->next_id;
	*pp = n->next_id;
	pp = &tab->by_key[key_hash(&n->t) & tab->mask];
	while (*pp != n)
		pp = &(*pp)->next_key;
	*pp = n->next_key;
}

bool zf_nodes_forget(struct zf_nodes *tab, uint64_t id, uint64_t nlookup,
		     struct zf_target *gone)
{
	bool freed = false;

	pthread_mutex_lock(&tab->lock);
	struct zf_node *n = find_id(tab, id);
	if (n && n != tab->root) {
		n->nlookup = nlookup >= n->nlookup ? 0 : n->nlookup - nlookup;
		if (n->nlookup == 0) {
			unlink_node(tab, n);
			tab->count--;
			if (gone)
				*gone = n->t;
			free(n);
			freed = true;
		}
	}
	pthread_mutex_unlock(&tab->lock);
	return freed;
}

void zf_nodes_each(struct zf_nodes *tab, void (*fn)(const struct zf_target *t, void *arg),
		   void *arg)
{
	pthread_mutex_lock(&tab->lock);
	for (size_t b = 0; b <= tab->mask; b++)
		for (struct zf_node *n = tab->by_id[b]; n; n = n->next_id)
			if (n != tab->root)
				fn(&n->t, arg);
	pthread_mutex_unlock(&tab->lock);
}

uint64_t zf_nodes_count(struct zf_nodes *tab)
{
	pthread_mutex_lock(&tab->lock);
	uint64_t c = tab->count;
	pthread_mutex_unlock(&tab->lock);
	return c;
}
