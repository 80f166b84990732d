/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * test_crypt.c — native encryption on the crypt fixture (aes-256-gcm
 * crypt/secret, aes-256-ccm crypt/ccm, passphrase keys): key loading
 * (right, wrong, malformed material; not a root), and every MAC refusing
 * a single flipped bit: a file block's ciphertext, its MAC and IV in the
 * bp, a dnode block's clear cores and sealed bonus buffers, an indirect
 * block's child MACs, the objset block's portable MAC and meta-dnode, and
 * the wrapped master key. The write side: sealing opens again, each suite
 * round-trips with fresh IVs and rotating salts, and the objset MACs,
 * indirect MAC checksums and HMACs zfuse computes equal OpenZFS's bit for
 * bit; intent-log blocks seal, open and refuse flipped bits. The fixture is unpacked from ZFUSE_SHARED into
 * ZFUSE_TEST_CACHE (as lib.sh does).
 */
#include <check.h>
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "arc.h"
#include "dmu_types.h"
#include "dnode.h"
#include "dsl.h"
#include "dsl_crypt.h"
#include "spa_impl.h"
#include "zap.h"
#include "zio.h"
#include "zio_crypt.h"
#include "zpl_impl.h"
#include "zfuse/crypt.h"
#include "zfuse/errors.h"
#include "zfuse/zfuse.h"

static const char PASS[] = "zfuse-fixture-passphrase";

static const char *crypt_image(void)
{
	static char img[4096];
	const char *cache = getenv("ZFUSE_TEST_CACHE"), *shared = getenv("ZFUSE_SHARED");
	ck_assert_ptr_nonnull(shared);
	char dir[4000];
	snprintf(dir, sizeof(dir), "%s/crypt", cache ? cache : "/tmp/zfuse-test-cache");
	snprintf(img, sizeof(img), "%s/crypt.img", dir);
	struct stat st;
	if (stat(img, &st) != 0 || st.st_size == 0) {
		char cmd[12000];
		snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && (flock 9; [ -s '%s' ] || zstd -q -d --sparse "
			 "-f '%s/fixtures/crypt/crypt.img.zst' -o '%s') 9>'%s/.lock'", dir, img, shared,
			 img, dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	return img;
}

static zfuse_pool_t *import_crypt(void)
{
	const char *img = crypt_image();
	struct zfuse_import_opts o = { .paths = &img, .npaths = 1 };
	zfuse_pool_t *p;
	ck_assert_int_eq(zfuse_pool_import(&o, &p), 0);
	return p;
}

START_TEST(keys_load)
{
	zfuse_pool_t *pool = import_crypt();
	zfuse_fs_t *fs;
	ck_assert_int_eq(zfuse_fs_open(pool, "crypt/secret", &fs), -ZFUSE_E_ACCESS);
	ck_assert_int_eq(zfuse_key_load(pool, "crypt/secret", "wrong-passphrase", 16), -ZFUSE_E_KEY);
	ck_assert_int_eq(zfuse_key_load(pool, "crypt/secret", "short", 5), -ZFUSE_E_INVAL);
	ck_assert_int_eq(zfuse_key_load(pool, "crypt", PASS, strlen(PASS)), -ZFUSE_E_INVAL);
	ck_assert_int_eq(zfuse_key_load(pool, "crypt/nothing", PASS, strlen(PASS)), -ZFUSE_E_NOENT);
	ck_assert_int_eq(zfuse_fs_open(pool, "crypt/secret", &fs), -ZFUSE_E_ACCESS);
	struct zfuse_crypt_info ci;
	ck_assert_int_eq(zfuse_crypt_info(pool, "crypt/secret", &ci), 0);
	ck_assert_str_eq(ci.root, "crypt/secret");
	ck_assert_int_eq(ci.keyformat, ZFUSE_KEYFORMAT_PASSPHRASE);
	ck_assert(!ci.loaded);
	ck_assert_int_eq(zfuse_key_load(pool, "crypt/secret", PASS, strlen(PASS)), 0);
	ck_assert_int_eq(zfuse_crypt_info(pool, "crypt/secret", &ci), 0);
	ck_assert(ci.loaded);
	ck_assert_int_eq(zfuse_fs_open(pool, "crypt/secret", &fs), 0);
	ck_assert_int_eq(zfuse_key_unload(pool, "crypt/secret"), -ZFUSE_E_BUSY);
	uint64_t ino;
	ck_assert_int_eq(zfuse_lookup(fs, zfuse_fs_root(fs), "hello.txt", &ino), 0);
	char buf[64] = { 0 };
	ck_assert_int_eq(zfuse_read(fs, ino, buf, sizeof(buf), 0), 13);
	zfuse_fs_close(fs);
	ck_assert_int_eq(zfuse_fs_open(pool, "crypt/ccm", &fs), -ZFUSE_E_ACCESS);
	ck_assert_int_eq(zfuse_key_unload(pool, "crypt/secret"), 0);
	ck_assert_int_eq(zfuse_fs_open(pool, "crypt/secret", &fs), -ZFUSE_E_ACCESS);
	zfuse_pool_close(pool);
}
END_TEST

/* An open encrypted dataset of the fixture with its key. */
static zfuse_fs_t *open_keyed(zfuse_pool_t *pool, const char *name)
{
	zfuse_fs_t *fs;
	ck_assert_int_eq(zfuse_key_load(pool, name, PASS, strlen(PASS)), 0);
	ck_assert_int_eq(zfuse_fs_open(pool, name, &fs), 0);
	ck_assert_ptr_nonnull(fs->os->key);
	return fs;
}

/* The stored bytes of bp and whether they open with key. */
static int open_block(zfuse_fs_t *fs, const blkptr_t *bp, const uint8_t *phys, uint8_t *plain)
{
	return zio_crypt_decrypt(fs->os->key, bp, phys, plain, bp_get_psize(bp));
}

static void data_block_macs(const char *name)
{
	zfuse_pool_t *pool = import_crypt();
	zfuse_fs_t *fs = open_keyed(pool, name);
	uint64_t ino;
	ck_assert_int_eq(zfuse_lookup(fs, zfuse_fs_root(fs), "random.bin", &ino), 0);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(fs->os, ino, &dn), 0);
	blkptr_t bp;
	ck_assert_int_eq(dnode_find_bp(&dn, 0, 0, &bp), 0);
	ck_assert(bp_is_encrypted(&bp));
	uint64_t psize = bp_get_psize(&bp);
	uint8_t *phys = malloc(psize), *plain = malloc(psize);
	ck_assert_int_eq(zio_read_phys(fs->spa, &bp, phys, -1), 0);
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), 0);
	phys[psize / 2] ^= 0x10;		/* ciphertext */
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), -ZFUSE_E_AUTH);
	phys[psize / 2] ^= 0x10;
	blkptr_t bad = bp;
	bad.blk_cksum.zc_word[3] ^= 1;		/* MAC */
	ck_assert_int_eq(open_block(fs, &bad, phys, plain), -ZFUSE_E_AUTH);
	bad = bp;
	bad.blk_dva[2].dva_word[1] ^= 1ULL << 40;	/* IV */
	ck_assert_int_eq(open_block(fs, &bad, phys, plain), -ZFUSE_E_AUTH);
	bad = bp;
	bad.blk_fill ^= 1ULL << 33;		/* IV, high part */
	ck_assert_int_eq(open_block(fs, &bad, phys, plain), -ZFUSE_E_AUTH);
	bad = bp;
	bad.blk_dva[2].dva_word[0] ^= 4;	/* salt: another derived key */
	ck_assert_int_eq(open_block(fs, &bad, phys, plain), -ZFUSE_E_AUTH);
	free(phys);
	free(plain);

	/* The dnode block holding the file's dnode. */
	uint64_t per = (16384 >> 9);
	ck_assert_int_eq(dnode_find_bp(&fs->os->meta_dnode, 0, ino / per, &bp), 0);
	ck_assert(bp_is_encrypted(&bp));
	psize = bp_get_psize(&bp);
	phys = malloc(psize);
	plain = malloc(psize);
	ck_assert_int_eq(zio_read_phys(fs->spa, &bp, phys, -1), 0);
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), 0);
	/* the opened bonus is an SA (magic 0x2F505A) */
	uint8_t *d = plain + (ino % per) * 512;
	ck_assert_uint_eq(d[4], 44);
	ck_assert_uint_eq(d[64 + d[3] * 128] | d[65 + d[3] * 128] << 8 | d[66 + d[3] * 128] << 16,
			  0x2F505A);
	uint8_t *c = phys + (ino % per) * 512;
	c[16] ^= 1;			/* dn_maxblkid: clear, authenticated */
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), -ZFUSE_E_AUTH);
	c[16] ^= 1;
	c[64 + 48] ^= 1;		/* a bp of the dnode (blk_prop: lsize) */
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), -ZFUSE_E_AUTH);
	c[64 + 48] ^= 1;
	c[64 + c[3] * 128 + 9] ^= 0x80;	/* sealed bonus */
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), -ZFUSE_E_AUTH);
	c[64 + c[3] * 128 + 9] ^= 0x80;
	c[24] ^= 1;			/* dn_used: not authenticated (local) */
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), 0);
	free(phys);
	free(plain);
	dnode_rele(&dn);

	/* The meta-dnode's level-1 block: a checksum of its children's MACs. */
	ck_assert_int_eq(dnode_find_bp(&fs->os->meta_dnode, 1, 0, &bp), 0);
	ck_assert_uint_eq(bp_get_level(&bp), 1);
	arc_buf_t *b;
	ck_assert_int_eq(arc_read(fs->spa, &bp, &b), 0);
	uint8_t *ind = malloc(b->size);
	memcpy(ind, b->data, b->size);
	ck_assert_int_eq(zio_crypt_verify_indirect(&bp, ind, b->size), 0);
	ind[112 + 2] ^= 1;		/* first child's MAC */
	ck_assert_int_eq(zio_crypt_verify_indirect(&bp, ind, b->size), -ZFUSE_E_AUTH);
	ind[112 + 2] ^= 1;
	ind[48 + 6] ^= 1;		/* first child's type */
	ck_assert_int_eq(zio_crypt_verify_indirect(&bp, ind, b->size), -ZFUSE_E_AUTH);
	ind[48 + 6] ^= 1;
	ind[96] ^= 1;			/* checksum words are not covered */
	ck_assert_int_eq(zio_crypt_verify_indirect(&bp, ind, b->size), 0);
	free(ind);
	arc_release(fs->spa, b);

	/* The objset block. */
	uint8_t osp[OBJSET_PHYS_SIZE];
	memcpy(osp, fs->os->phys, sizeof(osp));
	ck_assert_int_eq(zio_crypt_verify_objset(fs->os->key, osp, fs->os->phys_size), 0);
	osp[720] ^= 1;			/* portable MAC */
	ck_assert_int_eq(zio_crypt_verify_objset(fs->os->key, osp, fs->os->phys_size), -ZFUSE_E_AUTH);
	osp[720] ^= 1;
	osp[752] ^= 1;			/* local MAC */
	ck_assert_int_eq(zio_crypt_verify_objset(fs->os->key, osp, fs->os->phys_size), -ZFUSE_E_AUTH);
	osp[752] ^= 1;
	osp[2] ^= 1;			/* meta-dnode levels */
	ck_assert_int_eq(zio_crypt_verify_objset(fs->os->key, osp, fs->os->phys_size), -ZFUSE_E_AUTH);
	osp[2] ^= 1;
	osp[1024 + 16] ^= 1;		/* userused dnode */
	ck_assert_int_eq(zio_crypt_verify_objset(fs->os->key, osp, fs->os->phys_size), -ZFUSE_E_AUTH);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);
}

START_TEST(macs_gcm) { data_block_macs("crypt/secret"); }
END_TEST
START_TEST(macs_ccm) { data_block_macs("crypt/ccm"); }
END_TEST

/* Garbage in a dnode block's clear fields (types, slot counts, blkptr
 * counts, the spill flag, bonus lengths) never crashes the parser and
 * always fails the MAC. */
START_TEST(dnode_block_garbage)
{
	zfuse_pool_t *pool = import_crypt();
	zfuse_fs_t *fs = open_keyed(pool, "crypt/secret");
	blkptr_t bp;
	ck_assert_int_eq(dnode_find_bp(&fs->os->meta_dnode, 0, 0, &bp), 0);
	uint64_t psize = bp_get_psize(&bp);
	uint8_t *phys = malloc(psize), *bad = malloc(psize), *plain = malloc(psize);
	ck_assert_int_eq(zio_read_phys(fs->spa, &bp, phys, -1), 0);
	srandom(11);
	static const int fields[] = { 0, 3, 4, 7, 10, 11, 12 };
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(bad, phys, psize);
		for (int k = 0; k < 1 + iter % 4; k++) {
			uint64_t slot = (uint64_t)random() % (psize / 512);
			int f = fields[random() % 7];
			/* of dn_flags only the spill bit is authenticated (the
			 * accounting bits are local, as dn_used) */
			if (f == 7)
				bad[slot * 512 + f] ^= 0x04;
			else
				bad[slot * 512 + f] = (uint8_t)random();
		}
		if (memcmp(bad, phys, psize) != 0)
			ck_assert_int_eq(open_block(fs, &bp, bad, plain), -ZFUSE_E_AUTH);
	}
	free(phys);
	free(bad);
	free(plain);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);
}
END_TEST

/* The wrapped master key: one flipped bit anywhere fails the unwrap. */
START_TEST(wrapped_key)
{
	zfuse_pool_t *pool = import_crypt();
	spa_t *spa = (spa_t *)pool;
	uint64_t dsobj, dirobj, keyobj, crypt, guid, version, salt, iters;
	bool snap;
	ck_assert_int_eq(dsl_dataset_lookup(spa, "crypt/ccm", &dsobj, &dirobj, &snap), 0);
	ck_assert_int_eq(dsl_crypt_keyobj(spa, dirobj, &keyobj), 0);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(spa->mos, keyobj, &dn), 0);
	uint8_t kd[32], hk[64], iv[12], mac[16], wkey[32];
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_SUITE", 8, 1, &crypt), 0);
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_GUID", 8, 1, &guid), 0);
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_VERSION", 8, 1, &version), 0);
	ck_assert_int_eq(zap_lookup(&dn, "pbkdf2salt", 8, 1, &salt), 0);
	ck_assert_int_eq(zap_lookup(&dn, "pbkdf2iters", 8, 1, &iters), 0);
	/* stored at 32 bytes whatever the suite */
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_MASTER_KEY_1", 1, 32, kd), 0);
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_HMAC_KEY_1", 1, 64, hk), 0);
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_IV", 1, 12, iv), 0);
	ck_assert_int_eq(zap_lookup(&dn, "DSL_CRYPTO_MAC", 1, 16, mac), 0);
	dnode_rele(&dn);
	ck_assert_uint_eq(crypt, ZIO_CRYPT_AES_256_CCM);
	ck_assert_int_eq(zio_crypt_pbkdf2(PASS, strlen(PASS), salt, iters, wkey), 0);
	zio_crypt_key_t k;
	ck_assert_int_eq(zio_crypt_key_unwrap(wkey, crypt, version, guid, kd, hk, iv, mac, &k), 0);
	zio_crypt_key_destroy(&k);
	uint8_t *parts[] = { kd, hk, iv, mac };
	for (int i = 0; i < 4; i++) {
		parts[i][3] ^= 0x40;
		ck_assert_int_eq(zio_crypt_key_unwrap(wkey, crypt, version, guid, kd, hk, iv, mac, &k),
				 -ZFUSE_E_KEY);
		parts[i][3] ^= 0x40;
	}
	ck_assert_int_eq(zio_crypt_key_unwrap(wkey, crypt, version, guid ^ 1, kd, hk, iv, mac, &k),
			 -ZFUSE_E_KEY);
	ck_assert_int_eq(zio_crypt_key_unwrap(wkey, ZIO_CRYPT_AES_256_GCM, version, guid, kd, hk, iv,
					      mac, &k), -ZFUSE_E_KEY);
	zfuse_pool_close(pool);
}
END_TEST

/* A bp for a block zio_crypt_encrypt sealed: salt and IV where OpenZFS
 * keeps them, the MAC in the checksum's upper half. */
static blkptr_t sealed_bp(const blkptr_t *like, const uint8_t *salt, const uint8_t *iv,
			  const uint8_t *mac)
{
	blkptr_t bp = *like;
	memcpy(&bp.blk_dva[2].dva_word[0], salt, 8);
	memcpy(&bp.blk_dva[2].dva_word[1], iv, 8);
	uint32_t iv2;
	memcpy(&iv2, iv + 8, 4);
	bp.blk_fill = (bp.blk_fill & UINT32_MAX) | (uint64_t)iv2 << 32;
	memcpy(&bp.blk_cksum.zc_word[2], mac, 16);
	return bp;
}

/* The write side against what OpenZFS wrote: re-sealing a dnode block
 * opens again (fresh IV, different bytes), and the objset MACs, an
 * indirect block's MAC checksum and an authenticated block's HMAC that
 * zfuse computes equal the stored ones bit for bit. */
START_TEST(write_matches_openzfs)
{
	zfuse_pool_t *pool = import_crypt();
	zfuse_fs_t *fs = open_keyed(pool, "crypt/secret");
	zio_crypt_key_t *key = fs->os->key;
	blkptr_t bp;
	ck_assert_int_eq(dnode_find_bp(&fs->os->meta_dnode, 0, 0, &bp), 0);
	uint64_t psize = bp_get_psize(&bp);
	uint8_t *phys = malloc(psize), *plain = malloc(psize), *ct = malloc(psize), *back = malloc(psize);
	ck_assert_int_eq(zio_read_phys(fs->spa, &bp, phys, -1), 0);
	ck_assert_int_eq(open_block(fs, &bp, phys, plain), 0);
	uint8_t salt[8], iv[12], mac[16];
	ck_assert_int_eq(zio_crypt_encrypt(key, DMU_OT_DNODE, plain, ct, psize, salt, iv, mac), 0);
	ck_assert(memcmp(ct, phys, psize) != 0);
	blkptr_t nbp = sealed_bp(&bp, salt, iv, mac);
	ck_assert_int_eq(zio_crypt_decrypt(key, &nbp, ct, back, psize), 0);
	ck_assert_mem_eq(back, plain, psize);
	ct[100] ^= 1;			/* a clear core is authenticated too */
	ck_assert_int_eq(zio_crypt_decrypt(key, &nbp, ct, back, psize), -ZFUSE_E_AUTH);

	/* objset MACs: recomputed from scratch they are OpenZFS's */
	uint8_t osp[OBJSET_PHYS_SIZE];
	memcpy(osp, fs->os->phys, sizeof(osp));
	memset(osp + 720, 0, 64);
	ck_assert_int_eq(zio_crypt_objset_sign(key, osp, fs->os->phys_size), 0);
	ck_assert_mem_eq(osp + 720, fs->os->phys + 720, 64);

	/* an indirect block's MAC checksum (random.bin has one) */
	uint64_t ino;
	ck_assert_int_eq(zfuse_lookup(fs, zfuse_fs_root(fs), "random.bin", &ino), 0);
	dnode_t dn;
	ck_assert_int_eq(dnode_hold(fs->os, ino, &dn), 0);
	blkptr_t top;
	dnode_blkptr(&dn, 0, &top);
	if (bp_get_level(&top) > 0) {
		arc_buf_t *b;
		ck_assert_int_eq(arc_read(fs->spa, &top, &b), 0);
		ck_assert_int_eq(zio_crypt_indirect_mac(key->version, b->data, b->size, mac), 0);
		ck_assert_mem_eq(mac, &top.blk_cksum.zc_word[2], 16);
		arc_release(fs->spa, b);
	}
	dnode_rele(&dn);

	/* an authenticated block: the first object of an unencrypted type
	 * (the master node) */
	bool seen = false;
	for (uint64_t obj = 1; obj < 32 && !seen; obj++) {
		dnode_t an;
		if (dnode_hold(fs->os, obj, &an) != 0)
			continue;
		blkptr_t abp;
		if (!dmu_ot_is_encrypted(an.type) && dnode_find_bp(&an, 0, 0, &abp) == 0 &&
		    !bp_is_hole(&abp)) {
			ck_assert(bp_uses_crypt(&abp) && !bp_is_encrypted(&abp));
			uint8_t *ab = malloc(bp_get_psize(&abp));
			ck_assert_int_eq(zio_read_phys(fs->spa, &abp, ab, -1), 0);
			ck_assert_int_eq(zio_crypt_auth_mac(key, ab, bp_get_psize(&abp), mac), 0);
			ck_assert_mem_eq(mac, &abp.blk_cksum.zc_word[2], 16);
			free(ab);
			seen = true;
		}
		dnode_rele(&an);
	}
	ck_assert(seen);
	free(phys);
	free(plain);
	free(ct);
	free(back);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);
}
END_TEST

/* Every suite: data blocks seal and open, never twice the same bytes (a
 * fresh IV each time), a flipped bit fails; the salt turns over after its
 * uses; a generated master key wraps and unwraps. */
START_TEST(write_suites)
{
	uint8_t data[4096], ct[4096], ct2[4096], back[4096], wkey[32];
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	memset(wkey, 0x5a, sizeof(wkey));
	blkptr_t like;
	memset(&like, 0, sizeof(like));
	like.blk_prop = (7ULL << 0) | (7ULL << 16) | ((uint64_t)DMU_OT_PLAIN_FILE_CONTENTS << 48) |
			(1ULL << 61) | (1ULL << 63);
	for (uint64_t c = ZIO_CRYPT_AES_128_CCM; c <= ZIO_CRYPT_AES_256_GCM; c++) {
		zio_crypt_key_t k, u;
		ck_assert_int_eq(zio_crypt_key_generate(c, &k), 0);
		uint8_t salt[8], iv[12], mac[16], salt2[8], iv2[12], mac2[16];
		ck_assert_int_eq(zio_crypt_encrypt(&k, DMU_OT_PLAIN_FILE_CONTENTS, data, ct, sizeof(data),
						   salt, iv, mac), 0);
		ck_assert_int_eq(zio_crypt_encrypt(&k, DMU_OT_PLAIN_FILE_CONTENTS, data, ct2, sizeof(data),
						   salt2, iv2, mac2), 0);
		ck_assert(memcmp(iv, iv2, 12) != 0 && memcmp(ct, ct2, sizeof(ct)) != 0);
		ck_assert_mem_eq(salt, salt2, 8);
		blkptr_t bp = sealed_bp(&like, salt, iv, mac);
		ck_assert_int_eq(zio_crypt_decrypt(&k, &bp, ct, back, sizeof(back)), 0);
		ck_assert_mem_eq(back, data, sizeof(data));
		ct[17] ^= 0x80;
		ck_assert_int_eq(zio_crypt_decrypt(&k, &bp, ct, back, sizeof(back)), -ZFUSE_E_AUTH);
		/* salt rotation */
		k.salt_uses = ZFS_KEY_MAX_SALT_USES - 1;
		ck_assert_int_eq(zio_crypt_encrypt(&k, DMU_OT_PLAIN_FILE_CONTENTS, data, ct, sizeof(data),
						   salt, iv, mac), 0);
		ck_assert_int_eq(zio_crypt_encrypt(&k, DMU_OT_PLAIN_FILE_CONTENTS, data, ct2, sizeof(data),
						   salt2, iv2, mac2), 0);
		ck_assert(memcmp(salt, salt2, 8) != 0);
		bp = sealed_bp(&like, salt2, iv2, mac2);
		ck_assert_int_eq(zio_crypt_decrypt(&k, &bp, ct2, back, sizeof(back)), 0);
		ck_assert_mem_eq(back, data, sizeof(data));
		/* wrap and unwrap */
		uint8_t wiv[12], wmac[16], kd[32], hk[64];
		ck_assert_int_eq(zio_crypt_key_wrap(wkey, &k, wiv, wmac, kd, hk), 0);
		ck_assert_int_eq(zio_crypt_key_unwrap(wkey, c, k.version, k.guid, kd, hk, wiv, wmac, &u), 0);
		ck_assert_mem_eq(u.master, k.master, zio_crypt_keylen(c));
		ck_assert_mem_eq(u.hmac, k.hmac, 64);
		zio_crypt_key_destroy(&u);
		wkey[0] ^= 1;
		ck_assert_int_eq(zio_crypt_key_unwrap(wkey, c, k.version, k.guid, kd, hk, wiv, wmac, &u),
				 -ZFUSE_E_KEY);
		wkey[0] ^= 1;
		zio_crypt_key_destroy(&k);
	}
}
END_TEST

/* Intent-log blocks, each suite: sealed, the chain header, lr_t headers
 * and a TX_WRITE's bp stay as they were and the rest changes; opened, the
 * block is back; a flipped bit in a clear header, a bp, a sealed byte or
 * the MAC fails; a record running past zc_nused is refused. */
START_TEST(zil_blocks)
{
	enum { SZ = 8192 };
	static uint8_t plain[SZ], ct[SZ], back[SZ];
	memset(plain, 0, sizeof(plain));
	uint64_t off = 184;
	/* a TX_CREATE-like record of 120 bytes, then a copied TX_WRITE */
	uint64_t w;
	w = 1; memcpy(plain + off, &w, 8);
	w = 120; memcpy(plain + off + 8, &w, 8);
	for (int i = 16; i < 120; i++)
		plain[off + i] = (uint8_t)(i * 3 + 1);
	off += 120;
	w = 9; memcpy(plain + off, &w, 8);
	w = 192 + 1000; memcpy(plain + off + 8, &w, 8);
	for (int i = 16; i < 192 + 1000; i++)
		plain[off + i] = (uint8_t)(i * 5 + 2);
	uint64_t wr = off;
	off += 192 + 1000;
	memcpy(plain + 136, &off, 8);	/* zc_nused */
	for (int i = 8; i < 136; i++)
		plain[i] = (uint8_t)i;		/* zc_next_blk */
	for (uint64_t c = ZIO_CRYPT_AES_128_CCM; c <= ZIO_CRYPT_AES_256_GCM; c++) {
		zio_crypt_key_t k;
		ck_assert_int_eq(zio_crypt_key_generate(c, &k), 0);
		blkptr_t bp;
		memset(&bp, 0, sizeof(bp));
		bp.blk_prop = (15ULL << 0) | (15ULL << 16) | (9ULL << 40) |
			      ((uint64_t)DMU_OT_INTENT_LOG << 48) | (1ULL << 63);
		ck_assert_int_eq(zio_crypt_zil_params(&k, &bp), 0);
		ck_assert(bp_uses_crypt(&bp));
		ck_assert_int_eq(zio_crypt_zil_seal(&k, &bp, plain, ct, SZ), 0);
		ck_assert_mem_eq(ct, plain, 168);			/* chain header, magic, */
		ck_assert(memcmp(ct + 168, plain + 168, 16) != 0);	/* but the MAC */
		ck_assert_mem_eq(ct + 184, plain + 184, 32);		/* lr_t */
		ck_assert(memcmp(ct + 216, plain + 216, 88) != 0);	/* sealed body */
		ck_assert_mem_eq(ct + wr + 64, plain + wr + 64, 128);	/* the write's bp */
		ck_assert(memcmp(ct + wr + 192, plain + wr + 192, 1000) != 0);
		ck_assert_int_eq(zio_crypt_zil_open(&k, &bp, ct, back, SZ), 0);
		ck_assert_mem_eq(back, plain, 168);	/* the stored checksum (MAC) aside */
		ck_assert_mem_eq(back + 184, plain + 184, SZ - 184);
		const unsigned flips[] = { 20, 190, 230, wr + 70, wr + 200, 170 };
		for (unsigned f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
			ct[flips[f]] ^= 4;
			ck_assert_int_eq(zio_crypt_zil_open(&k, &bp, ct, back, SZ), -ZFUSE_E_AUTH);
			ct[flips[f]] ^= 4;
		}
		uint64_t bad = off - 8;
		memcpy(ct + 136, &bad, 8);
		ck_assert_int_eq(zio_crypt_zil_open(&k, &bp, ct, back, SZ), -ZFUSE_E_AUTH);
		zio_crypt_key_destroy(&k);
	}
}
END_TEST

int main(void)
{
	return RUN_TESTS("crypt", "keys and MACs", 300, keys_load, macs_gcm, macs_ccm, dnode_block_garbage,
			 wrapped_key, write_matches_openzfs, write_suites, zil_blocks);
}
