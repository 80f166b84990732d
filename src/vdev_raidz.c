/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * vdev_raidz.c — RAID-Z. Parity is computed with log/exp tables over
 * GF(2^8) (polynomial 0x11d). Reconstruction treats every byte position
 * as a small linear system: for the erased data columns E and |E| chosen
 * available parity rows, solve M·x = syndrome with M[p][e] = g_p^(m-1-e),
 * g = 1, 2, 4 for P, Q, R. The inverse of M is computed once per attempt
 * and applied column-wide with table multiplies.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "vdev_raidz.h"
#include "zfuse/errors.h"
#include "zfs_debug.h"

static uint8_t gf_exp[512], gf_log[256];
static pthread_once_t gf_once = PTHREAD_ONCE_INIT;

static void gf_init(void)
{
	unsigned x = 1;
	for (int i = 0; i < 255; i++) {
		gf_exp[i] = (uint8_t)x;
		gf_log[x] = (uint8_t)i;
		x <<= 1;
		if (x & 0x100)
			x ^= 0x11d;
	}
	for (int i = 255; i < 512; i++)
		gf_exp[i] = gf_exp[i - 255];
}

static inline uint8_t gf_mul(uint8_t a, uint8_t b)
{
	if (!a || !b)
		return 0;
	return gf_exp[gf_log[a] + gf_log[b]];
}

static inline uint8_t gf_inv(uint8_t a)
{
	return gf_exp[255 - gf_log[a]];
}

/* g^e for g in {1, 2, 4}. */
static uint8_t gf_pow(unsigned parity_row, uint64_t e)
{
	if (parity_row == 0)
		return 1;
	unsigned lg = parity_row == 1 ? 1 : 2;	/* log(2) = 1, log(4) = 2 */
	return gf_exp[(lg * (e % 255)) % 255];
}

uint64_t vdev_raidz_asize(const struct raidz_geom *g, uint64_t psize)
{
	uint64_t s = ((psize - 1) >> g->ashift) + 1;
	uint64_t cols = g->children;
	s += g->nparity * ((s + cols - g->nparity - 1) / (cols - g->nparity));
	s = (s + g->nparity) / (g->nparity + 1) * (g->nparity + 1);
	return s << g->ashift;
}

int vdev_raidz_map(const struct raidz_geom *g, uint64_t offset, uint64_t psize, struct raidz_map *rm)
{
	uint64_t dcols = g->children, np = g->nparity, ashift = g->ashift;
	if (dcols > RAIDZ_MAX_COLS || np < 1 || np > 3 || dcols <= np || ashift < 9 || ashift > 16 ||
	    psize == 0)
		return SET_ERROR(-ZFUSE_E_CORRUPT);
	uint64_t b = offset >> ashift;
	uint64_t s = ((psize - 1) >> ashift) + 1;
	uint64_t f = b % dcols;
	uint64_t o = (b / dcols) << ashift;
	uint64_t q = s / (dcols - np);
	uint64_t r = s - q * (dcols - np);
	uint64_t bc = r == 0 ? 0 : r + np;
	uint64_t tot = s + np * (q + (r ? 1 : 0));
	uint64_t acols, scols;
	if (q == 0) {
		acols = bc;
		scols = (bc + np) / (np + 1) * (np + 1);
		if (scols > dcols)
			scols = dcols;
	} else {
		acols = scols = dcols;
	}
	rm->ncols = scols;
	rm->acols = acols;
	rm->nparity = np;
	rm->nskip = (tot + np) / (np + 1) * (np + 1) - tot;
	for (uint64_t c = 0; c < scols; c++) {
		uint64_t child = f + c, coff = o;
		if (child >= dcols) {
			child -= dcols;
			coff += 1ULL << ashift;
		}
		rm->col[c].child = child;
		rm->col[c].offset = coff;
		rm->col[c].size = c >= acols ? 0 : (c < bc ? q + 1 : q) << ashift;
	}
	if (np == 1 && (offset & (1ULL << 20)) && scols >= 2) {
		struct raidz_col t = rm->col[0];
		rm->col[0].child = rm->col[1].child;
		rm->col[0].offset = rm->col[1].offset;
		rm->col[1].child = t.child;
		rm->col[1].offset = t.offset;
	}
	return 0;
}

/* Parity row p of the data columns into out (parity column size). */
static void compute_parity(const struct raidz_map *rm, uint8_t **cols, unsigned p, uint8_t *out)
{
	uint64_t psz = rm->col[0].size;
	uint8_t mul = p == 0 ? 1 : (p == 1 ? 2 : 4);
	memset(out, 0, psz);
	for (uint64_t c = rm->nparity; c < rm->acols; c++) {
		uint64_t n = rm->col[c].size;
		const uint8_t *d = cols[c];
		if (p == 0) {
			for (uint64_t i = 0; i < n; i++)
				out[i] ^= d[i];
		} else {
			for (uint64_t i = 0; i < psz; i++)
				out[i] = gf_mul(out[i], mul) ^ (i < n ? d[i] : 0);
		}
	}
}

/*
 * Reconstruct the data columns in erased[] (all data) from the parity rows
 * in rows[] (as many as erased). Returns 0 or -ZFUSE_E_CHECKSUM when the
 * system is singular (cannot happen for valid geometry).
 */
static int reconstruct(const struct raidz_map *rm, uint8_t **cols, const uint64_t *erased,
		       unsigned ne, const unsigned *rows)
{
	uint64_t m = rm->acols - rm->nparity;
	uint64_t psz = rm->col[0].size;
	uint8_t M[3][3], inv[3][3];
	for (unsigned i = 0; i < ne; i++)
		for (unsigned j = 0; j < ne; j++)
			M[i][j] = gf_pow(rows[i], m - 1 - (erased[j] - rm->nparity));
	/* Gauss-Jordan inversion of the ne x ne matrix. */
	for (unsigned i = 0; i < ne; i++)
		for (unsigned j = 0; j < ne; j++)
			inv[i][j] = i == j;
	for (unsigned c = 0; c < ne; c++) {
		unsigned piv = c;
		while (piv < ne && M[piv][c] == 0)
			piv++;
		if (piv == ne)
			return SET_ERROR(-ZFUSE_E_CHECKSUM);
		for (unsigned j = 0; j < ne; j++) {
			uint8_t t = M[c][j]; M[c][j] = M[piv][j]; M[piv][j] = t;
			t = inv[c][j]; inv[c][j] = inv[piv][j]; inv[piv][j] = t;
		}
		uint8_t iv = gf_inv(M[c][c]);
		for (unsigned j = 0; j < ne; j++) {
			M[c][j] = gf_mul(M[c][j], iv);
			inv[c][j] = gf_mul(inv[c][j], iv);
		}
		for (unsigned r = 0; r < ne; r++) {
			if (r == c || M[r][c] == 0)
				continue;
			uint8_t f = M[r][c];
			for (unsigned j = 0; j < ne; j++) {
				M[r][j] ^= gf_mul(f, M[c][j]);
				inv[r][j] ^= gf_mul(f, inv[c][j]);
			}
		}
	}
	/* Syndromes: parity row with the erased columns zeroed. */
	uint8_t *syn[3];
	for (unsigned i = 0; i < ne; i++) {
		syn[i] = malloc(psz ? psz : 1);
		if (!syn[i]) {
			while (i--)
				free(syn[i]);
			return -ZFUSE_E_NOMEM;
		}
		for (unsigned j = 0; j < ne; j++)
			memset(cols[erased[j]], 0, rm->col[erased[j]].size);
		compute_parity(rm, cols, rows[i], syn[i]);
		const uint8_t *par = cols[rows[i]];
		for (uint64_t k = 0; k < psz; k++)
			syn[i][k] ^= par[k];
	}
	for (unsigned j = 0; j < ne; j++) {
		uint8_t *d = cols[erased[j]];
		uint64_t n = rm->col[erased[j]].size;
		for (uint64_t k = 0; k < n; k++) {
			uint8_t v = 0;
			for (unsigned i = 0; i < ne; i++)
				v ^= gf_mul(inv[j][i], syn[i][k]);
			d[k] = v;
		}
	}
	for (unsigned i = 0; i < ne; i++)
		free(syn[i]);
	return 0;
}

static void gather(const struct raidz_map *rm, uint8_t **cols, uint8_t *out, uint64_t psize)
{
	uint64_t done = 0;
	for (uint64_t c = rm->nparity; c < rm->acols && done < psize; c++) {
		uint64_t n = rm->col[c].size < psize - done ? rm->col[c].size : psize - done;
		memcpy(out + done, cols[c], n);
		done += n;
	}
}

/* Try to recover with erasure set `er` (column indices); data in cols is
 * restored from `orig` before each attempt. */
static bool attempt(const struct raidz_map *rm, uint8_t **cols, uint8_t **orig, const bool *unread,
		    const uint64_t *er, unsigned ner, uint8_t *out, uint64_t psize,
		    raidz_verify_fn verify, void *varg)
{
	uint64_t derased[3];
	unsigned nd = 0;
	bool erased_col[RAIDZ_MAX_COLS] = { false };
	for (unsigned i = 0; i < ner; i++) {
		erased_col[er[i]] = true;
		if (er[i] >= rm->nparity)
			derased[nd++] = er[i];
	}
	unsigned rows[3], nr = 0;
	for (unsigned p = 0; p < rm->nparity && nr < nd; p++)
		if (!erased_col[p] && !unread[p])
			rows[nr++] = p;
	if (nr < nd)
		return false;
	for (uint64_t c = 0; c < rm->acols; c++)
		memcpy(cols[c], orig[c], rm->col[c].size);
	if (nd && reconstruct(rm, cols, derased, nd, rows) != 0)
		return false;
	gather(rm, cols, out, psize);
	return !verify || verify(varg, out, psize);
}

int vdev_raidz_read(const struct raidz_geom *g, uint64_t offset, uint64_t psize, void *out,
		    raidz_child_read_fn read, void *read_arg, raidz_verify_fn verify,
		    void *verify_arg, uint64_t *bad_children)
{
	pthread_once(&gf_once, gf_init);
	struct raidz_map *rm = malloc(sizeof(*rm));
	if (!rm)
		return -ZFUSE_E_NOMEM;
	int rc = vdev_raidz_map(g, offset, psize, rm);
	if (rc) {
		free(rm);
		return rc;
	}
	if (bad_children)
		*bad_children = 0;
	uint8_t **cols = calloc(rm->acols, sizeof(*cols));
	uint8_t **orig = calloc(rm->acols, sizeof(*orig));
	bool *unread = calloc(rm->acols, sizeof(*unread));
	rc = -ZFUSE_E_NOMEM;
	if (!cols || !orig || !unread)
		goto out;
	for (uint64_t c = 0; c < rm->acols; c++) {
		cols[c] = malloc(rm->col[c].size ? rm->col[c].size : 1);
		orig[c] = malloc(rm->col[c].size ? rm->col[c].size : 1);
		if (!cols[c] || !orig[c])
			goto out;
	}
	/* Data columns first: parity is read only when needed. */
	unsigned nunread = 0;
	for (uint64_t c = rm->nparity; c < rm->acols; c++) {
		if (read(read_arg, rm->col[c].child, rm->col[c].offset, orig[c], rm->col[c].size) != 0) {
			unread[c] = true;
			nunread++;
			memset(orig[c], 0, rm->col[c].size);
		}
	}
	if (nunread == 0) {
		for (uint64_t c = rm->nparity; c < rm->acols; c++)
			memcpy(cols[c], orig[c], rm->col[c].size);
		gather(rm, cols, out, psize);
		if (!verify || verify(verify_arg, out, psize)) {
			rc = 0;
			goto out;
		}
	}
	for (uint64_t c = 0; c < rm->nparity; c++) {
		if (read(read_arg, rm->col[c].child, rm->col[c].offset, orig[c], rm->col[c].size) != 0) {
			unread[c] = true;
			nunread++;
			memset(orig[c], 0, rm->col[c].size);
		}
	}
	if (nunread > rm->nparity) {
		rc = -ZFUSE_E_MISSING_DEV;
		goto out;
	}
	uint64_t base[3];
	unsigned nbase = 0;
	for (uint64_t c = 0; c < rm->acols; c++)
		if (unread[c])
			base[nbase++] = c;
	/* First the known erasures alone, then each combination of extra
	 * suspects, smallest first. */
	rc = SET_ERROR(-ZFUSE_E_CHECKSUM);
	if (nbase && attempt(rm, cols, orig, unread, base, nbase, out, psize, verify, verify_arg)) {
		rc = 0;
		goto found;
	}
	for (unsigned extra = 1; nbase + extra <= rm->nparity && rc; extra++) {
		uint64_t idx[3] = { 0, 1, 2 };
		uint64_t n = rm->acols;
		if (extra > n)
			break;
		for (;;) {
			uint64_t er[3];
			bool skip = false;
			for (unsigned i = 0; i < nbase; i++)
				er[i] = base[i];
			for (unsigned i = 0; i < extra; i++) {
				if (unread[idx[i]])
					skip = true;
				er[nbase + i] = idx[i];
			}
			if (!skip && attempt(rm, cols, orig, unread, er, nbase + extra, out, psize,
					     verify, verify_arg)) {
				rc = 0;
				if (bad_children)
					for (unsigned i = 0; i < extra; i++)
						if (rm->col[idx[i]].child < 64)
							*bad_children |= 1ULL << rm->col[idx[i]].child;
				break;
			}
			/* next combination of `extra` out of n */
			int i = (int)extra - 1;
			while (i >= 0 && idx[i] == n - extra + (uint64_t)i)
				i--;
			if (i < 0)
				break;
			idx[i]++;
			for (unsigned j = (unsigned)i + 1; j < extra; j++)
				idx[j] = idx[j - 1] + 1;
		}
	}
found:
	if (bad_children)
		for (unsigned i = 0; i < nbase; i++)
			if (rm->col[base[i]].child < 64)
				*bad_children |= 1ULL << rm->col[base[i]].child;
out:
	if (cols)
		for (uint64_t c = 0; c < rm->acols; c++)
			free(cols[c]);
	if (orig)
		for (uint64_t c = 0; c < rm->acols; c++)
			free(orig[c]);
	free(cols);
	free(orig);
	free(unread);
	free(rm);
	return rc;
}

int vdev_raidz_build_columns(const struct raidz_geom *g, uint64_t offset, const void *data,
			     uint64_t psize,
			     int (*write)(void *arg, uint64_t child, uint64_t offset,
					  const void *buf, uint64_t size),
			     void *arg)
{
	pthread_once(&gf_once, gf_init);
	struct raidz_map *rm = malloc(sizeof(*rm));
	if (!rm)
		return -ZFUSE_E_NOMEM;
	int rc = vdev_raidz_map(g, offset, psize, rm);
	uint8_t **cols = rc ? NULL : calloc(rm->acols, sizeof(*cols));
	if (!rc && !cols)
		rc = -ZFUSE_E_NOMEM;
	uint64_t done = 0;
	for (uint64_t c = 0; !rc && c < rm->acols; c++) {
		cols[c] = calloc(1, rm->col[c].size ? rm->col[c].size : 1);
		if (!cols[c]) {
			rc = -ZFUSE_E_NOMEM;
			break;
		}
		if (c >= rm->nparity) {
			uint64_t n = rm->col[c].size < psize - done ? rm->col[c].size : psize - done;
			memcpy(cols[c], (const uint8_t *)data + done, n);
			done += n;
		}
	}
	for (uint64_t p = 0; !rc && p < rm->nparity; p++)
		compute_parity(rm, cols, (unsigned)p, cols[p]);
	for (uint64_t c = 0; !rc && c < rm->acols; c++)
		if (rm->col[c].size)
			rc = write(arg, rm->col[c].child, rm->col[c].offset, cols[c], rm->col[c].size);
	if (cols)
		for (uint64_t c = 0; c < rm->acols; c++)
			free(cols[c]);
	free(cols);
	free(rm);
	return rc;
}
