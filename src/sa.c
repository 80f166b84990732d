/*
 * sa.c — system attribute tables and per-object attribute lookup. The
 * layout of a bonus buffer is data-driven (registry lengths + layout
 * order + per-object variable lengths), so every offset is checked against
 * the buffer it points into before use.
 */
#include <stdlib.h>
#include <string.h>
#include "byteorder.h"
#include "sa.h"
#include "zap.h"
#include "zfuse/errors.h"

#define SA_MAX_ATTR_NUM 4096
#define SA_MAX_LAYOUTS 1024

static const char *const zpl_names[ZPL_END] = {
	"ZPL_ATIME", "ZPL_MTIME", "ZPL_CTIME", "ZPL_CRTIME", "ZPL_GEN", "ZPL_MODE",
	"ZPL_SIZE", "ZPL_PARENT", "ZPL_LINKS", "ZPL_XATTR", "ZPL_RDEV", "ZPL_FLAGS",
	"ZPL_UID", "ZPL_GID", "ZPL_PAD", "ZPL_ZNODE_ACL", "ZPL_DACL_COUNT", "ZPL_SYMLINK",
	"ZPL_SCANSTAMP", "ZPL_DACL_ACES", "ZPL_DXATTR", "ZPL_PROJID",
};

struct sa_attr {
	char name[64];
	uint16_t length;	/* 0: variable */
	int zpl;		/* enum zpl_attr or -1 */
	bool registered;
};

struct sa_layout {
	uint16_t *attrs;
	uint32_t count;
	bool present;
};

struct sa_table {
	struct sa_attr attrs[SA_MAX_ATTR_NUM];
	struct sa_layout layouts[SA_MAX_LAYOUTS];
};

const char *sa_zpl_attr_name(enum zpl_attr a)
{
	return a < ZPL_END ? zpl_names[a] : "?";
}

struct load_ctx {
	sa_table_t *t;
	int rc;
};

static int registry_cb(void *arg, const zap_entry_t *ze)
{
	struct load_ctx *c = arg;
	uint64_t v = ze->value_first;
	unsigned num = v & 0xffff;
	if (num >= SA_MAX_ATTR_NUM) {
		c->rc = -ZFUSE_E_CORRUPT;
		return 1;
	}
	struct sa_attr *a = &c->t->attrs[num];
	snprintf(a->name, sizeof(a->name), "%s", ze->name);
	a->length = (uint16_t)((v >> 24) & 0xffff);
	a->registered = true;
	a->zpl = -1;
	for (int i = 0; i < ZPL_END; i++)
		if (strcmp(ze->name, zpl_names[i]) == 0)
			a->zpl = i;
	return 0;
}

static int layouts_cb(void *arg, const zap_entry_t *ze)
{
	struct load_ctx *c = arg;
	char *end;
	unsigned long num = strtoul(ze->name, &end, 10);
	if (*end || num >= SA_MAX_LAYOUTS || ze->value_intlen != 2 || ze->value_numints > 1024) {
		c->rc = -ZFUSE_E_CORRUPT;
		return 1;
	}
	struct sa_layout *l = &c->t->layouts[num];
	free(l->attrs);
	l->attrs = malloc(ze->value_numints * sizeof(uint16_t) + 1);
	if (!l->attrs) {
		c->rc = -ZFUSE_E_NOMEM;
		return 1;
	}
	memcpy(l->attrs, ze->value, ze->value_numints * sizeof(uint16_t));
	l->count = (uint32_t)ze->value_numints;
	l->present = true;
	return 0;
}

static int load_zap(objset_t *os, uint64_t obj, zap_iter_fn cb, struct load_ctx *c)
{
	dnode_t dn;
	int rc = dnode_hold(os, obj, &dn);
	if (rc)
		return rc;
	rc = zap_iterate(&dn, 0, 0, cb, c);
	dnode_rele(&dn);
	return rc < 0 ? rc : c->rc;
}

int sa_table_load(objset_t *os, uint64_t sa_master_obj, sa_table_t **out)
{
	sa_table_t *t = calloc(1, sizeof(*t));
	if (!t)
		return -ZFUSE_E_NOMEM;
	dnode_t master;
	int rc = dnode_hold(os, sa_master_obj, &master);
	if (rc) {
		free(t);
		return rc;
	}
	uint64_t reg = 0, lay = 0;
	zap_lookup_uint64(&master, "REGISTRY", &reg);
	zap_lookup_uint64(&master, "LAYOUTS", &lay);
	dnode_rele(&master);
	struct load_ctx c = { t, 0 };
	if (reg && (rc = load_zap(os, reg, registry_cb, &c)) != 0)
		goto fail;
	if (lay && (rc = load_zap(os, lay, layouts_cb, &c)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	sa_table_free(t);
	return rc;
}

void sa_table_free(sa_table_t *t)
{
	if (!t)
		return;
	for (int i = 0; i < SA_MAX_LAYOUTS; i++)
		free(t->layouts[i].attrs);
	free(t);
}

typedef void (*sa_visit_fn)(void *arg, unsigned num, const struct sa_attr *a,
			    const uint8_t *val, uint32_t len);

/* Walk one SA buffer (bonus or spill) and visit each attribute. */
static int sa_parse(const sa_table_t *t, const uint8_t *buf, uint64_t len, sa_visit_fn visit, void *arg)
{
	if (len < 8)
		return -ZFUSE_E_CORRUPT;
	uint32_t magic = le32(buf);
	if (magic == 0)
		return 0;	/* freshly allocated: no attributes */
	if (magic != SA_MAGIC)
		return -ZFUSE_E_CORRUPT;
	uint16_t info = le16(buf + 4);
	unsigned layout_num = info & 0x3ff;
	uint64_t hdrsize = (uint64_t)(info >> 10) * 8;
	if (hdrsize < 8 || hdrsize > len)
		return -ZFUSE_E_CORRUPT;
	if (layout_num == 0 || layout_num == 1)
		return 0;
	const struct sa_layout *l = &t->layouts[layout_num];
	if (!l->present)
		return -ZFUSE_E_CORRUPT;
	uint64_t p = hdrsize;
	unsigned var = 0;
	for (uint32_t i = 0; i < l->count; i++) {
		unsigned num = l->attrs[i];
		if (num >= SA_MAX_ATTR_NUM || !t->attrs[num].registered)
			return -ZFUSE_E_CORRUPT;
		const struct sa_attr *a = &t->attrs[num];
		uint64_t alen = a->length;
		if (alen == 0) {
			uint64_t off = 6 + 2ULL * var++;
			if (off + 2 > hdrsize)
				return -ZFUSE_E_CORRUPT;
			alen = le16(buf + off);
		}
		if (p + alen > len)
			return -ZFUSE_E_CORRUPT;
		visit(arg, num, a, buf + p, (uint32_t)alen);
		p = (p + alen + 7) & ~7ULL;
	}
	return 0;
}

static void handle_visit(void *arg, unsigned num, const struct sa_attr *a, const uint8_t *val,
			 uint32_t len)
{
	(void)num;
	sa_handle_t *h = arg;
	if (a->zpl >= 0 && !h->attr[a->zpl]) {
		h->attr[a->zpl] = val;
		h->len[a->zpl] = len;
	}
}

static int sa_for_buffers(const sa_table_t *t, dnode_t *dn, arc_buf_t **spill, sa_visit_fn visit, void *arg)
{
	uint64_t blen;
	const uint8_t *bonus = dnode_bonus(dn, &blen);
	/* dn_bonuslen may undercount when a spill exists; the layout is
	 * bounded by the bonus capacity instead. */
	uint64_t cap = dnode_bonus_capacity(dn);
	int rc = sa_parse(t, bonus, cap > blen ? cap : blen, visit, arg);
	if (rc)
		return rc;
	rc = dnode_spill_hold(dn, spill);
	if (rc == -ZFUSE_E_NOENT)
		return 0;
	if (rc)
		return rc;
	return sa_parse(t, (*spill)->data, (*spill)->size, visit, arg);
}

int sa_handle_get(const sa_table_t *t, dnode_t *dn, sa_handle_t *h)
{
	memset(h, 0, sizeof(*h));
	h->dn = dn;
	if (!t)
		return -ZFUSE_E_CORRUPT;
	int rc = sa_for_buffers(t, dn, &h->spill, handle_visit, h);
	if (rc)
		sa_handle_release(h);
	return rc;
}

void sa_handle_release(sa_handle_t *h)
{
	if (h->spill) {
		arc_release(h->dn->os->spa, h->spill);
		h->spill = NULL;
	}
}

uint64_t sa_get_u64(const sa_handle_t *h, enum zpl_attr a, uint64_t dflt)
{
	if (!h->attr[a] || h->len[a] < 8)
		return dflt;
	return le64(h->attr[a]);
}

struct foreach_ctx {
	void (*cb)(void *, const char *, unsigned, const uint8_t *, uint32_t);
	void *arg;
};

static void foreach_visit(void *arg, unsigned num, const struct sa_attr *a, const uint8_t *val,
			  uint32_t len)
{
	struct foreach_ctx *c = arg;
	c->cb(c->arg, a->name, num, val, len);
}

int sa_foreach(const sa_table_t *t, dnode_t *dn,
	       void (*cb)(void *arg, const char *name, unsigned num, const uint8_t *val, uint32_t len),
	       void *arg)
{
	struct foreach_ctx c = { cb, arg };
	arc_buf_t *spill = NULL;
	int rc = sa_for_buffers(t, dn, &spill, foreach_visit, &c);
	if (spill)
		arc_release(dn->os->spa, spill);
	return rc;
}
