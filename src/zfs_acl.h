/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_acl.h — ACLs of new objects (zfs_acl.c). Private to libzfuse.
 */
#ifndef ZFUSE_ZFS_ACL_H
#define ZFUSE_ZFS_ACL_H

#include <stdbool.h>
#include <stdint.h>

/* The mode-equivalent ACL OpenZFS gives a new object (3 to 6 ACEs of 8
 * bytes into out); returns the number of ACEs. */
unsigned zpl_trivial_acl(uint64_t mode, bool isdir, uint8_t out[48]);

/* Byte order (zfs_byteswap.c): the znode_phys_t bonus with its embedded
 * ACL, ACL objects of the old ace_t layout and of the FUID layout. */
#include <stddef.h>
void zfs_znode_byteswap(void *buf, size_t size);
void zfs_oldacl_byteswap(void *buf, size_t size);
void zfs_acl_byteswap(void *buf, size_t size);

#endif
