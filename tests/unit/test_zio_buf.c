/* SPDX-License-Identifier: CDDL-1.0 */
/* test_zio_buf.c — the block buffer allocator (zio_buf.h): live buffers
 * of every size never overlap (each is filled with its own byte and
 * checked when freed, under random allocation orders and from two threads
 * at once), freed buffers are reused rather than mapped afresh, and
 * emptied memory above the low mark goes back after its decay, never
 * above the high mark. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check_main.h"
#include "zio_buf.h"

struct live {
	uint8_t *p;
	uint64_t size;
	uint8_t tag;
};

static const uint64_t sizes[] = { 4096, 65536, 131072, 262144, 524288, 1048576, 2097152,
				  100000, 131072, 131072 };

/* Every byte of a buffer still holds its tag. */
static int intact(const struct live *l)
{
	for (uint64_t i = 0; i < l->size; i += 509)
		if (l->p[i] != l->tag)
			return 0;
	return l->p[l->size - 1] == l->tag && l->p[0] == l->tag;
}

/* Random allocations and frees with n buffers live at most; returns the
 * number of damaged buffers found. */
static int churn(unsigned seed, unsigned rounds, unsigned n)
{
	struct live *v = calloc(n, sizeof(*v));
	int bad = 0;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned i = (unsigned)rand_r(&seed) % n;
		if (v[i].p) {
			bad += !intact(&v[i]);
			zio_data_buf_free(v[i].p, v[i].size);
			v[i].p = NULL;
		} else {
			v[i].size = sizes[(unsigned)rand_r(&seed) % (sizeof(sizes) / sizeof(sizes[0]))];
			v[i].p = zio_data_buf_alloc(v[i].size);
			if (!v[i].p)
				return -1;
			v[i].tag = (uint8_t)(1 + r % 251);
			memset(v[i].p, v[i].tag, v[i].size);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (v[i].p) {
			bad += !intact(&v[i]);
			zio_data_buf_free(v[i].p, v[i].size);
		}
	}
	free(v);
	return bad;
}

START_TEST(test_no_overlap)
{
	ck_assert_int_eq(churn(1, 20000, 200), 0);
}
END_TEST

static void *churn_thread(void *arg)
{
	return (void *)(intptr_t)churn((unsigned)(intptr_t)arg, 20000, 150);
}

START_TEST(test_no_overlap_threads)
{
	pthread_t t[2];
	for (intptr_t i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_thread, (void *)(i + 7)), 0);
	for (int i = 0; i < 2; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		ck_assert_int_eq((int)(intptr_t)rc, 0);
	}
}
END_TEST

/* A txg's worth of 128 KiB blocks freed and allocated again comes back
 * from the same memory (no fresh mapping to fault in). */
START_TEST(test_reuse)
{
	enum { N = 256 };
	uint8_t *first[N], *second[N];
	for (int i = 0; i < N; i++) {
		first[i] = zio_data_buf_alloc(131072);
		ck_assert_ptr_nonnull(first[i]);
		memset(first[i], i, 131072);
	}
	for (int i = 0; i < N; i++)
		zio_data_buf_free(first[i], 131072);
	int reused = 0;
	for (int i = 0; i < N; i++) {
		second[i] = zio_data_buf_alloc(131072);
		ck_assert_ptr_nonnull(second[i]);
		for (int j = 0; j < N; j++)
			reused += second[i] == first[j];
	}
	ck_assert_int_eq(reused, N);
	for (int i = 0; i < N; i++)
		zio_data_buf_free(second[i], 131072);
}
END_TEST

/* Marks set in main: low 256 MiB (the default), high 320 MiB. 384 MiB of
 * 128 KiB buffers freed leave 320 MiB committed at once, which stay there
 * for the decay (a txg's worth comes back without zeroing) and shrink to
 * the low mark after it. */
START_TEST(test_give_back)
{
	enum { N = (384 << 20) / 131072 };
	static uint8_t *v[N];
	for (int i = 0; i < N; i++) {
		v[i] = zio_data_buf_alloc(131072);
		ck_assert_ptr_nonnull(v[i]);
		v[i][0] = 1;
	}
	if (!ZIO_BUF_CHUNKS) {
		/* sanitizer builds: every buffer from malloc (zio_buf.h) */
		ck_assert_uint_eq(zio_buf_committed(), 0);
		for (int i = 0; i < N; i++)
			zio_data_buf_free(v[i], 131072);
		return;
	}
	ck_assert_uint_ge(zio_buf_committed(), 384ULL << 20);
	for (int i = 0; i < N; i++)
		zio_data_buf_free(v[i], 131072);
	ck_assert_uint_eq(zio_buf_committed(), 320ULL << 20);
	zio_buf_reap();
	ck_assert_uint_eq(zio_buf_committed(), 320ULL << 20);	/* within the decay */
	usleep(1100 * 1000);
	zio_buf_reap();
	ck_assert_uint_eq(zio_buf_committed(), 256ULL << 20);
}
END_TEST

int main(void)
{
	zio_buf_retain(256ULL << 20, 320ULL << 20);
	return run_suite(suite_of("zio_buf", TCASE_OF("zio_buf", 120, test_no_overlap,
						      test_no_overlap_threads, test_reuse,
						      test_give_back)));
}
