/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * blake3.c — BLAKE3 (the BLAKE3 specification, portable form): 1 KiB
 * chunks of 64-byte blocks compressed with the 7-round function, chunk
 * chaining values merged pairwise into a binary tree with a stack, the
 * root finalized with the ROOT flag. Keyed mode uses the 32-byte key as
 * the initial chaining value.
 *
 * Provenance: written for zfuse from the BLAKE3 specification (O'Connor,
 * Aumasson, Neves, Wilcox-O'Hearn, 2020); no code was taken from the
 * reference implementations or from OpenZFS. Checked against the official
 * test vectors, ZFS's salted vector and fixture blocks checksummed by
 * OpenZFS (tests/unit/test_checksum.c, the checksum fixture).
 */
#include <string.h>
#include "byteorder.h"
#include "zio_checksum_keyed.h"

#define CHUNK_START 1u
#define CHUNK_END 2u
#define PARENT 4u
#define ROOT 8u
#define KEYED_HASH 16u
#define CHUNK_LEN 1024
#define BLOCK_LEN 64

static const uint32_t iv[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};
static const unsigned msg_perm[16] = { 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8 };

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void g(uint32_t *s, int a, int b, int c, int d, uint32_t mx, uint32_t my)
{
	s[a] = s[a] + s[b] + mx;
	s[d] = rotr(s[d] ^ s[a], 16);
	s[c] = s[c] + s[d];
	s[b] = rotr(s[b] ^ s[c], 12);
	s[a] = s[a] + s[b] + my;
	s[d] = rotr(s[d] ^ s[a], 8);
	s[c] = s[c] + s[d];
	s[b] = rotr(s[b] ^ s[c], 7);
}

static void compress(const uint32_t cv[8], const uint8_t block[64], uint32_t block_len,
		     uint64_t counter, uint32_t flags, uint32_t out[16])
{
	uint32_t m[16], s[16];
	for (int i = 0; i < 16; i++)
		m[i] = le32(block + 4 * i);
	memcpy(s, cv, 32);
	memcpy(s + 8, iv, 16);
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = block_len;
	s[15] = flags;
	for (int r = 0; r < 7; r++) {
		g(s, 0, 4, 8, 12, m[0], m[1]);
		g(s, 1, 5, 9, 13, m[2], m[3]);
		g(s, 2, 6, 10, 14, m[4], m[5]);
		g(s, 3, 7, 11, 15, m[6], m[7]);
		g(s, 0, 5, 10, 15, m[8], m[9]);
		g(s, 1, 6, 11, 12, m[10], m[11]);
		g(s, 2, 7, 8, 13, m[12], m[13]);
		g(s, 3, 4, 9, 14, m[14], m[15]);
		uint32_t pm[16];
		for (int i = 0; i < 16; i++)
			pm[i] = m[msg_perm[i]];
		memcpy(m, pm, sizeof(m));
	}
	for (int i = 0; i < 8; i++) {
		out[i] = s[i] ^ s[i + 8];
		out[i + 8] = s[i + 8] ^ cv[i];
	}
}

/* The last compression of a node, kept so the root can be finalized. */
struct node {
	uint32_t cv[8];
	uint8_t block[64];
	uint32_t block_len;
	uint64_t counter;
	uint32_t flags;
};

static void node_cv(const struct node *n, uint32_t cv[8])
{
	uint32_t out[16];
	compress(n->cv, n->block, n->block_len, n->counter, n->flags, out);
	memcpy(cv, out, 32);
}

/* Chunk `index` of data (len <= 1024) as a node (not yet compressed last block). */
static void chunk_node(const uint32_t key[8], uint32_t base_flags, const uint8_t *data, size_t len,
		       uint64_t index, struct node *n)
{
	uint32_t cv[8];
	memcpy(cv, key, 32);
	size_t nblocks = len ? (len + BLOCK_LEN - 1) / BLOCK_LEN : 1;
	for (size_t b = 0; b + 1 < nblocks; b++) {
		uint32_t out[16];
		compress(cv, data + b * BLOCK_LEN, BLOCK_LEN, index,
			 base_flags | (b == 0 ? CHUNK_START : 0), out);
		memcpy(cv, out, 32);
	}
	size_t last = (nblocks - 1) * BLOCK_LEN;
	memcpy(n->cv, cv, 32);
	memset(n->block, 0, sizeof(n->block));
	memcpy(n->block, data + last, len - last);
	n->block_len = (uint32_t)(len - last);
	n->counter = index;
	n->flags = base_flags | CHUNK_END | (nblocks == 1 ? CHUNK_START : 0);
}

static void parent_node(const uint32_t key[8], uint32_t base_flags, const uint32_t left[8],
			const uint32_t right[8], struct node *n)
{
	memcpy(n->cv, key, 32);
	memcpy(n->block, left, 32);	/* LE host: words are their bytes */
	memcpy(n->block + 32, right, 32);
	n->block_len = BLOCK_LEN;
	n->counter = 0;
	n->flags = base_flags | PARENT;
}

void blake3(const uint8_t *key32, const void *msg, size_t len, uint8_t out[32])
{
	uint32_t key[8];
	uint32_t base = 0;
	if (key32) {
		for (int i = 0; i < 8; i++)
			key[i] = le32(key32 + 4 * i);
		base = KEYED_HASH;
	} else {
		memcpy(key, iv, 32);
	}
	const uint8_t *data = msg;
	/* Stack of subtree chaining values; merged whenever the number of
	 * completed chunks says two equal-sized subtrees exist. */
	uint32_t stack[54][8];
	int depth = 0;
	uint64_t nchunks = len ? (len + CHUNK_LEN - 1) / CHUNK_LEN : 1;
	struct node n = { 0 };
	for (uint64_t c = 0; c < nchunks; c++) {
		size_t off = (size_t)c * CHUNK_LEN;
		size_t clen = len - off > CHUNK_LEN ? CHUNK_LEN : len - off;
		chunk_node(key, base, data + off, clen, c, &n);
		if (c + 1 == nchunks)
			break;
		uint32_t cv[8];
		node_cv(&n, cv);
		uint64_t total = c + 1;
		while ((total & 1) == 0) {
			struct node p;
			parent_node(key, base, stack[--depth], cv, &p);
			node_cv(&p, cv);
			total >>= 1;
		}
		memcpy(stack[depth++], cv, 32);
	}
	/* Fold the stack into the last chunk, right to left. */
	while (depth > 0) {
		uint32_t cv[8];
		node_cv(&n, cv);
		parent_node(key, base, stack[--depth], cv, &n);
	}
	uint32_t o[16];
	compress(n.cv, n.block, n.block_len, n.counter, n.flags | ROOT, o);
	for (int i = 0; i < 8; i++)
		memcpy(out + 4 * i, &o[i], 4);
}
