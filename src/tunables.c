/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * tunables.c — the table of tunables and reading them from the
 * environment. Adding a knob means one row here, one field in
 * zfuse_tunables_t and one entry in man/zfuse.8; nothing else in the
 * library may call getenv. The one string knob, ZFUSE_WRITE_LOG, is read
 * after the table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "tunables.h"

struct tunable {
	const char *env;	/* environment variable */
	size_t offset;		/* field in zfuse_tunables_t */
	uint64_t def;
	uint64_t min;		/* smaller values are ignored (default kept) */
	int base;		/* strtoull base: 10, or 0 for C notation */
	const char *meaning;
};

static const struct tunable tunables[] = {
	{ "ZFUSE_TXG_TIMEOUT", offsetof(zfuse_tunables_t, txg_timeout), 5, 1, 10,
	  "Seconds after which the open txg is synced even if little is dirty "
	  "(OpenZFS's zfs_txg_timeout)." },
	{ "ZFUSE_FORCE_GANGING", offsetof(zfuse_tunables_t, force_ganging), 0, 0, 0,
	  "Testing aid: blocks of at least this many bytes are written as gang "
	  "blocks (OpenZFS's metaslab_force_ganging); 0 turns it off." },
	{ "ZFUSE_DIRTY_DATA_MAX", offsetof(zfuse_tunables_t, dirty_data_max), 0, 1 << 20, 0,
	  "Bytes of dirty data a pool holds in memory (OpenZFS's zfs_dirty_data_max): "
	  "a sync starts at 20% of it (or ZFUSE_TXG_SYNC_BYTES, if less), writers are "
	  "delayed from 60% on and wait at 100%. Default: 10% of the memory, at most 4 GiB, at least 256 MiB." },
	{ "ZFUSE_TXG_SYNC_BYTES", offsetof(zfuse_tunables_t, txg_sync_bytes), 128ULL << 20, 1 << 20, 0,
	  "Bytes of dirty data in the open txg at which a sync starts, where that "
	  "is less than 20% of the dirty limit. OpenZFS has only the percentage; "
	  "here every buffer a txg holds beyond what the pipeline recycles is fresh "
	  "memory the kernel must zero (in a VM, the host too): a 2 GiB write "
	  "stream ran at 420-950 MiB/s with 480 MiB txgs, 1000-1180 with 128 MiB." },
	{ "ZFUSE_ZIL", offsetof(zfuse_tunables_t, zil), 1, 0, 10,
	  "1: fsync commits the dataset's intent log (OpenZFS's ZIL); 0: no log "
	  "is written and every fsync waits for a txg sync." },
};

/* Leading decimal digits (base 10) or a C-notation number (base 0); the
 * rest of the string is ignored, as atoi and strtoull did before. */
static int parse(const char *s, int base, uint64_t *out)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-')
		return -1;	/* strtoull would wrap it to a huge value */
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (end == s || errno)
		return -1;
	*out = v;
	return 0;
}

void tunables_load(zfuse_tunables_t *t)
{
	for (size_t i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++) {
		const struct tunable *tu = &tunables[i];
		uint64_t *field = (uint64_t *)((char *)t + tu->offset);
		*field = tu->def;
		const char *s = getenv(tu->env);
		uint64_t v;
		if (s && parse(s, tu->base, &v) == 0 && v >= tu->min)
			*field = v;
	}
	/* Testing aid (vdev_write_log.h): a file to record every device write
	 * and flush of the pool in, for the power-cut harness. A copy, so that
	 * a later setenv cannot pull it from under the pool. */
	const char *log = getenv("ZFUSE_WRITE_LOG");
	t->write_log = log && *log ? strdup(log) : NULL;
}

void tunables_free(zfuse_tunables_t *t)
{
	free(t->write_log);
	t->write_log = NULL;
}
