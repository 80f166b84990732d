/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_create.c — `zfuse create [-f] [-s SIZE] [-o PROP=VAL]... [-O
 * PROP=VAL]... POOL VDEV...`: zpool create for image files, through
 * zfuse_pool_create. The vdev words are handed to the library unparsed:
 * the grammar lives in one place (src/spa_create.c). With --from DIR the
 * new pool is then filled from a directory tree (cmd_create_from.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "cmd_create_from.h"
#include "cmd_key.h"
#include "zfuse/zfuse.h"

void cmd_create_usage(FILE *out)
{
	fputs("usage: zfuse create [-f] [-s SIZE] [-o PROP=VALUE]... [-O PROP=VALUE]...\n"
	      "                    [--from DIR] POOL VDEV...\n"
	      "       zfuse create [-d DIR|IMAGE]... [-p] [-o PROP=VALUE]... POOL/FILESYSTEM\n"
	      "       zfuse create [-d DIR|IMAGE]... [-ps] [-b BLOCKSIZE] [-o PROP=VALUE]...\n"
	      "                    -V SIZE POOL/VOLUME\n"
	      "Creates a pool on image files (or block devices), as zpool create does.\n"
	      "  VDEV    FILE | mirror FILE FILE... | raidz[1-3] FILE FILE...; several\n"
	      "          vdevs make a stripe\n"
	      "  -s SIZE create missing files of SIZE bytes (suffixes K, M, G, T)\n"
	      "  -f      use files that belong to another pool\n"
	      "  -o      pool property: ashift=9..16, feature@NAME=enabled|disabled\n"
	      "  -O      root filesystem property: compression, checksum, recordsize,\n"
	      "          copies, atime, dnodesize, xattr, mountpoint, canmount,\n"
	      "          normalization, utf8only, casesensitivity\n"
	      "  --from DIR  fill the root filesystem with a copy of DIR (all file\n"
	      "          types, modes, owners, times, xattrs, hard links, holes)\n"
	      "The other forms create a filesystem or a volume in a pool, as zfs create\n"
	      "does (-s: a sparse volume, -b: its volblocksize; see\n"
	      "zfuse help snapshot for how the pool is found: its daemon, or -d).\n", out);
}

int zf_parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "zfuse create: %s%s\n", level == ZFUSE_LOG_ERROR ? "" : "warning: ", msg);
}

int cmd_create(int argc, char **argv)
{
	if (cmd_create_is_dataset(argc, argv))
		return cmd_create_dataset(argc, argv);
	struct zfuse_create_opts o = { 0 };
	char key_material[ZFUSE_KEY_MATERIAL_MAX + 2];
	const char **pool_props = calloc((size_t)argc, sizeof(char *));
	const char **fs_props = calloc((size_t)argc, sizeof(char *));
	if (!pool_props || !fs_props) {
		free(pool_props);
		free(fs_props);
		return ZF_EXIT_FAIL;
	}
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL;
	int c, rc = ZF_EXIT_OK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fs:o:O:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			from = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 's':
			if (zf_parse_size(optarg, &o.file_size) != 0) {
				fprintf(stderr, "zfuse create: bad size '%s'\n", optarg);
				rc = ZF_EXIT_USAGE;
			}
			break;
		case 'o':
			pool_props[o.npool_props++] = optarg;
			break;
		case 'O':
			fs_props[o.nfs_props++] = optarg;
			break;
		case 'h':
			cmd_create_usage(stdout);
			rc = -1;
			break;
		default:
			rc = ZF_EXIT_USAGE;
		}
	}
	if (rc == ZF_EXIT_OK && argc - optind < 2) {
		fprintf(stderr, "zfuse create: a pool name and at least one device are needed\n");
		rc = ZF_EXIT_USAGE;
	}
	if (rc == ZF_EXIT_USAGE)
		cmd_create_usage(stderr);
	/* A source we cannot even open fails before any device is touched. */
	if (rc == ZF_EXIT_OK && from)
		rc = create_from_check(from);
	if (rc == ZF_EXIT_OK) {
		o.name = argv[optind];
		o.vdev_args = (const char *const *)&argv[optind + 1];
		o.nvdev_args = (size_t)(argc - optind - 1);
		o.pool_props = pool_props;
		o.fs_props = fs_props;
		/* -O keyformat: a new encryption root's key, from its keylocation */
		const char *fmt = NULL, *loc = "prompt";
		for (size_t i = 0; i < o.nfs_props; i++) {
			if (strncmp(fs_props[i], "keyformat=", 10) == 0)
				fmt = fs_props[i] + 10;
			else if (strncmp(fs_props[i], "keylocation=", 12) == 0)
				loc = fs_props[i] + 12;
		}
		if (fmt) {
			enum zfuse_keyformat f = strcmp(fmt, "raw") == 0 ? ZFUSE_KEYFORMAT_RAW :
						 strcmp(fmt, "hex") == 0 ? ZFUSE_KEYFORMAT_HEX :
						 ZFUSE_KEYFORMAT_PASSPHRASE;
			if (zf_key_read_new(o.name, loc, f, key_material, sizeof(key_material),
					    &o.key_len, stderr) != 0)
				rc = ZF_EXIT_FAIL;
			o.key_material = key_material;
		}
	}
	if (rc == ZF_EXIT_OK) {
		/* The pool history records the command as typed, as zpool does. */
		size_t cl = strlen("zfuse") + 1;
		for (int i = 0; i < argc; i++)
			cl += strlen(argv[i]) + 1;
		char *cmdline = malloc(cl);
		if (cmdline) {
			strcpy(cmdline, "zfuse");
			for (int i = 0; i < argc; i++) {
				strcat(cmdline, " ");
				strcat(cmdline, argv[i]);
			}
		}
		o.history_command = cmdline;
		o.log = log_stderr;
		o.log_level = ZFUSE_LOG_WARN;
		int err = zfuse_pool_create(&o);
		free(cmdline);
		if (err) {
			fprintf(stderr, "zfuse create: %s\n", zfuse_strerror(err));
			rc = err == -ZFUSE_E_INVAL ? ZF_EXIT_USAGE : ZF_EXIT_FAIL;
		} else if (from) {
			rc = create_from_fill(&o, from);
		}
	}
	explicit_bzero(key_material, sizeof(key_material));
	free(pool_props);
	free(fs_props);
	return rc < 0 ? ZF_EXIT_OK : rc;
}
