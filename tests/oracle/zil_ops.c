/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zil_ops — the system calls the oracle VM's tools cannot make, for the
 * intent log workload of zil-oracle.sh (built static on the host, run in
 * the guest): rename exchange and whiteout, hole punch, the nodump flag,
 * a project id.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *op = argv[1];
	if (!strcmp(op, "exchange") || !strcmp(op, "whiteout")) {
		unsigned flags = !strcmp(op, "exchange") ? RENAME_EXCHANGE : RENAME_WHITEOUT;
		if (argc < 4 || renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) != 0) {
			perror(op);
			return 1;
		}
		return 0;
	}
	int fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	int rc = 0;
	if (!strcmp(op, "punch") && argc >= 5) {
		rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, atoll(argv[3]), atoll(argv[4]));
	} else if (!strcmp(op, "nodump")) {
		int f = 0;
		rc = ioctl(fd, FS_IOC_GETFLAGS, &f);
		f |= FS_NODUMP_FL;
		if (rc == 0)
			rc = ioctl(fd, FS_IOC_SETFLAGS, &f);
	} else if (!strcmp(op, "projid") && argc >= 4) {
		struct fsxattr fa;
		rc = ioctl(fd, FS_IOC_FSGETXATTR, &fa);
		fa.fsx_projid = (unsigned)atoi(argv[3]);
		if (rc == 0)
			rc = ioctl(fd, FS_IOC_FSSETXATTR, &fa);
	} else {
		rc = -1;
	}
	if (rc)
		perror(op);
	close(fd);
	return rc ? 1 : 0;
}
