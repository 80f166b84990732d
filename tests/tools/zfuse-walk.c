/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * zfuse-walk — prints a dataset's tree through libzfuse alone (no FUSE) in
 * the format of shared/oracle/manifest.sh, so the library can be checked
 * against fixture manifests directly and a FUSE-level difference can be
 * told apart from a backend one.
 *
 * usage: zfuse-walk [--txg N] [--children] [--key LOCATION] DATASET IMAGE...
 * --key loads the key of DATASET's encryption root from LOCATION
 * (file:///PATH) first.
 */
#include <dirent.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "zfuse/crypt.h"
#include "zfuse/zfuse.h"

struct line {
	char *text;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

struct lines {
	struct line *v;
	size_t n, cap;
};

/* Entries first, then xattr lines, each group sorted (as manifest.sh). */
static struct lines entries, xattrs;

static void add_line(struct lines *l, char *text)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++].text = text;
}

static void print_sorted(struct lines *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_line);
	for (size_t i = 0; i < l->n; i++) {
		puts(l->v[i].text);
		free(l->v[i].text);
	}
	free(l->v);
}


static char type_char(mode_t m)
{
	if (S_ISREG(m)) return 'f';
	if (S_ISDIR(m)) return 'd';
	if (S_ISLNK(m)) return 'l';
	if (S_ISFIFO(m)) return 'p';
	if (S_ISSOCK(m)) return 's';
	if (S_ISCHR(m)) return 'c';
	if (S_ISBLK(m)) return 'b';
	return '?';
}

static int sha256_file(zfuse_fs_t *fs, uint64_t ino, uint64_t size, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	uint64_t off = 0;
	int rc = 0;
	while (off < size) {
		ssize_t n = zfuse_read(fs, ino, buf, bufsz, off);
		if (n <= 0) {
			rc = n < 0 ? (int)n : -1;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		off += (uint64_t)n;
	}
	unsigned char md[32];
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	free(buf);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return rc;
}

static int errors;

static void emit(zfuse_fs_t *fs, const char *path, uint64_t ino)
{
	struct stat st;
	int rc = zfuse_getattr(fs, ino, &st);
	if (rc) {
		fprintf(stderr, "%s: getattr: %s\n", path, zfuse_strerror(rc));
		errors++;
		return;
	}
	char content[4200] = "-";
	if (S_ISREG(st.st_mode)) {
		if ((rc = sha256_file(fs, ino, (uint64_t)st.st_size, content)) != 0) {
			fprintf(stderr, "%s: read: %s\n", path, zfuse_strerror(rc));
			errors++;
		}
	} else if (S_ISLNK(st.st_mode)) {
		if ((rc = (int)zfuse_readlink(fs, ino, content, sizeof(content))) < 0) {
			fprintf(stderr, "%s: readlink: %s\n", path, zfuse_strerror(rc));
			errors++;
		}
	} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		snprintf(content, sizeof(content), "%x,%x", major(st.st_rdev), minor(st.st_rdev));
	}
	char *text;
	if (asprintf(&text, "%s\t%c\t%o\t%u\t%u\t%lld\t%lld.%09ld\t%lu\t%llu\t%lld\t%s", path,
		     type_char(st.st_mode), st.st_mode & 07777, st.st_uid, st.st_gid,
		     (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		     (unsigned long)st.st_nlink, (unsigned long long)st.st_ino,
		     (long long)st.st_blocks, content) > 0)
		add_line(&entries, text);
	char names[65536];
	ssize_t n = zfuse_listxattr(fs, ino, names, sizeof(names));
	if (n < 0) {
		fprintf(stderr, "%s: listxattr: %s\n", path, zfuse_strerror((int)n));
		errors++;
		return;
	}
	for (char *p = names; p < names + n; p += strlen(p) + 1) {
		static unsigned char val[1 << 17];
		ssize_t vl = zfuse_getxattr(fs, ino, p, val, sizeof(val));
		if (vl < 0) {
			fprintf(stderr, "%s: getxattr %s: %s\n", path, p, zfuse_strerror((int)vl));
			errors++;
			continue;
		}
		char *hex = malloc((size_t)vl * 2 + 3);
		strcpy(hex, "0x");
		for (ssize_t i = 0; i < vl; i++)
			sprintf(hex + 2 + 2 * i, "%02x", val[i]);
		if (asprintf(&text, "%s\t@xattr\t%s\t%s", path, p, hex) > 0)
			add_line(&xattrs, text);
		free(hex);
	}
}

struct dir_ctx {
	zfuse_fs_t *fs;
	const char *prefix;
	struct { char *name; uint64_t ino; unsigned dtype; } *ents;
	size_t n, cap;
};

static int collect(void *arg, const char *name, uint64_t ino, unsigned dtype, uint64_t next)
{
	(void)next;
	struct dir_ctx *c = arg;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->ents = realloc(c->ents, c->cap * sizeof(*c->ents));
	}
	c->ents[c->n].name = strdup(name);
	c->ents[c->n].ino = ino;
	c->ents[c->n].dtype = dtype;
	c->n++;
	return 0;
}

static void walk(zfuse_fs_t *fs, uint64_t dir, const char *prefix)
{
	struct dir_ctx c = { fs, prefix, NULL, 0, 0 };
	int rc = zfuse_readdir(fs, dir, 0, collect, &c);
	if (rc) {
		fprintf(stderr, "%s: readdir: %s\n", prefix, zfuse_strerror(rc));
		errors++;
	}
	for (size_t i = 0; i < c.n; i++) {
		char *path;
		if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", c.ents[i].name) < 0)
			continue;
		emit(fs, path, c.ents[i].ino);
		if (c.ents[i].dtype == DT_DIR)
			walk(fs, c.ents[i].ino, path);
		free(path);
		free(c.ents[i].name);
	}
	free(c.ents);
}

struct children_ctx {
	const char *ds;
	char mp[4096];
};

/* Print mount paths of descendant filesystems relative to ds's mountpoint. */
static int print_child(const struct zfuse_dataset_info *info, void *arg)
{
	struct children_ctx *c = arg;
	size_t l = strlen(c->ds);
	if (!strcmp(info->name, c->ds) && info->mountpoint)
		snprintf(c->mp, sizeof(c->mp), "%s", info->mountpoint);
	if (info->type != ZFUSE_DS_FILESYSTEM || strncmp(info->name, c->ds, l) || info->name[l] != '/')
		return 0;
	if (!info->mountpoint || info->mountpoint[0] != '/')
		return 0;
	size_t ml = strlen(c->mp);
	if (!strncmp(info->mountpoint, c->mp, ml) && info->mountpoint[ml] == '/')
		printf("%s\n", info->mountpoint + ml + 1);
	else if (ml == 1 && c->mp[0] == '/')
		printf("%s\n", info->mountpoint + 1);
	return 0;
}

static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
	uint64_t txg = 0;
	bool children = false;
	const char *keyloc = NULL;
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--txg") && argc > 2) {
			txg = strtoull(argv[2], NULL, 10);
			argv += 2;
			argc -= 2;
		} else if (!strcmp(argv[1], "--key") && argc > 2) {
			keyloc = argv[2];
			argv += 2;
			argc -= 2;
		} else if (!strcmp(argv[1], "--children")) {
			children = true;
			argv++;
			argc--;
		} else {
			break;
		}
	}
	if (argc < 3) {
		fprintf(stderr, "usage: zfuse-walk [--txg N] [--children] [--key LOCATION] DATASET "
			"IMAGE...\n");
		return 2;
	}
	struct zfuse_import_opts o = { .paths = (const char *const *)argv + 2,
				       .npaths = (size_t)argc - 2, .txg = txg, .log = log_stderr,
				       .log_level = ZFUSE_LOG_ERROR };
	zfuse_pool_t *pool;
	int rc = zfuse_pool_import(&o, &pool);
	if (rc) {
		fprintf(stderr, "import: %s\n", zfuse_strerror(rc));
		return 1;
	}
	if (children) {
		struct children_ctx c = { argv[1], "" };
		rc = zfuse_dataset_iter(pool, print_child, &c);
		zfuse_pool_close(pool);
		return rc ? 1 : 0;
	}
	if (keyloc) {
		struct zfuse_crypt_info ci;
		char mat[ZFUSE_KEY_MATERIAL_MAX + 2];
		size_t len = 0;
		if ((rc = zfuse_crypt_info(pool, argv[1], &ci)) != 0 ||
		    (rc = zfuse_key_read_location(keyloc, ci.keyformat, mat, sizeof(mat), &len)) != 0 ||
		    (rc = zfuse_key_load(pool, ci.root, mat, len)) != 0) {
			fprintf(stderr, "key for %s: %s\n", argv[1], zfuse_strerror(rc));
			zfuse_pool_close(pool);
			return 1;
		}
	}
	zfuse_fs_t *fs;
	rc = zfuse_fs_open(pool, argv[1], &fs);
	if (rc) {
		fprintf(stderr, "open %s: %s\n", argv[1], zfuse_strerror(rc));
		zfuse_pool_close(pool);
		return 1;
	}
	walk(fs, zfuse_fs_root(fs), "");
	print_sorted(&entries);
	print_sorted(&xattrs);
	zfuse_fs_close(fs);
	zfuse_pool_close(pool);
	return errors ? 1 : 0;
}
