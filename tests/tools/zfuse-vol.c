/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse-vol — a volume through libzfuse alone (no FUSE), for the volume
 * tests: the write side of zfuse_volume_* and zfuse_volume_create.
 *
 * usage: zfuse-vol IMAGE[,IMAGE...] COMMAND ARGS
 *   create VOL SIZE [sparse] [PROP=VALUE...]   zfuse_volume_create
 *   write VOL OFFSET                 stdin to the volume at OFFSET (bytes)
 *   read VOL                         the whole volume to stdout
 *   free VOL OFFSET LENGTH           discard a range
 *   set VOL PROP=VALUE...            zfuse_prop_set (volsize=...)
 *   info VOL                         "size blocksize writable"
 *   crash VOL OFF1 OFF2 FOFF FLEN    stdin's first half at OFF1, sync (the
 *                                    log's chain starts: a txg sync), its
 *                                    second half at OFF2, discard [FOFF,
 *                                    FOFF + FLEN), sync, then exit at once,
 *                                    as if killed after that fsync returned
 * Writes go in 1 MiB calls of zfuse_volume_write, then zfuse_volume_sync.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

static int fail(const char *what, int rc)
{
	fprintf(stderr, "zfuse-vol: %s: %s\n", what, zfuse_strerror(rc));
	return 1;
}

static size_t props_from(char **argv, int argc, struct zfuse_prop_setting *out)
{
	size_t n = 0;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			continue;
		*eq = 0;
		out[n++] = (struct zfuse_prop_setting){ argv[i], eq + 1 };
	}
	return n;
}

static int run(zfuse_pool_t *pool, int argc, char **argv)
{
	const char *cmd = argv[0], *name = argv[1];
	struct zfuse_prop_setting props[32];
	int rc;
	if (strcmp(cmd, "create") == 0 && argc >= 3) {
		bool sparse = argc > 3 && strcmp(argv[3], "sparse") == 0;
		size_t n = props_from(argv + 3, argc - 3 < 32 ? argc - 3 : 32, props);
		rc = zfuse_volume_create(pool, name, strtoull(argv[2], NULL, 0), sparse, props, n);
		return rc ? fail("create", rc) : 0;
	}
	if (strcmp(cmd, "set") == 0 && argc >= 3) {
		size_t n = props_from(argv + 2, argc - 2 < 32 ? argc - 2 : 32, props);
		rc = zfuse_prop_set(pool, name, props, n);
		return rc ? fail("set", rc) : 0;
	}
	zfuse_volume_t *v;
	if ((rc = zfuse_volume_open(pool, name, &v)) != 0)
		return fail("open", rc);
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	int ret = 0;
	if (strcmp(cmd, "write") == 0 && argc == 3) {
		uint64_t off = strtoull(argv[2], NULL, 0);
		ssize_t got;
		while (ret == 0 && (got = read(0, buf, cap)) > 0) {
			ssize_t w = zfuse_volume_write(v, buf, (size_t)got, off);
			if (w < 0)
				ret = fail("write", (int)w);
			off += (uint64_t)got;
		}
		if (ret == 0 && (rc = zfuse_volume_sync(v)) != 0)
			ret = fail("sync", rc);
	} else if (strcmp(cmd, "read") == 0) {
		uint64_t off = 0;
		ssize_t got;
		while ((got = zfuse_volume_read(v, buf, cap, off)) > 0) {
			fwrite(buf, 1, (size_t)got, stdout);
			off += (uint64_t)got;
		}
		if (got < 0)
			ret = fail("read", (int)got);
	} else if (strcmp(cmd, "free") == 0 && argc == 4) {
		rc = zfuse_volume_free(v, strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
		if (rc == 0)
			rc = zfuse_volume_sync(v);
		if (rc)
			ret = fail("free", rc);
	} else if (strcmp(cmd, "crash") == 0 && argc == 6) {
		size_t have = 0;
		ssize_t got;
		while (have < cap && (got = read(0, buf + have, cap - have)) > 0)
			have += (size_t)got;
		size_t half = have / 2;
		ssize_t w = zfuse_volume_write(v, buf, half, strtoull(argv[2], NULL, 0));
		if (w >= 0)
			w = zfuse_volume_sync(v);
		if (w >= 0)
			w = zfuse_volume_write(v, buf + half, have - half, strtoull(argv[3], NULL, 0));
		if (w >= 0)
			w = zfuse_volume_free(v, strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
		if (w >= 0)
			w = zfuse_volume_sync(v);
		if (w < 0)
			return fail("crash", (int)w);
		_exit(0);	/* no close, no export: the log holds the rest */
	} else if (strcmp(cmd, "info") == 0) {
		printf("%" PRIu64 " %" PRIu64 " %d\n", zfuse_volume_size(v),
		       zfuse_volume_blocksize(v), zfuse_volume_writable(v));
	} else {
		fprintf(stderr, "zfuse-vol: bad command\n");
		ret = 2;
	}
	free(buf);
	zfuse_volume_close(v);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: zfuse-vol IMAGE[,IMAGE...] COMMAND VOL ARGS...\n");
		return 2;
	}
	const char *paths[16];
	size_t n = 0;
	for (char *p = strtok(argv[1], ","); p && n < 16; p = strtok(NULL, ","))
		paths[n++] = p;
	struct zfuse_import_opts o = { .paths = paths, .npaths = n, .readwrite = true };
	zfuse_pool_t *pool;
	int rc = zfuse_pool_import(&o, &pool);
	if (rc)
		return fail("import", rc);
	int ret = run(pool, argc - 2, argv + 2);
	zfuse_pool_close(pool);
	return ret;
}
