/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zio.h — reading one block pointer: choose a DVA, follow gang headers,
 * verify the checksum (retrying other copies and reconstructions), and
 * decompress to the logical size (pool-layer.md §4.9, §5).
 */
#ifndef ZFUSE_ZIO_H
#define ZFUSE_ZIO_H

#include <stdint.h>
#include "blkptr.h"

struct spa;

/*
 * Read bp into out (bp_get_lsize bytes). Holes read as zeros.
 * Errors: ZFUSE_E_CHECKSUM (no copy verified), ZFUSE_E_IO,
 * ZFUSE_E_MISSING_DEV, ZFUSE_E_DECOMPRESS, ZFUSE_E_CORRUPT (impossible
 * sizes, vdev ids), ZFUSE_E_UNSUPPORTED (unknown checksum/compression),
 * ZFUSE_E_ACCESS (encrypted data).
 */
int zio_read(struct spa *spa, const blkptr_t *bp, void *out);

/*
 * The same for a block of an encrypted objset whose master key is key
 * (NULL: not loaded). With the key, encrypted blocks are decrypted and
 * their MACs verified, authenticated blocks' HMACs checked; without it
 * encrypted data is ZFUSE_E_ACCESS except dnode blocks, returned as
 * stored (bonus buffers sealed). Indirect blocks' checksums of MACs are
 * verified either way. Errors as zio_read, and ZFUSE_E_AUTH.
 */
struct zio_crypt_key;
int zio_read_key(struct spa *spa, const blkptr_t *bp, struct zio_crypt_key *key, void *out);

/* Read the physical (stored) bytes of bp: bp_get_psize bytes, verified.
 * For an inspector's "block" command and for scrubbing one DVA:
 * dva_index < 0 tries every DVA; otherwise only that one. */
int zio_read_phys(struct spa *spa, const blkptr_t *bp, void *out, int dva_index);

/* The 512-byte header of a gang bp (any copy that verifies). */
int zio_read_gang_header(struct spa *spa, const blkptr_t *bp, void *hdr);

/* Whether data (size bytes) matches bp's checksum. */
bool zio_checksum_matches(const struct spa *spa, const blkptr_t *bp, const void *data, uint64_t size);

#ifdef ZFUSE_FUZZING
/* Fuzzing builds only: called with every block zio_read decoded (kind 0:
 * lsize bytes of logical data) and every gang header it read (kind 1: 512
 * bytes, before any byte swap), before anyone else sees it, so that a
 * harness can replace the contents of chosen blocks by fuzzed bytes. */
extern void (*zio_fuzz_patch)(const blkptr_t *bp, int kind, void *data, uint64_t size);
#endif

#endif
