/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_unmount.c — `zfuse unmount MOUNTPOINT`: a zfuse mount carries the
 * mounts of its child datasets inside it, and the kernel refuses to unmount
 * a mount that has mounts below it; so unmount every zfuse mount at or
 * below MOUNTPOINT, deepest first (the daemon exits once its top mount is
 * gone). The mount table is read from /proc/self/mountinfo; nothing asks
 * the mounts themselves, so a dead one can be unmounted too.
 *
 * The daemon of a read-write mount writes the pool's last changes after
 * its mount is gone; unless lazy, the command waits for the daemon to exit
 * (zf_daemon_wait), so that the pool is complete when it returns.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "cmd.h"
#include "mtab.h"

/* How long an unmount waits for the daemon to finish writing, and after
 * how long it says it is waiting. */
#define ZF_DAEMON_WAIT_MS (600 * 1000)
#define ZF_QUIET_WAIT_MS 2000

void cmd_unmount_usage(FILE *out)
{
	fputs("usage: zfuse unmount [-l] MOUNTPOINT\n"
	      "Unmounts a zfuse mount and the mounts of child datasets inside it.\n"
	      "  -l   lazy: detach now, finish when no longer busy (and do not wait\n"
	      "       for the daemon to write the pool's last changes)\n", out);
}

/*
 * The absolute form of path without asking any filesystem (a dead FUSE
 * mount answers ENOTCONN to everything): the current directory prepended,
 * "." and ".." and repeated slashes resolved by name.
 */
static char *lexical_abspath(const char *path)
{
	char *cwd = NULL, *buf, *out;
	size_t o = 0;

	if (path[0] != '/' && !(cwd = getcwd(NULL, 0)))
		return NULL;
	if (asprintf(&buf, "%s/%s", cwd ? cwd : "", path) < 0) {
		free(cwd);
		return NULL;
	}
	free(cwd);
	out = malloc(strlen(buf) + 2);
	if (!out) {
		free(buf);
		return NULL;
	}
	for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		out[o++] = '/';
		size_t n = strlen(c);
		memcpy(out + o, c, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(buf);
	return out;
}

static void free_list(char **list)
{
	for (char **p = list; p && *p; p++)
		free(*p);
	free(list);
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
	/* The name as given first (it works on a dead mount), then with
	 * symlinks resolved. */
	char *mp = lexical_abspath(argv[i]);
	char **list = NULL;
	int rc = mp ? zf_mounts_below(mp, &list) : -ENOMEM;
	if (rc == 0 && !list[0]) {
		char *real = realpath(argv[i], NULL);
		if (!real) {
			fprintf(stderr, "zfuse: %s: %s\n", argv[i], strerror(errno));
			free_list(list);
			free(mp);
			return ZF_EXIT_FAIL;
		}
		free(mp);
		mp = real;
		free_list(list);
		list = NULL;
		rc = zf_mounts_below(mp, &list);
	}
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
	size_t nlist = 0;
	while (list[nlist])
		nlist++;
	struct zf_daemon_watch *daemons = calloc(nlist + 1, sizeof(*daemons));
	size_t ndaemons = 0;
	for (char **p = list; *p; p++) {
		dev_t before, after;
		bool known = zf_mount_dev(*p, &before) == 0;
		/* Before the mount goes: its daemon stops listening after. */
		if (known && !lazy && daemons &&
		    zf_daemon_connect(before, zf_mount_unique_id(*p), &daemons[ndaemons]) == 0)
			ndaemons++;
		int r = zf_unmount(*p, lazy, false);
		/* Below a dead mount the path walk itself fails (ENOTCONN),
		 * and the kernel drops the mounts on the dentry it could not
		 * revalidate: what counts is whether the mount is gone. */
		if (r && known && (zf_mount_dev(*p, &after) != 0 || after != before))
			r = 0;
		if (r) {
			fprintf(stderr, "zfuse: cannot unmount %s: %s\n", *p, strerror(-r));
			status = ZF_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < ndaemons; i++) {
		/* A failed unmount leaves its daemon serving: no wait then. */
		struct zf_daemon_watch *w = &daemons[i];
		if (status != ZF_EXIT_OK) {
			close(w->sock);
			if (w->pidfd >= 0)
				close(w->pidfd);
			continue;
		}
		struct pollfd pf = zf_daemon_watch_poll(w);
		if (poll(&pf, 1, ZF_QUIET_WAIT_MS) == 0)
			fprintf(stderr, "zfuse: waiting for the daemon to write the pool's last "
				"changes\n");
		if (zf_daemon_wait(w, ZF_DAEMON_WAIT_MS) != 0)
			fprintf(stderr, "zfuse: the daemon of %s is still running after %d s\n", mp,
				ZF_DAEMON_WAIT_MS / 1000);
	}
	free(daemons);
	free_list(list);
	free(mp);
	return status;
}
