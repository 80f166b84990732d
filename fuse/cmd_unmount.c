/*
 * cmd_unmount.c — `zfuse unmount MOUNTPOINT`: a zfuse mount may carry the
 * mounts of child datasets inside it, and the kernel refuses to unmount a
 * mount that has mounts below it; so unmount every zfuse mount at or below
 * MOUNTPOINT, deepest first.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cmd.h"
#include "submounts.h"

void cmd_unmount_usage(FILE *out)
{
	fputs("usage: zfuse unmount [-l] MOUNTPOINT\n"
	      "Unmounts a zfuse mount and the mounts of child datasets inside it.\n"
	      "  -l   lazy: detach now, finish when no longer busy\n", out);
}

static int unmount_one(const char *path, bool lazy)
{
	if (geteuid() == 0)
		return umount2(path, lazy ? MNT_DETACH : 0) == 0 ? 0 : -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", path, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EBUSY;
}

int cmd_unmount(int argc, char **argv)
{
	bool lazy = false;
	int i = 1;
	if (i < argc && strcmp(argv[i], "-l") == 0) {
		lazy = true;
		i++;
	}
	if (i + 1 != argc) {
		cmd_unmount_usage(stderr);
		return ZF_EXIT_USAGE;
	}
	char *mp = realpath(argv[i], NULL);
	if (!mp) {
		fprintf(stderr, "zfuse: %s: %s\n", argv[i], strerror(errno));
		return ZF_EXIT_FAIL;
	}
	char **list;
	int rc = zf_mounts_below(mp, &list);
	if (rc) {
		fprintf(stderr, "zfuse: cannot read the mount table: %s\n", strerror(-rc));
		free(mp);
		return ZF_EXIT_FAIL;
	}
	int status = ZF_EXIT_OK;
	if (!list[0]) {
		fprintf(stderr, "zfuse: %s is not a zfuse mount\n", mp);
		status = ZF_EXIT_FAIL;
	}
	for (char **p = list; *p; p++) {
		int r = unmount_one(*p, lazy);
		if (r) {
			fprintf(stderr, "zfuse: cannot unmount %s: %s\n", *p, strerror(-r));
			status = ZF_EXIT_FAIL;
		}
		free(*p);
	}
	free(list);
	free(mp);
	return status;
}
