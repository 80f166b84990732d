/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zvol.h — volumes inside the backend (zvol.c): the objects of a new
 * volume, the checks and reservation of `zfs create -V`, and volsize
 * changes (zfuse_prop_set's "volsize").
 */
#ifndef ZFUSE_ZVOL_H
#define ZFUSE_ZVOL_H

#include <stddef.h>
#include <stdint.h>
#include "dmu_tx.h"
#include "zfuse/dataset.h"

struct spa;

/* Default volblocksize of OpenZFS 2.3 (ZVOL_DEFAULT_BLOCKSIZE). */
#define ZVOL_DEFAULT_BLOCKSIZE (16ULL << 10)

/* zvol_create_cb: object 1 (data, volblocksize blocks) and object 2 (the
 * "size" ZAP) of a new, empty DMU_OST_ZVOL objset, in the sync task's tx. */
int zvol_create_objects(objset_t *os, uint64_t volsize, uint64_t volblocksize, dmu_tx_t *tx);

/* zvol_check_volblocksize + zvol_check_volsize for volume name (messages
 * as zfs's). Errors: ZFUSE_E_INVAL, ZFUSE_E_UNSUPPORTED (over 128K without
 * large_blocks). */
int zvol_check_sizes(struct spa *spa, const char *name, uint64_t volsize, uint64_t volblocksize);

/* libzfs's zvol_volsize_to_reservation: the refreservation `zfs create -V`
 * gives a volume (data scaled for RAID-Z, times copies, plus its worst-case
 * metadata). `zfs create -V` always passes copies 1 (zfs_ioctl.c). */
uint64_t zvol_reservation(struct spa *spa, uint64_t volsize, uint64_t volblocksize,
			  unsigned copies);

/* zfuse_prop_set of volsize=value with the other settings rest: grow or
 * shrink (freeing the blocks past the new end), moving a non-sparse
 * refreservation along as `zfs set volsize` does. */
int zvol_set_volsize(struct spa *spa, const char *name, const char *value,
		     const struct zfuse_prop_setting *rest, size_t nrest);

#endif
