/* SPDX-License-Identifier: CDDL-1.0 */
/*
 * cmd_key.c — keys of encrypted datasets on the command line: where key
 * material comes from (a file:// keylocation, or "prompt": the terminal
 * with echo off, else one line of standard input per encryption root, as
 * `zfs load-key` reads it), the keys a mount loads before it opens its
 * datasets (each root's stored keylocation, `-o keylocation=` for all,
 * `-o keys=FILE` per root), and the `load-key` / `unload-key` verbs.
 *
 * Key material is held in stack buffers that are wiped as soon as the
 * library has the key; nothing of it is ever printed or logged.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cmd.h"
#include "cmd_key.h"
#include "log.h"
#include "pool_verb.h"
#include "zfuse/crypt.h"
#include "zfuse/dataset.h"

#define MAT_CAP (ZFUSE_KEY_MATERIAL_MAX + 2)

static const char *format_word(enum zfuse_keyformat f)
{
	return f == ZFUSE_KEYFORMAT_RAW ? "raw key" : f == ZFUSE_KEYFORMAT_HEX ? "hex key" :
	       "passphrase";
}

/* One line of fd into buf without its newline (raw keys: 32 bytes). */
static int read_stdin_material(enum zfuse_keyformat fmt, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	size_t want = fmt == ZFUSE_KEYFORMAT_RAW ? 32 : cap - 1;
	while (n < want) {
		char c;
		ssize_t r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n' && fmt != ZFUSE_KEYFORMAT_RAW)
			break;
		buf[n++] = c;
	}
	*len = n;
	return n ? 0 : -ZFUSE_E_INVAL;
}

static int prompt_material(const char *root, enum zfuse_keyformat fmt, char *buf, size_t cap,
			   size_t *len, FILE *err)
{
	if (!isatty(STDIN_FILENO)) {
		int rc = read_stdin_material(fmt, buf, cap, len);
		if (rc)
			fprintf(err, "zfuse: no key for '%s' on standard input\n", root);
		return rc;
	}
	if (fmt == ZFUSE_KEYFORMAT_RAW) {
		fprintf(err, "zfuse: cannot enter a raw key for '%s' on a terminal; use "
			"keylocation=file://PATH\n", root);
		return -ZFUSE_E_INVAL;
	}
	struct termios old, quiet;
	bool echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	fprintf(stderr, "Enter %s for '%s': ", format_word(fmt), root);
	fflush(stderr);
	int rc = read_stdin_material(fmt, buf, cap, len);
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return rc;
}

int zf_key_read_new(const char *ds, const char *location, enum zfuse_keyformat fmt, char *buf,
		    size_t cap, size_t *len, FILE *err)
{
	int rc;
	*len = 0;
	if (strcmp(location, "prompt") != 0) {
		rc = zfuse_key_read_location(location, fmt, buf, cap, len);
		if (rc)
			fprintf(err, "zfuse: cannot read the new key of '%s' from %s: %s\n", ds, location,
				rc == -ZFUSE_E_INVAL ? "not a valid keylocation (prompt or "
				"file:///PATH) or too long" : zfuse_strerror(rc));
		return rc;
	}
	if (!isatty(STDIN_FILENO)) {
		if ((rc = read_stdin_material(fmt, buf, cap, len)) != 0)
			fprintf(err, "zfuse: no new key for '%s' on standard input\n", ds);
		return rc;
	}
	if (fmt == ZFUSE_KEYFORMAT_RAW) {
		fprintf(err, "zfuse: cannot enter a raw key for '%s' on a terminal; use "
			"keylocation=file://PATH\n", ds);
		return -ZFUSE_E_INVAL;
	}
	/* On a terminal: twice, echo off, as zfs create asks. */
	char again[MAT_CAP];
	size_t alen = 0;
	struct termios old, quiet;
	bool echo_off = tcgetattr(STDIN_FILENO, &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	fprintf(stderr, "Enter new %s: ", format_word(fmt));
	fflush(stderr);
	rc = read_stdin_material(fmt, buf, cap, len);
	if (rc == 0) {
		fprintf(stderr, "Re-enter new %s: ", format_word(fmt));
		fflush(stderr);
		rc = read_stdin_material(fmt, again, sizeof(again), &alen);
	}
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	if (rc == 0 && (alen != *len || memcmp(again, buf, alen) != 0)) {
		fprintf(err, "zfuse: Provided keys do not match.\n");
		rc = -ZFUSE_E_INVAL;
	}
	explicit_bzero(again, sizeof(again));
	if (rc)
		explicit_bzero(buf, cap);
	return rc;
}

int zf_key_load_root(zfuse_pool_t *pool, const char *root, const char *location, FILE *err)
{
	struct zfuse_crypt_info ci;
	int rc = zfuse_crypt_info(pool, root, &ci);
	if (rc) {
		fprintf(err, "zfuse: cannot load key for '%s': %s\n", root, zfuse_strerror(rc));
		return rc;
	}
	if (!location)
		location = ci.keylocation;
	char mat[MAT_CAP];
	size_t len = 0;
	if (strcmp(location, "prompt") == 0) {
		rc = prompt_material(ci.root, ci.keyformat, mat, sizeof(mat), &len, err);
	} else {
		rc = zfuse_key_read_location(location, ci.keyformat, mat, sizeof(mat), &len);
		if (rc)
			fprintf(err, "zfuse: cannot read the key of '%s' from %s: %s\n", ci.root,
				location, rc == -ZFUSE_E_INVAL ? "not a valid keylocation (prompt or "
				"file:///PATH) or too long" : zfuse_strerror(rc));
	}
	if (rc == 0) {
		unsigned before = zf_log_errors();
		rc = zfuse_key_load(pool, ci.root, mat, len);
		if (rc && zf_log_errors() == before)
			fprintf(err, "zfuse: Key load error: %s for '%s'\n", zfuse_strerror(rc),
				ci.root);
	}
	explicit_bzero(mat, sizeof(mat));
	return rc;
}

/* ---- keys a mount loads ------------------------------------------------- */

struct roots {
	char **v;
	size_t n;
	const char *under;	/* the mounted dataset */
	zfuse_pool_t *pool;
};

static bool below(const char *name, const char *top)
{
	size_t l = strlen(top);
	return strncmp(name, top, l) == 0 && (name[l] == 0 || name[l] == '/' || name[l] == '@');
}

static int collect_root(const struct zfuse_dataset_info *info, void *arg)
{
	struct roots *r = arg;
	struct zfuse_crypt_info ci;
	if (!info->encrypted || info->type == ZFUSE_DS_BOOKMARK)
		return 0;
	/* The mounted dataset's own root, and the roots of what is below it. */
	if (!below(info->name, r->under) && !below(r->under, info->name))
		return 0;
	if (zfuse_crypt_info(r->pool, info->name, &ci) != 0 || ci.loaded)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i], ci.root) == 0)
			return 0;
	char **nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv || !(nv[r->n] = strdup(ci.root))) {
		if (nv)
			r->v = nv;
		return -ZFUSE_E_NOMEM;
	}
	r->v = nv;
	r->n++;
	return 0;
}

/* The location keys FILE gives root (a static buffer), or NULL. */
static const char *keys_file_location(const char *file, const char *root, char *buf, size_t cap,
				      int *bad)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		*bad = errno;
		return NULL;
	}
	const char *found = NULL;
	while (!found && fgets(buf, (int)cap, f)) {
		buf[strcspn(buf, "\r\n")] = 0;
		char *sp = buf + strcspn(buf, " \t");
		if (buf[0] == '#' || !*sp)
			continue;
		*sp++ = 0;
		sp += strspn(sp, " \t");
		if (strcmp(buf, root) == 0)
			found = sp;
	}
	fclose(f);
	return found;
}

int zf_mount_load_keys(zfuse_pool_t *pool, const char *dsname, const char *keylocation,
		       const char *keys_file)
{
	struct roots r = { .under = dsname, .pool = pool };
	int rc = zfuse_dataset_iter(pool, collect_root, &r);
	for (size_t i = 0; i < r.n; i++) {
		char line[1400];
		int bad = 0;
		const char *loc = keys_file ? keys_file_location(keys_file, r.v[i], line,
								 sizeof(line), &bad) : NULL;
		if (bad) {
			fprintf(stderr, "zfuse: keys file %s: %s\n", keys_file, strerror(bad));
			rc = -ZFUSE_E_INVAL;
			break;
		}
		if (!loc)
			loc = keylocation;
		if (zf_key_load_root(pool, r.v[i], loc, stderr) != 0)
			zf_log(ZFUSE_LOG_ERROR, "the key of encryption root %s is not loaded: its "
			       "datasets stay locked", r.v[i]);
		else
			zf_log(ZFUSE_LOG_INFO, "loaded the key of encryption root %s", r.v[i]);
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i]);
	free(r.v);
	return rc;
}

/* ---- verbs -------------------------------------------------------------- */

struct verb_roots {
	struct roots r;
	bool recursive;
	const char *top;
};

static int collect_verb_root(const struct zfuse_dataset_info *info, void *arg)
{
	struct verb_roots *v = arg;
	if (info->type == ZFUSE_DS_SNAPSHOT || info->type == ZFUSE_DS_BOOKMARK || !info->encrypted)
		return 0;
	if (v->recursive ? !below(info->name, v->top) : strcmp(info->name, v->top) != 0)
		return 0;
	struct zfuse_crypt_info ci;
	if (zfuse_crypt_info(v->r.pool, info->name, &ci) != 0 || strcmp(ci.root, info->name) != 0)
		return 0;
	char **nv = realloc(v->r.v, (v->r.n + 1) * sizeof(*nv));
	if (!nv || !(nv[v->r.n] = strdup(info->name))) {
		if (nv)
			v->r.v = nv;
		return -ZFUSE_E_NOMEM;
	}
	v->r.v = nv;
	v->r.n++;
	return 0;
}

static void load_key_usage(FILE *out)
{
	fprintf(out,
"usage: zfuse load-key [-d DIR|IMAGE] [-L keylocation] [-r] DATASET\n"
"\n"
"Load the key of encryption root DATASET (with -r: of every encryption root at\n"
"or below it) from its keylocation property, or from -L (prompt or\n"
"file:///PATH), checking it as `zfs load-key` does (a wrong key is refused).\n"
"Offline (-d) this only validates the keys; through a running zfuse mount the\n"
"daemon keeps them for datasets it opens later.\n");
}

static void unload_key_usage(FILE *out)
{
	fprintf(out,
"usage: zfuse unload-key [-r] DATASET\n"
"\n"
"Forget the key of encryption root DATASET (with -r: of every root at or below\n"
"it) in a running zfuse mount; refused while a dataset under it is mounted.\n");
}

static int key_verb(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err, bool load)
{
	const char *location = NULL;
	bool recursive = false;
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, load ? "L:r" : "r")) != -1) {
		switch (opt) {
		case 'L': location = optarg; break;
		case 'r': recursive = true; break;
		default:
			(load ? load_key_usage : unload_key_usage)(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		(load ? load_key_usage : unload_key_usage)(err);
		return ZF_EXIT_USAGE;
	}
	struct verb_roots v = { .r = { .pool = pool }, .recursive = recursive, .top = argv[optind] };
	int rc = zfuse_dataset_iter(pool, collect_verb_root, &v);
	if (rc == 0 && v.r.n == 0) {
		struct zfuse_crypt_info ci;
		int r2 = zfuse_crypt_info(pool, argv[optind], &ci);
		fprintf(err, "zfuse: %s error: '%s' %s\n", load ? "Key load" : "Key unload",
			argv[optind], r2 == -ZFUSE_E_NOENT ? "does not exist" : r2 ? "is not encrypted" :
			"is not an encryption root");
		rc = -ZFUSE_E_INVAL;
	}
	size_t ok = 0;
	for (size_t i = 0; i < v.r.n; i++) {
		int r = load ? zf_key_load_root(pool, v.r.v[i], location, err) :
			       zfuse_key_unload(pool, v.r.v[i]);
		if (!load && r)
			fprintf(err, "zfuse: Key unload error: '%s': %s\n", v.r.v[i],
				r == -ZFUSE_E_BUSY ? "dataset is busy" : zfuse_strerror(r));
		ok += r == 0;
	}
	if (recursive)
		fprintf(out, "%zu / %zu key(s) successfully %s\n", ok, v.r.n,
			load ? "loaded" : "unloaded");
	for (size_t i = 0; i < v.r.n; i++)
		free(v.r.v[i]);
	free(v.r.v);
	return rc || ok != v.r.n ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

static int load_key_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	return key_verb(pool, argc, argv, out, err, true);
}

static int unload_key_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	return key_verb(pool, argc, argv, out, err, false);
}

const struct zf_pool_verb zf_verb_load_key = {
	"load-key", "load (or, offline, check) the key of an encryption root (as zfs load-key)",
	false, "L:r", ZF_POOL_OPERAND_LAST, load_key_run, load_key_usage,
};
const struct zf_pool_verb zf_verb_unload_key = {
	"unload-key", "forget the key of an encryption root in a running mount", false, "r",
	ZF_POOL_OPERAND_LAST, unload_key_run, unload_key_usage,
};

/* ---- change-key ---------------------------------------------------------- */

static void change_key_usage(FILE *out)
{
	fputs("usage: zfuse change-key [-d DIR|IMAGE]... [-l] [-o keyformat=FORMAT]\n"
	      "           [-o keylocation=LOCATION] [-o pbkdf2iters=N] DATASET\n"
	      "       zfuse change-key [-d DIR|IMAGE]... -i [-l] DATASET\n"
	      "Change the wrapping key of DATASET, as zfs change-key: every master key its\n"
	      "encryption root wraps at or below it is rewrapped with the new key, read from\n"
	      "the new (or the current) keylocation (prompt: asked twice on a terminal). A\n"
	      "dataset that inherits its key becomes an encryption root (-o keyformat\n"
	      "required). -i: the encryption root DATASET inherits its parent's encryption\n"
	      "root instead (its keys are rewrapped with the parent's root's key). Keys not\n"
	      "loaded are loaded from their keylocation first (-l: as zfs).\n", out);
}

static int change_key_run(zfuse_pool_t *pool, int argc, char **argv, FILE *out, FILE *err)
{
	(void)out;
	struct zfuse_prop_setting props[8];
	size_t n = 0;
	bool inherit = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+ilo:")) != -1) {
		char *eq;
		switch (c) {
		case 'i': inherit = true; break;
		case 'l': break;	/* keys are loaded when they are not anyway */
		case 'o':
			eq = strchr(optarg, '=');
			if (!eq || n == sizeof(props) / sizeof(props[0])) {
				change_key_usage(err);
				return ZF_EXIT_USAGE;
			}
			*eq = '\0';
			props[n++] = (struct zfuse_prop_setting){ optarg, eq + 1 };
			break;
		default:
			change_key_usage(err);
			return ZF_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (inherit && n)) {
		if (inherit && n)
			fprintf(err, "zfuse: -i cannot be given with -o\n");
		change_key_usage(err);
		return ZF_EXIT_USAGE;
	}
	const char *ds = argv[optind];
	struct zfuse_crypt_info ci;
	int rc = zfuse_crypt_info(pool, ds, &ci);
	if (rc) {
		fprintf(err, "zfuse: Key change error: '%s' %s\n", ds,
			rc == -ZFUSE_E_NOENT ? "does not exist" : "is not encrypted");
		return ZF_EXIT_FAIL;
	}
	bool is_root = strcmp(ci.root, ds) == 0;
	const char *loc = is_root ? ci.keylocation : "prompt", *f = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(props[i].name, "keylocation") == 0)
			loc = props[i].value;
		else if (strcmp(props[i].name, "keyformat") == 0)
			f = props[i].value;
	}
	if (!inherit && !is_root && !f) {
		fprintf(err, "zfuse: Key change error: '%s': Keyformat required for new encryption "
			"root.\n", ds);
		return ZF_EXIT_FAIL;
	}
	if (!ci.loaded && zf_key_load_root(pool, ci.root, NULL, err) != 0)
		return ZF_EXIT_FAIL;
	if (inherit) {
		char parent[sizeof(ci.root)];
		snprintf(parent, sizeof(parent), "%s", ds);
		char *slash = strrchr(parent, '/');
		struct zfuse_crypt_info pci;
		if (slash) {
			*slash = '\0';
			if (zfuse_crypt_info(pool, parent, &pci) == 0 && !pci.loaded &&
			    zf_key_load_root(pool, pci.root, NULL, err) != 0)
				return ZF_EXIT_FAIL;
		}
		unsigned before = zf_log_errors();
		rc = zfuse_key_inherit(pool, ds);
		if (rc && zf_log_errors() == before)
			fprintf(err, "zfuse: Key change error: %s\n", zfuse_strerror(rc));
		return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
	}
	enum zfuse_keyformat fmt = !f ? ci.keyformat : strcmp(f, "raw") == 0 ? ZFUSE_KEYFORMAT_RAW :
				   strcmp(f, "hex") == 0 ? ZFUSE_KEYFORMAT_HEX : ZFUSE_KEYFORMAT_PASSPHRASE;
	char mat[MAT_CAP];
	size_t len = 0;
	rc = zf_key_read_new(ds, loc, fmt, mat, sizeof(mat), &len, err);
	if (rc == 0) {
		unsigned before = zf_log_errors();
		rc = zfuse_key_change(pool, ds, props, n, mat, len);
		if (rc && zf_log_errors() == before)
			fprintf(err, "zfuse: Key change error: %s\n", zfuse_strerror(rc));
	}
	explicit_bzero(mat, sizeof(mat));
	return rc ? ZF_EXIT_FAIL : ZF_EXIT_OK;
}

const struct zf_pool_verb zf_verb_change_key = {
	"change-key", "change the wrapping key of an encrypted dataset (as zfs change-key)", true,
	"ilo:", ZF_POOL_OPERAND_LAST, change_key_run, change_key_usage,
};
