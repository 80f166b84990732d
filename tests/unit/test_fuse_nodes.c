/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_fuse_nodes.c — the daemon's bookkeeping that needs no kernel: the
 * node table (fuse/nodes.c) counts the kernel's lookups per target, hands
 * back what a node showed when its last lookup is forgotten (the daemon
 * then lets the library free an unlinked file), never reuses ids, and
 * walks every node but the root; and the unmount socket (fuse/mtab.c):
 * a waiter connected to a daemon's socket is released when the daemon's
 * descriptor goes, and not before.
 */
#include <check.h>
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "nodes.h"
#include "mtab.h"

/* Stand-ins: the table only compares these pointers. */
static int fs_a, fs_b;

static struct zf_target obj(void *fs, uint64_t o)
{
	struct zf_target t = { .kind = ZF_NODE_OBJ, .fs = fs, .obj = o };
	return t;
}

START_TEST(test_forget_returns_target)
{
	struct zf_target root = obj(&fs_a, 34);
	struct zf_nodes *tab = zf_nodes_new(&root);
	ck_assert_ptr_nonnull(tab);

	struct zf_target t = obj(&fs_a, 100);
	struct zf_node *n1 = zf_nodes_ref(tab, &t);
	struct zf_node *n2 = zf_nodes_ref(tab, &t);
	ck_assert_ptr_eq(n1, n2);		/* same target, same node */
	uint64_t id = n1->id;
	struct zf_target other = obj(&fs_b, 100);	/* same number, other dataset */
	struct zf_node *n3 = zf_nodes_ref(tab, &other);
	ck_assert_uint_ne(n3->id, id);

	struct zf_target gone = { 0 };
	ck_assert(!zf_nodes_forget(tab, id, 1, &gone));	/* one lookup left */
	ck_assert_int_eq(gone.kind, 0);
	ck_assert(zf_nodes_forget(tab, id, 1, &gone));
	ck_assert_int_eq(gone.kind, ZF_NODE_OBJ);
	ck_assert_ptr_eq(gone.fs, &fs_a);
	ck_assert_uint_eq(gone.obj, 100);
	ck_assert_ptr_null(zf_nodes_get(tab, id));
	ck_assert(!zf_nodes_forget(tab, id, 1, &gone));	/* stale id: a miss */

	/* Over-forgetting frees; the root is never freed. */
	ck_assert(zf_nodes_forget(tab, n3->id, 5, NULL));
	ck_assert(!zf_nodes_forget(tab, 1, 1000, &gone));
	ck_assert_ptr_nonnull(zf_nodes_get(tab, 1));

	/* The object comes back (a new lookup): a new id. */
	struct zf_node *again = zf_nodes_ref(tab, &t);
	ck_assert_uint_gt(again->id, id);
	zf_nodes_free(tab);
}
END_TEST

static void count_obj(const struct zf_target *t, void *arg)
{
	uint64_t *sum = arg;
	ck_assert_int_eq(t->kind, ZF_NODE_OBJ);
	*sum += t->obj;
}

START_TEST(test_each_skips_root)
{
	struct zf_target root = obj(&fs_a, 34);
	struct zf_nodes *tab = zf_nodes_new(&root);
	uint64_t want = 0, sum = 0;

	/* Enough to make the table grow its buckets. */
	for (uint64_t o = 1000; o < 4000; o++) {
		struct zf_target t = obj(&fs_a, o);
		ck_assert_ptr_nonnull(zf_nodes_ref(tab, &t));
		want += o;
	}
	ck_assert_uint_eq(zf_nodes_count(tab), 3001);
	zf_nodes_each(tab, count_obj, &sum);
	ck_assert_uint_eq(sum, want);
	zf_nodes_free(tab);
}
END_TEST

START_TEST(test_daemon_socket)
{
	/* A device number no real mount has. */
	dev_t dev = makedev(4095, (unsigned)getpid() & 0xfffff);
	struct zf_daemon_watch w1, w2, w3;

	ck_assert_int_eq(zf_daemon_connect(dev, 0, &w1), -ECONNREFUSED);
	int lfd = zf_daemon_listen(dev, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_lt(zf_daemon_listen(dev, 0), 0);	/* one daemon per mount */
	ck_assert_int_eq(zf_daemon_connect(dev, 0, &w1), 0);
	ck_assert_int_eq(zf_daemon_connect(dev, 0, &w2), 0);
	ck_assert_int_eq(w1.pidfd, -1);		/* the listener is this process */
	ck_assert_int_eq(zf_daemon_wait(&w1, 100), -ETIMEDOUT);	/* still there */
	close(lfd);						/* the daemon exits */
	ck_assert_int_eq(zf_daemon_wait(&w2, 5000), 0);
	ck_assert_int_eq(zf_daemon_connect(dev, 0, &w3), -ECONNREFUSED);
	/* Named by the mount's unique id: another mount of the same device
	 * number (reused once the first was gone) has another name. */
	lfd = zf_daemon_listen(dev, 77);
	ck_assert_int_ge(lfd, 0);
	int l0 = zf_daemon_listen(dev, 0);	/* the device number's name is free */
	ck_assert_int_ge(l0, 0);
	close(l0);
	ck_assert_int_eq(zf_daemon_connect(dev, 78, &w3), -ECONNREFUSED);
	ck_assert_int_eq(zf_daemon_connect(dev, 77, &w3), 0);
	close(lfd);
	ck_assert_int_eq(zf_daemon_wait(&w3, 5000), 0);
}
END_TEST

/*
 * A daemon that closes its socket before it lets go of its pool (the exit
 * of one whose sessions did not stop): the wait lasts until the process is
 * gone, and the lock it held on the image with it.
 */
START_TEST(test_daemon_wait_outlasts_socket)
{
	dev_t dev = makedev(4094, (unsigned)getpid() & 0xfffff);
	char img[] = "/tmp/zfuse-daemon-lock.XXXXXX";
	int up[2], down[2];	/* child to parent, parent to child */
	int ifd = mkstemp(img);
	ck_assert_int_ge(ifd, 0);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(img, O_RDWR);
		int lfd = zf_daemon_listen(dev, 0);
		if (fd < 0 || lfd < 0 || flock(fd, LOCK_EX) != 0)
			_exit(1);
		char c = 1, g;
		if (write(up[1], &c, 1) != 1 || read(down[0], &g, 1) != 1)
			_exit(1);
		close(lfd);
		usleep(300 * 1000);
		_exit(0);	/* the lock goes with the process */
	}
	char c;
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	struct zf_daemon_watch w;
	ck_assert_int_eq(zf_daemon_connect(dev, 0, &w), 0);
	ck_assert_int_ge(w.pidfd, 0);
	ck_assert_int_eq(write(down[1], &c, 1), 1);	/* "unmounted" */
	ck_assert_int_eq(zf_daemon_wait(&w, 5000), 0);
	ck_assert_int_eq(flock(ifd, LOCK_EX | LOCK_NB), 0);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(ifd);
	unlink(img);
	for (int i = 0; i < 2; i++) {
		close(up[i]);
		close(down[i]);
	}
}
END_TEST

int main(void)
{
	return RUN_TESTS("fuse_nodes", "fuse_nodes", 0, test_forget_returns_target, test_each_skips_root,
			 test_daemon_socket, test_daemon_wait_outlasts_socket);
}
