/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * mtab.c — reading /proc/self/mountinfo, unmounting, and waiting for the
 * daemon of an unmounted mount (see mtab.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "mtab.h"

extern char **environ;

/* Unescape mountinfo's octal escapes (\040 for space) in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

struct mi_entry {
	unsigned maj, min;
	char *mountpoint;	/* unescaped, in the line buffer */
	char *fstype;
	char *source;		/* unescaped, or NULL */
};

/* Split one mountinfo line (modified in place):
 * id parent maj:min root mountpoint opts [optional...] - fstype source sopts */
static bool mi_parse(char *line, struct mi_entry *e)
{
	char *fields[5], *save = NULL, *tok = strtok_r(line, " \n", &save);
	int i = 0;

	for (; tok && i < 5; tok = strtok_r(NULL, " \n", &save))
		fields[i++] = tok;
	if (i < 5 || sscanf(fields[2], "%u:%u", &e->maj, &e->min) != 2)
		return false;
	e->fstype = e->source = NULL;
	for (; tok; tok = strtok_r(NULL, " \n", &save)) {
		if (strcmp(tok, "-") == 0) {
			e->fstype = strtok_r(NULL, " \n", &save);
			e->source = e->fstype ? strtok_r(NULL, " \n", &save) : NULL;
			break;
		}
	}
	if (!e->fstype)
		return false;
	e->mountpoint = fields[4];
	unescape(e->mountpoint);
	if (e->source)
		unescape(e->source);
	return true;
}

static bool is_zfuse(const struct mi_entry *e)
{
	if (strcmp(e->fstype, "fuse.zfuse") == 0)
		return true;
	return strncmp(e->fstype, "fuse", 4) == 0 && e->source &&
	       strncmp(e->source, "zfuse:", 6) == 0;
}

static size_t depth(const char *p)
{
	size_t d = 0;
	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int depth_cmp(const void *a, const void *b)
{
	size_t da = depth(*(char *const *)a), db = depth(*(char *const *)b);
	return da < db ? 1 : da > db ? -1 : 0;
}

int zf_mount_dataset(const char *path, char **dataset)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;
	*dataset = NULL;
	while (getline(&line, &cap, f) > 0) {
		struct mi_entry e;
		if (!mi_parse(line, &e) || strcmp(e.mountpoint, path) != 0)
			continue;
		/* a later line is a mount on top of the earlier ones */
		free(*dataset);
		*dataset = NULL;
		rc = -ENOENT;
		if (is_zfuse(&e) && e.source && strncmp(e.source, "zfuse:", 6) == 0)
			rc = (*dataset = strdup(e.source + 6)) ? 0 : -ENOMEM;
	}
	free(line);
	fclose(f);
	return rc;
}

int zf_mounts_below(const char *mountpoint, char ***out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0, n = 0, len = strlen(mountpoint);
	int rc = 0;
	char **v = calloc(1, sizeof(*v));

	if (len == 1 && mountpoint[0] == '/')
		len = 0;	/* everything is below / */
	while (v && getline(&line, &cap, f) > 0) {
		struct mi_entry e;
		if (!mi_parse(line, &e) || !is_zfuse(&e))
			continue;
		const char *mp = e.mountpoint;
		if (strncmp(mp, mountpoint, len) != 0 || (mp[len] && mp[len] != '/'))
			continue;
		char **nv = realloc(v, (n + 2) * sizeof(*nv));
		if (!nv || !(nv[n] = strdup(mp))) {
			v = nv;
			rc = -ENOMEM;
			break;
		}
		v = nv;
		v[++n] = NULL;
	}
	free(line);
	fclose(f);
	if (!v)
		return -ENOMEM;
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	/* The order within a depth does not matter: siblings are independent,
	 * and a path mounted over twice is listed (and unmounted) twice. */
	if (n > 1)
		qsort(v, n, sizeof(*v), depth_cmp);
	*out = v;
	return 0;
}

int zf_mount_dev(const char *path, dev_t *dev)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;

	/* Later lines are later mounts: the last match is on top. */
	while (getline(&line, &cap, f) > 0) {
		struct mi_entry e;
		if (mi_parse(line, &e) && strcmp(e.mountpoint, path) == 0) {
			*dev = makedev(e.maj, e.min);
			rc = 0;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int zf_unmount(const char *path, bool lazy, bool quiet)
{
	if (geteuid() == 0)
		return umount2(path, lazy ? MNT_DETACH : 0) == 0 ? 0 : -errno;

	char opt[8] = "-u";
	if (lazy)
		strcat(opt, "z");
	if (quiet)
		strcat(opt, "q");
	char *argv[] = { "fusermount3", opt, "--", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int err = posix_spawnp(&pid, "fusermount3", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* fusermount3 says why on stderr; its status tells only that it failed. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EBUSY;
}

/* ---------------------------------------------------------------------- */
/* The daemon's socket */

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U	/* Linux 6.8 */
#endif

uint64_t zf_mount_unique_id(const char *path)
{
	struct statx stx;
	/* DONT_SYNC: the attributes cached are enough, so that no request
	 * goes to a FUSE server (it may be this very process, not serving
	 * yet, or a dead one). */
	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT, STATX_MNT_ID_UNIQUE,
		  &stx) != 0 || !(stx.stx_mask & STATX_MNT_ID_UNIQUE))
		return 0;
	return stx.stx_mnt_id;
}

static socklen_t daemon_addr(dev_t dev, uint64_t mnt_id, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract (a leading NUL): nothing in the filesystem to clean up. */
	int n = mnt_id ? snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "zfuse-mount-id-%llu",
				  (unsigned long long)mnt_id)
		       : snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "zfuse-mount-%u:%u",
				  major(dev), minor(dev));
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int zf_daemon_listen(dev_t dev, uint64_t mnt_id)
{
	struct sockaddr_un sa;
	socklen_t len = daemon_addr(dev, mnt_id, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) != 0 || listen(fd, 64) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* A pidfd of the process at the other end of sock, or -1. */
static int peer_pidfd(int sock)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0 ||
	    cred.pid == getpid())
		return -1;
	long fd = syscall(SYS_pidfd_open, cred.pid, 0);
	return fd >= 0 ? (int)fd : -1;
}

int zf_daemon_listen_mount(dev_t dev, const char *path)
{
	uint64_t id = zf_mount_unique_id(path);
	int by_dev = zf_daemon_listen(dev, 0);
	if (!id)
		return by_dev;
	int by_id = zf_daemon_listen(dev, id);
	return by_id >= 0 ? by_id : by_dev;
}

int zf_daemon_connect(dev_t dev, uint64_t mnt_id, struct zf_daemon_watch *w)
{
	struct sockaddr_un sa;
	socklen_t len = daemon_addr(dev, mnt_id, &sa);
	/* Non-blocking: a full backlog must not hang the unmount. */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	w->sock = w->pidfd = -1;
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	w->sock = fd;
	/* Taken now, while the daemon surely lives: its pid cannot have been
	 * reused by another process. */
	w->pidfd = peer_pidfd(fd);
	return 0;
}

struct pollfd zf_daemon_watch_poll(const struct zf_daemon_watch *w)
{
	/* The pidfd is readable once the process has exited, files and locks
	 * released; the socket (the daemon never writes) has an event once it
	 * is closed. */
	if (w->pidfd >= 0)
		return (struct pollfd){ .fd = w->pidfd, .events = POLLIN };
	return (struct pollfd){ .fd = w->sock, .events = POLLIN | POLLRDHUP };
}

int zf_daemon_wait(struct zf_daemon_watch *w, int timeout_ms)
{
	struct pollfd p = zf_daemon_watch_poll(w);
	int rc;

	while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	int err = rc > 0 ? 0 : rc == 0 ? -ETIMEDOUT : -errno;
	close(w->sock);
	if (w->pidfd >= 0)
		close(w->pidfd);
	w->sock = w->pidfd = -1;
	return err;
}
