/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_mount_helper.c — zfuse as mount(8)'s and umount(8)'s helper, so that
 * `mount -t zfuse`, `/etc/fstab` lines and `umount` work as for other FUSE
 * filesystems. mount(8) runs /sbin/mount.TYPE SPEC DIR [-sfnv] [-N NS]
 * [-o OPTS] [-t TYPE]; umount(8) runs /sbin/umount.fuse.zfuse (the type the
 * kernel shows) DIR [-flnrv]. Both are links to the zfuse binary, which
 * main() sends here by the name it was started as. The helper turns
 * mount(8)'s conventions into `zfuse mount`'s: SPEC is an image, a
 * comma-separated list of images or a directory; options only mount(8)
 * and systemd act on are dropped; "rw", which mount(8) passes for
 * "defaults", means "read-write when the pool can be written", not zfuse's
 * stricter -o rw.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"

/* Options mount(8), fstab and systemd keep for themselves. */
static bool userspace_option(const char *o)
{
	static const char *const exact[] = {
		"defaults", "auto", "noauto", "nofail", "_netdev", "user", "nouser", "users",
		"owner", "group", "loop", "rw", NULL,
	};
	static const char *const prefix[] = { "x-", "comment=", "uhelper=", "helper=", NULL };
	for (const char *const *e = exact; *e; e++)
		if (strcmp(o, *e) == 0)
			return true;
	for (const char *const *p = prefix; *p; p++)
		if (strncmp(o, *p, strlen(*p)) == 0)
			return true;
	return false;
}

/* The options zfuse mount should see, comma-joined (may be empty). */
static char *filter_options(const char *opts)
{
	char *copy = strdup(opts ? opts : "");
	char *out = calloc(1, strlen(opts ? opts : "") + 1);
	if (!copy || !out) {
		free(copy);
		free(out);
		return NULL;
	}
	for (char *save = NULL, *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (userspace_option(o))
			continue;
		if (out[0])
			strcat(out, ",");
		strcat(out, o);
	}
	free(copy);
	return out;
}

static void mount_helper_usage(void)
{
	fprintf(stderr, "usage: mount.zfuse IMAGE[,IMAGE...]|DIR MOUNTPOINT [-sfnv] [-o OPTIONS]\n"
			"(run by mount(8); see zfuse(8) for the options)\n");
}

int zf_mount_helper(int argc, char **argv)
{
	const char *spec = NULL, *dir = NULL, *opts = NULL;
	bool fake = false;
	int verbose = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (!spec)
				spec = a;
			else if (!dir)
				dir = a;
			else {
				mount_helper_usage();
				return ZF_EXIT_USAGE;
			}
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			if (*p == 'o' || *p == 't' || *p == 'N') {
				const char *val = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
				if (!val) {
					mount_helper_usage();
					return ZF_EXIT_USAGE;
				}
				if (*p == 'o')
					opts = val;
				else if (*p == 'N') {
					fprintf(stderr, "mount.zfuse: mount namespaces (-N) are not supported\n");
					return ZF_EXIT_FAIL;
				}
				break;	/* -t TYPE: whatever brought us here */
			} else if (*p == 'f') {
				fake = true;
			} else if (*p == 'v') {
				verbose++;
			} else if (*p != 's' && *p != 'n' && *p != 'r' && *p != 'w') {
				/* -s sloppy, -n no mtab (the kernel's is the only one) */
				fprintf(stderr, "mount.zfuse: unknown option '-%c'\n", *p);
				mount_helper_usage();
				return ZF_EXIT_USAGE;
			}
		}
	}
	if (!spec || !dir) {
		mount_helper_usage();
		return ZF_EXIT_USAGE;
	}
	char *kept = filter_options(opts);
	char *specs = strdup(spec);
	char **args = calloc(strlen(spec) + 8, sizeof(*args));
	if (!kept || !specs || !args) {
		fprintf(stderr, "mount.zfuse: out of memory\n");
		free(kept);
		free(specs);
		free(args);
		return ZF_EXIT_FAIL;
	}
	int n = 0;
	args[n++] = "mount";
	if (verbose)
		args[n++] = "-v";
	if (kept[0]) {
		args[n++] = "-o";
		args[n++] = kept;
	}
	for (char *save = NULL, *s = strtok_r(specs, ",", &save); s; s = strtok_r(NULL, ",", &save))
		args[n++] = s;
	args[n++] = (char *)dir;
	args[n] = NULL;
	int rc = ZF_EXIT_OK;
	if (verbose || fake) {
		fprintf(stderr, "mount.zfuse:%s zfuse", fake ? " would run" : "");
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %s", args[i]);
		fprintf(stderr, "\n");
	}
	if (!fake)
		rc = cmd_mount(n, args);
	free(kept);
	free(specs);
	free(args);
	return rc;
}

int zf_umount_helper(int argc, char **argv)
{
	const char *dir = NULL;
	bool lazy = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			if (dir) {
				fprintf(stderr, "usage: umount.fuse.zfuse MOUNTPOINT [-flnrv]\n");
				return ZF_EXIT_USAGE;
			}
			dir = a;
			continue;
		}
		if (strcmp(a, "-t") == 0 || strcmp(a, "-N") == 0) {
			i++;	/* the type is ours; namespaces end in zfuse unmount's error */
			continue;
		}
		if (strchr(a, 'l'))
			lazy = true;
	}
	if (!dir) {
		fprintf(stderr, "usage: umount.fuse.zfuse MOUNTPOINT [-flnrv]\n");
		return ZF_EXIT_USAGE;
	}
	char *args[] = { "unmount", lazy ? "-l" : (char *)dir, lazy ? (char *)dir : NULL, NULL };
	return cmd_unmount(lazy ? 3 : 2, args);
}
