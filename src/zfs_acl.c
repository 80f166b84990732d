/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfs_acl.c — the trivial ACL: the mode-equivalent NFSv4 ACL OpenZFS
 * stores (DACL_ACES) with every new object and after every chmod. New
 * filesystems and new files must get the same bytes, so one builder
 * serves both (object-layer.md §8.13).
 */
#include <stdbool.h>
#include <stdint.h>
#include "zfs_acl.h"

#define ACE_ALLOW 0
#define ACE_DENY 1
#define ACE_OWNER 0x1000
#define ACE_OWNING_GROUP 0x2040
#define ACE_EVERYONE 0x4000
#define ACE_READ_DATA 0x1
#define ACE_WRITE_DATA 0x2
#define ACE_APPEND_DATA 0x4
#define ACE_EXECUTE 0x20
#define ACE_DELETE_CHILD 0x40
#define ACE_OWNER_BASE 0x1E0198
#define ACE_OTHER_BASE 0x120088

struct ace {
	uint16_t type, flags;
	uint32_t mask;
};

/* The mode-equivalent ACL of acl_trivial_access_masks / zfs_acl_chmod:
 * optional allow0/deny1/deny2, then owner@, group@, everyone@. */
unsigned zpl_trivial_acl(uint64_t mode, bool isdir, uint8_t out[48])
{
	uint32_t r = ACE_READ_DATA, w = ACE_WRITE_DATA | ACE_APPEND_DATA, x = ACE_EXECUTE;
	if (isdir)
		w |= ACE_DELETE_CHILD;
	uint32_t deny1 = 0, deny2 = 0, allow0 = 0;
	uint32_t owner = ACE_OWNER_BASE, group = ACE_OTHER_BASE, everyone = ACE_OTHER_BASE;
	const uint32_t bits[3] = { r, w, x };
	for (int i = 0; i < 3; i++) {
		unsigned shift = 2 - i;	/* r 4, w 2, x 1 */
		bool u = mode & (0100u << shift), g = mode & (010u << shift), o = mode & (01u << shift);
		if (!u && (g || o))
			deny1 |= bits[i];
		if (!g && o)
			deny2 |= bits[i];
		if (u && !g && o)
			allow0 |= bits[i];
		if (u)
			owner |= bits[i];
		if (g)
			group |= bits[i];
		if (o)
			everyone |= bits[i];
	}
	struct ace ace[6];
	unsigned n = 0;
	if (allow0)
		ace[n++] = (struct ace){ ACE_ALLOW, ACE_OWNER, allow0 };
	if (deny1)
		ace[n++] = (struct ace){ ACE_DENY, ACE_OWNER, deny1 };
	if (deny2)
		ace[n++] = (struct ace){ ACE_DENY, ACE_OWNING_GROUP, deny2 };
	ace[n++] = (struct ace){ ACE_ALLOW, ACE_OWNER, owner };
	ace[n++] = (struct ace){ ACE_ALLOW, ACE_OWNING_GROUP, group };
	ace[n++] = (struct ace){ ACE_ALLOW, ACE_EVERYONE, everyone };
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = out + 8 * i;
		p[0] = ace[i].type & 0xff;
		p[1] = (uint8_t)(ace[i].type >> 8);
		p[2] = ace[i].flags & 0xff;
		p[3] = (uint8_t)(ace[i].flags >> 8);
		p[4] = ace[i].mask & 0xff;
		p[5] = (ace[i].mask >> 8) & 0xff;
		p[6] = (ace[i].mask >> 16) & 0xff;
		p[7] = (uint8_t)(ace[i].mask >> 24);
	}
	return n;
}

