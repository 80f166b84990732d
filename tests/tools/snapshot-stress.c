/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * snapshot-stress.c — issue 9's concurrency rule through the library:
 * snapshots taken every 100 ms while writer threads create, write (each
 * file in one zfuse_write call), overwrite and remove files. Every
 * snapshot must be a point in time: a file in it is either empty (created,
 * not yet written) or whole, with the content of exactly one write call,
 * never a mix of two or a torn tail.
 *
 * usage: snapshot-stress IMAGE SECONDS
 * Makes pool "ss" on IMAGE (256 MiB), runs, closes; then reopens it
 * read-only and checks every snapshot. Exit 0 when all are consistent.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "zfuse/dataset.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

#define WRITERS 3
#define FILES 24

static zfuse_fs_t *fs;
static atomic_bool stop;
static atomic_uint writes;

/* A file's content: its size and a byte pattern, both from one seed, so
 * one write call's data can be recognised whole. */
static size_t content(unsigned seed, uint8_t *buf)
{
	size_t len = 4096 + (size_t)(seed % 97) * 5000;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i / 512);
	memcpy(buf, &seed, sizeof(seed));
	return len;
}

static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg, seed = id * 1000003u;
	uint8_t *buf = malloc(1 << 20);
	while (!atomic_load(&stop)) {
		char name[32];
		snprintf(name, sizeof(name), "w%u-%u", id, (seed >> 3) % FILES);
		uint64_t ino;
		seed = seed * 1103515245u + 12345u;
		if (seed % 5 == 0) {
			zfuse_unlink(fs, zfuse_fs_root(fs), name);
			continue;
		}
		int rc = zfuse_lookup(fs, zfuse_fs_root(fs), name, &ino);
		if (rc == -ZFUSE_E_NOENT)
			rc = zfuse_create(fs, zfuse_fs_root(fs), name, 0644, 0, 0, &ino, NULL);
		if (rc)
			continue;
		/* Overwrite in place with one call; a shorter content first
		 * truncates (a separate change, a consistent point too). */
		size_t len = content(seed, buf);
		struct zfuse_setattr sa = { .valid = ZFUSE_SET_SIZE, .size = 0 };
		zfuse_setattr(fs, ino, &sa, NULL);
		if (zfuse_write(fs, ino, buf, len, 0) == (ssize_t)len)
			atomic_fetch_add(&writes, 1);
	}
	free(buf);
	return NULL;
}

struct check {
	zfuse_fs_t *snap;
	uint8_t *buf, *want;
	unsigned files, bad;
	const char *snapname;
};

static int check_entry(void *arg, const char *name, uint64_t ino, unsigned type, uint64_t next)
{
	(void)type;
	(void)next;
	struct check *c = arg;
	if (name[0] == '.')
		return 0;
	struct stat st;
	if (zfuse_getattr(c->snap, ino, &st) != 0) {
		fprintf(stderr, "%s: %s: no attributes\n", c->snapname, name);
		c->bad++;
		return 0;
	}
	c->files++;
	if (st.st_size == 0)
		return 0;
	ssize_t n = zfuse_read(c->snap, ino, c->buf, (size_t)st.st_size, 0);
	unsigned seed;
	memcpy(&seed, c->buf, sizeof(seed));
	size_t len = content(seed, c->want);
	if (n != st.st_size || (size_t)n != len || memcmp(c->buf, c->want, len) != 0) {
		fprintf(stderr, "%s: %s: %lld bytes are not one write's data\n", c->snapname, name,
			(long long)st.st_size);
		c->bad++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: snapshot-stress IMAGE SECONDS\n");
		return 2;
	}
	const char *img = argv[1];
	int secs = atoi(argv[2]);
	const char *vdevs[] = { img };
	struct zfuse_create_opts co = { .name = "ss", .vdev_args = vdevs, .nvdev_args = 1,
					.file_size = 256ULL << 20 };
	int rc = zfuse_pool_create(&co);
	if (rc) {
		fprintf(stderr, "create: %s\n", zfuse_strerror(rc));
		return 1;
	}
	const char *paths[] = { img };
	struct zfuse_import_opts io = { .paths = paths, .npaths = 1, .readwrite = true };
	zfuse_pool_t *pool;
	if ((rc = zfuse_pool_import(&io, &pool)) != 0 || (rc = zfuse_fs_open(pool, "ss", &fs)) != 0) {
		fprintf(stderr, "open: %s\n", zfuse_strerror(rc));
		return 1;
	}
	pthread_t t[WRITERS];
	for (uintptr_t i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	unsigned nsnaps = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		char name[32];
		snprintf(name, sizeof(name), "ss@t%u", nsnaps);
		const char *names[] = { name };
		if ((rc = zfuse_snapshot(pool, names, 1)) != 0) {
			fprintf(stderr, "snapshot %s: %s\n", name, zfuse_strerror(rc));
			break;
		}
		nsnaps++;
		usleep(100 * 1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < secs);
	atomic_store(&stop, true);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);
	if (rc)
		return 1;

	io.readwrite = false;
	if ((rc = zfuse_pool_import(&io, &pool)) != 0) {
		fprintf(stderr, "reimport: %s\n", zfuse_strerror(rc));
		return 1;
	}
	struct check c = { .buf = malloc(1 << 20), .want = malloc(1 << 20) };
	unsigned bad = 0, files = 0;
	for (unsigned i = 0; i < nsnaps; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ss@t%u", i);
		c.snapname = name;
		if ((rc = zfuse_fs_open(pool, name, &c.snap)) != 0) {
			fprintf(stderr, "%s: %s\n", name, zfuse_strerror(rc));
			bad++;
			continue;
		}
		c.bad = c.files = 0;
		zfuse_readdir(c.snap, zfuse_fs_root(c.snap), 0, check_entry, &c);
		bad += c.bad;
		files += c.files;
		zfuse_fs_close(c.snap);
	}
	zfuse_pool_close(pool);
	free(c.buf);
	free(c.want);
	printf("%u snapshots in %d s while %u writes ran; %u files checked, %u inconsistent\n",
	       nsnaps, secs, atomic_load(&writes), files, bad);
	return bad || nsnaps < (unsigned)secs ? 1 : 0;
}
