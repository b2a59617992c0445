// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool handover: the pool directory given to the next kernel, and the
 * validation and restore of the one received from the previous kernel.
 *
 * Copyright (C) 2026 The pmpool authors
 */

/**
 * DOC: pmpool handover
 *
 * What is preserved: for every pool created while KHO is enabled, its name,
 * tag, object size, NUMA node, root handle, every slab with every object's
 * content, and the allocation bitmaps, at the same physical addresses.
 * Handles stay the same.
 *
 * What is not preserved: in-kernel bookkeeping (lists, counters, the
 * reserve set with pmpool_reserve(), which the driver sets again after
 * restore), pools created while KHO was disabled, and incoming pools that
 * were neither restored nor discarded before the next kexec: their memory
 * is not preserved again, so the kernel after next reuses it as free RAM.
 *
 * Incoming state is validated in full when pmpool initialises, before any
 * kho_restore_folio(): the directory's header and compatible string, each
 * pool's properties, descriptor, chunks and slab records (sizes, counts,
 * alignment, addresses inside System RAM, no overlaps, bitmap bits beyond
 * the last object clear, root handle live).  A bad directory refuses every
 * pool; a bad pool is refused alone, by name, with the reason.  The memory
 * of a refused pool is never restored: KHO keeps it reserved for the life
 * of this kernel (debugfs shows how much), and it is free RAM again after
 * the next kexec or reboot.
 *
 * The directory is rewritten in place (one memcpy()) when a pool is
 * created or destroyed, under pmpool_mutex.  A restore only marks it stale
 * (the pool it adds back was listed by the previous kernel, so it fits):
 * the rewrite, O(pools), is done by the next create or destroy, or at the
 * latest by the reboot notifier.  When a kexec (or any reboot) begins, that
 * notifier takes the mutex once and freezes the directory: it is then never
 * rewritten, so the next kernel gets it whole even if a CPU is stopped in
 * the middle of a pool operation.
 * The set of pools handed over is the one at that moment: a pool created or
 * restored later is volatile, and a handed-over pool destroyed later keeps
 * its memory for the next kernel.  Allocation, free and root updates may
 * race with the kexec freely: each is one store to preserved memory.
 */

#define pr_fmt(fmt) "pmpool: " fmt

#include <kunit/visibility.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/ioport.h>
#include <linux/kexec_handover.h>
#include <linux/libfdt.h>
#include <linux/mm.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "pmpool_internal.h"

static_assert(PMPOOL_F_FOLIO_PER_OBJ == PMPOOL_ABI_F_FOLIO_PER_OBJ);

/* The directory handed to the next kernel, preserved, and its scratch. */
#define PMPOOL_FDT_SIZE		SZ_64K
/* Directory bytes one pool takes, with room to spare (about 170 used). */
#define PMPOOL_FDT_POOL_BYTES	256
static void *pmpool_fdt_out;
static void *pmpool_fdt_scratch;
/*
 * The compatible string written and accepted.  Only the test hooks change
 * it (pmpool.test_abi_bump=1), to act as a build with the next ABI version.
 */
const char *pmpool_abi_compat = PMPOOL_ABI_COMPATIBLE;
/* A reboot has begun: the directory is final (under pmpool_mutex). */
static bool pmpool_frozen;
/* A restored pool is not listed in the directory yet (under pmpool_mutex). */
static bool pmpool_dir_stale;

/**
 * pmpool_handover_active() - whether new pools are handed over
 *
 * Return: true once pmpool has registered its directory with KHO, until
 * a reboot freezes it.
 */
bool pmpool_handover_active(void)
{
	return pmpool_fdt_out && !pmpool_frozen;
}

/**
 * pmpool_handover_frozen() - whether the directory is final
 *
 * Context: under pmpool_mutex.
 * Return: true once a reboot has begun.
 */
bool pmpool_handover_frozen(void)
{
	lockdep_assert_held(&pmpool_mutex);
	return pmpool_frozen;
}

static int pmpool_reboot_notify(struct notifier_block *nb,
				unsigned long action, void *data)
{
	mutex_lock(&pmpool_mutex);
	if (pmpool_dir_stale) {
		if (pmpool_handover_update())
			pr_err("directory full: restored pools are not handed over\n");
		else
			pr_info("directory rewritten at reboot: restored pools handed over\n");
	}
	pmpool_frozen = true;
	mutex_unlock(&pmpool_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block pmpool_reboot_nb = {
	.notifier_call = pmpool_reboot_notify,
};

/* Where our outgoing directory is, up to date, for the tests (under the mutex). */
int pmpool_fdt_out_get(phys_addr_t *phys, size_t *size)
{
	lockdep_assert_held(&pmpool_mutex);
	if (!pmpool_fdt_out)
		return -ENOENT;
	if (pmpool_dir_stale && pmpool_handover_update())
		return -ENOSPC;
	*phys = virt_to_phys(pmpool_fdt_out);
	*size = PMPOOL_FDT_SIZE;
	return 0;
}

/* KHO refused to preserve memory (it ran out of its own): for the tests. */
static atomic_long_t pmpool_nr_kho_errors;

/**
 * pmpool_kho_errors() - how often KHO failed to preserve pool memory
 *
 * Each failure was returned to the caller as -ENOMEM; the fault-injection
 * tests use this to show that they reached KHO's allocations too.
 *
 * Return: the number of failed kho_preserve_folio() calls.
 */
unsigned long pmpool_kho_errors(void)
{
	return atomic_long_read(&pmpool_nr_kho_errors);
}
EXPORT_SYMBOL_IF_KUNIT(pmpool_kho_errors);

#ifdef CONFIG_FAULT_INJECTION
/*
 * fail_kho: KHO refusing to preserve pool memory, on demand.  KHO's own
 * allocations happen only when its tracking tree grows, which a test cannot
 * steer; this point sits where their failure would surface and takes part
 * in fail-nth sweeps like every slab and page allocation.
 */
static DECLARE_FAULT_ATTR(pmpool_fail_kho);

static bool pmpool_kho_should_fail(void)
{
	return should_fail_ex(&pmpool_fail_kho, 1, FAULT_NOWARN);
}

void pmpool_fault_debugfs_init(struct dentry *dir)
{
	fault_create_debugfs_attr("fail_kho", dir, &pmpool_fail_kho);
}
#else
static bool pmpool_kho_should_fail(void)
{
	return false;
}

void pmpool_fault_debugfs_init(struct dentry *dir) { }
#endif

/* kho_preserve_folio(), counted when it fails. */
static int pmpool_kho_preserve(struct folio *folio)
{
	int err = pmpool_kho_should_fail() ? -ENOMEM : kho_preserve_folio(folio);

	if (err)
		atomic_long_inc(&pmpool_nr_kho_errors);
	return err;
}

int pmpool_preserve_folio(struct pmpool *pool, struct folio *folio)
{
	return pool->persistent ? pmpool_kho_preserve(folio) : 0;
}

void pmpool_unpreserve_folio(struct pmpool *pool, struct folio *folio)
{
	if (pool->persistent)
		kho_unpreserve_folio(folio);
}

static int pmpool_fdt_add_pool(void *fdt, struct pmpool *pool)
{
	char node[16];
	int err;

	snprintf(node, sizeof(node), "pool@%x", pool->tag);
	err = fdt_begin_node(fdt, node);
	err |= fdt_property_string(fdt, PMPOOL_ABI_PROP_NAME, pool->name);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_TAG, pool->tag);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_OBJ_SIZE, pool->geo.obj_size);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_SLAB_ORDER,
				pool->geo.slab_order);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_FLAGS, pool->geo.flags);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_NODE, (u32)pool->nid);
	err |= fdt_property_u64(fdt, PMPOOL_ABI_PROP_DESC, virt_to_phys(pool->desc));
	err |= fdt_end_node(fdt);
	return err;
}

static int pmpool_fdt_build(void *fdt, int size)
{
	struct pmpool *pool;
	int err;

	err = fdt_create(fdt, size);
	err |= fdt_finish_reservemap(fdt);
	err |= fdt_begin_node(fdt, "");
	err |= fdt_property_string(fdt, "compatible", pmpool_abi_compat);
	list_for_each_entry(pool, &pmpool_pools, list)
		if (pool->persistent)
			err |= pmpool_fdt_add_pool(fdt, pool);
	err |= fdt_end_node(fdt);
	err |= fdt_finish(fdt);
	return err;
}

/**
 * pmpool_handover_update() - rewrite the directory for the next kernel
 *
 * Called with pmpool_mutex held when a pool is created or destroyed, and
 * after restores (see pmpool_dir_stale).  The directory is built aside and
 * copied into the preserved blob in one go, so the window in which a kexec
 * could see it torn is one memcpy().
 *
 * Return: 0, or -ENOSPC if the directory would not fit.
 */
int pmpool_handover_update(void)
{
	void *fdt = pmpool_fdt_scratch;
	struct pmpool *pool;
	int n = 0, size;

	lockdep_assert_held(&pmpool_mutex);
	if (!pmpool_fdt_out || pmpool_frozen)
		return 0;
	list_for_each_entry(pool, &pmpool_pools, list)
		n += pool->persistent;
	/* fdt_create() clears all it is given: give what the pools need. */
	size = min(PMPOOL_FDT_SIZE, SZ_1K + n * PMPOOL_FDT_POOL_BYTES);
	if (pmpool_fdt_build(fdt, size) &&
	    (size == PMPOOL_FDT_SIZE || pmpool_fdt_build(fdt, PMPOOL_FDT_SIZE)))
		return -ENOSPC;
	memcpy(pmpool_fdt_out, fdt, fdt_totalsize(fdt));
	pmpool_dir_stale = false;
	return 0;
}

/* ---- incoming state ---------------------------------------------------- */

/* [start, start + size) is System RAM with a struct page: safe to read. */
static bool pmpool_phys_ok(phys_addr_t start, u64 size, unsigned int order)
{
	unsigned long pfn;

	if (!start || !IS_ALIGNED(start, PAGE_SIZE << order) || start + size < start)
		return false;
	if (region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_INTERSECTS)
		return false;
	/* region_intersects() does not see holes without a resource. */
	for (pfn = PHYS_PFN(start); pfn < PHYS_PFN(start + size); pfn++)
		if (!pfn_to_online_page(pfn))
			return false;
	return true;
}

/*
 * A block of 2^@order pages the previous kernel named at @phys: 0 if it is
 * in RAM and KHO holds a preserved block of exactly that order there (so
 * that kho_restore_folio() will give it back without a warning), -EFAULT if
 * it is not RAM or misaligned, -ENOENT if it was not preserved as such.
 */
static int pmpool_block_check(phys_addr_t phys, unsigned int order,
			      pmpool_block_order_fn block_order)
{
	if (!pmpool_phys_ok(phys, PAGE_SIZE << order, order))
		return -EFAULT;
	return block_order(phys) == order ? 0 : -ENOENT;
}

static int pmpool_fdt_u32(const void *fdt, int node, const char *name, u32 *val)
{
	const fdt32_t *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p || len != sizeof(*p))
		return -EINVAL;
	*val = fdt32_to_cpu(*p);
	return 0;
}

static int pmpool_fdt_u64(const void *fdt, int node, const char *name, u64 *val)
{
	const fdt64_t *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p || len != sizeof(*p))
		return -EINVAL;
	*val = fdt64_to_cpu(*p);
	return 0;
}

/* Fill @in from one pool node; sets in->error on a bad node. */
static void pmpool_parse_node(const void *fdt, int node, unsigned int version,
			      struct pmpool_incoming *in)
{
	u32 tag, obj_size, slab_order, flags, nid;
	const char *name;
	u64 desc;
	int len;

	in->version = version;
	name = fdt_getprop(fdt, node, PMPOOL_ABI_PROP_NAME, &len);
	if (!name || len < 2 || len > PMPOOL_ABI_NAME_MAX ||
	    strnlen(name, len) != len - 1) {
		snprintf(in->name, sizeof(in->name), "%s", fdt_get_name(fdt, node, NULL) ?: "?");
		in->error = "name missing, too long or not NUL-terminated";
		return;
	}
	strscpy(in->name, name);
	if (pmpool_fdt_u32(fdt, node, PMPOOL_ABI_PROP_TAG, &tag) ||
	    pmpool_fdt_u32(fdt, node, PMPOOL_ABI_PROP_OBJ_SIZE, &obj_size) ||
	    pmpool_fdt_u32(fdt, node, PMPOOL_ABI_PROP_SLAB_ORDER, &slab_order) ||
	    pmpool_fdt_u32(fdt, node, PMPOOL_ABI_PROP_FLAGS, &flags) ||
	    pmpool_fdt_u32(fdt, node, PMPOOL_ABI_PROP_NODE, &nid) ||
	    pmpool_fdt_u64(fdt, node, PMPOOL_ABI_PROP_DESC, &desc)) {
		in->error = "property missing or of the wrong size";
		return;
	}
	if (!tag || tag > PMPOOL_ABI_TAG_MAX) {
		in->error = "tag out of range";
		return;
	}
	in->tag = tag;
	in->nid = (int)nid;
	if (in->nid != NUMA_NO_NODE &&
	    (in->nid < 0 || in->nid >= MAX_NUMNODES || !node_online(in->nid)))
		in->nid = NUMA_NO_NODE;	/* topology changed: any node will do */
	if (flags & ~PMPOOL_ABI_F_FOLIO_PER_OBJ) {
		in->error = "unknown pool flags";
		return;
	}
	if (pmpool_geometry_init(&in->geo, obj_size, flags) ||
	    in->geo.obj_size != obj_size || in->geo.slab_order != slab_order) {
		in->error = "object size, slab order or flags not valid";
		return;
	}
	in->desc_phys = desc;
}

struct pmpool_range {
	phys_addr_t start;
	phys_addr_t end;
	struct pmpool_incoming *owner;	/* for the check across pools */
};

static int pmpool_range_cmp(const void *a, const void *b)
{
	const struct pmpool_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* v2 and v3 descriptors share their first fields, geometry and root. */
static_assert(offsetof(struct pmpool_desc_v2_ser, root) ==
	      offsetof(struct pmpool_desc_ser, root));
static_assert(offsetof(struct pmpool_desc_v2_ser, reserved) ==
	      offsetof(struct pmpool_desc_ser, reserved));

/* The descriptor's size fields against the geometry of the directory. */
static bool pmpool_desc_geometry_ok(const struct pmpool_desc_ser *desc,
				    const struct pmpool_geometry *geo)
{
	return READ_ONCE(desc->obj_size) == geo->obj_size &&
	       READ_ONCE(desc->slab_order) == geo->slab_order &&
	       READ_ONCE(desc->objs_per_slab) == geo->objs_per_slab &&
	       READ_ONCE(desc->rec_size) == geo->rec_size &&
	       READ_ONCE(desc->recs_per_chunk) == geo->recs_per_chunk &&
	       !READ_ONCE(desc->reserved);
}

static void pmpool_incoming_tables_free(struct pmpool_incoming *in)
{
	kvfree(in->chunks);
	kvfree(in->tables);
	in->chunks = NULL;
	in->tables = NULL;
}

static int pmpool_incoming_tables_alloc(struct pmpool_incoming *in)
{
	pmpool_incoming_tables_free(in);
	if (in->nr_chunks)
		in->chunks = kvmalloc_array(in->nr_chunks, sizeof(u64), GFP_KERNEL);
	if (in->nr_tables)
		in->tables = kvmalloc_array(in->nr_tables, sizeof(u64), GFP_KERNEL);
	if ((in->nr_chunks && !in->chunks) || (in->nr_tables && !in->tables)) {
		in->error = "no memory to validate it";
		return -ENOMEM;
	}
	return 0;
}

/*
 * A v3 descriptor: copy its chunk count and root, and the chunk list from
 * its chain of tables, each proven preserved before it is read.  Returns
 * in @nr_slabs and @busy the structural count the records must match.
 */
static int pmpool_desc_read_v3(struct pmpool_incoming *in,
			       const struct pmpool_desc_ser *desc,
			       pmpool_block_order_fn block_order,
			       u64 *nr_slabs, u64 *busy)
{
	const struct pmpool_geometry *geo = &in->geo;
	const struct pmpool_table_ser *table;
	unsigned int nr_chunks, t, n;
	phys_addr_t phys;
	int err;

	if (READ_ONCE(desc->magic) != PMPOOL_ABI_DESC_MAGIC) {
		in->error = "bad descriptor magic";
		return -EINVAL;
	}
	if (!pmpool_desc_geometry_ok(desc, geo)) {
		in->error = "descriptor geometry does not match the directory";
		return -EINVAL;
	}
	nr_chunks = READ_ONCE(desc->nr_chunks);
	if (nr_chunks > PMPOOL_MAX_CHUNKS(geo)) {
		in->error = "chunk count above what slab numbers can address";
		return -EINVAL;
	}
	*nr_slabs = READ_ONCE(desc->nr_slabs);
	*busy = READ_ONCE(desc->busy_slab);
	if (*nr_slabs > (u64)nr_chunks * geo->recs_per_chunk) {
		in->error = "slab count above what the chunks hold";
		return -EINVAL;
	}
	if (*busy > (u64)nr_chunks * geo->recs_per_chunk) {
		in->error = "busy slab number beyond the chunks";
		return -EINVAL;
	}
	in->nr_chunks = nr_chunks;
	in->nr_tables = DIV_ROUND_UP(nr_chunks, PMPOOL_ABI_TABLE_CHUNKS);
	in->root = READ_ONCE(desc->root);
	err = pmpool_incoming_tables_alloc(in);
	if (err)
		return err;
	phys = READ_ONCE(desc->table);
	for (t = 0; t < in->nr_tables; t++) {
		err = pmpool_block_check(phys, 0, block_order);
		if (err) {
			in->error = err == -EFAULT ?
				"chunk table address not in RAM or misaligned" :
				"chunk table is not a preserved page";
			return -EINVAL;
		}
		table = phys_to_virt(phys);
		/* A chain that loops meets a table whose index is not the next. */
		if (READ_ONCE(table->magic) != PMPOOL_ABI_TABLE_MAGIC ||
		    READ_ONCE(table->index) != t) {
			in->error = "chunk table has a bad magic or is out of order";
			return -EINVAL;
		}
		in->tables[t] = phys;
		n = min(nr_chunks - t * PMPOOL_ABI_TABLE_CHUNKS,
			PMPOOL_ABI_TABLE_CHUNKS);
		memcpy(in->chunks + (size_t)t * PMPOOL_ABI_TABLE_CHUNKS,
		       table->chunks, n * sizeof(u64));
		phys = READ_ONCE(table->next);
	}
	return 0;
}

/* A v2 descriptor: its chunks are listed in it; it has no counts. */
static int pmpool_desc_read_v2(struct pmpool_incoming *in,
			       const struct pmpool_desc_v2_ser *desc)
{
	unsigned int nr_chunks;
	int err;

	if (READ_ONCE(desc->magic) != PMPOOL_ABI_V2_DESC_MAGIC) {
		in->error = "bad descriptor magic";
		return -EINVAL;
	}
	if (!pmpool_desc_geometry_ok((const struct pmpool_desc_ser *)desc,
				     &in->geo)) {
		in->error = "descriptor geometry does not match the directory";
		return -EINVAL;
	}
	nr_chunks = READ_ONCE(desc->nr_chunks);
	if (nr_chunks > PMPOOL_ABI_V2_MAX_CHUNKS ||
	    nr_chunks > PMPOOL_MAX_CHUNKS(&in->geo)) {
		in->error = "chunk count above capacity";
		return -EINVAL;
	}
	in->nr_chunks = nr_chunks;
	in->nr_tables = 0;
	in->root = READ_ONCE(desc->root);
	err = pmpool_incoming_tables_alloc(in);
	if (err)
		return err;
	memcpy(in->chunks, desc->chunks, nr_chunks * sizeof(u64));
	return 0;
}

/**
 * pmpool_validate_pool() - check one incoming pool before restoring it
 * @in:          the pool, as parsed from its directory node.
 * @block_order: tells which blocks were preserved, and their orders.
 *
 * Proves every block the pool names (descriptor, chunk tables, chunks,
 * slabs) to be a block of preserved System RAM of the right order before
 * reading through it, checks the descriptor and every slab record, and
 * (in v3) the records against the descriptor's slab count.  What later
 * steps use of the descriptor and tables (chunk count, chunk and table
 * addresses, root) is copied into @in here, once, and never read again
 * from the previous kernel's memory.  Sets @in->error and returns -EINVAL
 * at the first problem; on success fills @in->nr_slabs and @in->nr_inuse.
 * Overlaps, within the pool and with other pools, are checked afterwards
 * for all pools at once.
 *
 * Return: 0 if the pool passed these checks, -EINVAL otherwise.
 */
int pmpool_validate_pool(struct pmpool_incoming *in,
			 pmpool_block_order_fn block_order)
{
	const struct pmpool_geometry *geo = &in->geo;
	const unsigned int nbits = BITS_TO_U64(geo->objs_per_slab) * 64;
	unsigned long nr_slabs = 0, nr_inuse = 0;
	u64 want_slabs = 0, busy = 0, s;
	bool root_live = false, busy_live = false;
	unsigned int c, r;
	void *desc;
	int err;

	if (in->error)
		return -EINVAL;
	err = pmpool_block_check(in->desc_phys, 0, block_order);
	if (err) {
		in->error = err == -EFAULT ?
			"descriptor address not in RAM or misaligned" :
			"descriptor is not a preserved page";
		return -EINVAL;
	}
	desc = phys_to_virt(in->desc_phys);
	/* Each field read once; the chunk list once, and copied. */
	if (in->version == 2)
		err = pmpool_desc_read_v2(in, desc);
	else
		err = pmpool_desc_read_v3(in, desc, block_order, &want_slabs, &busy);
	if (err)
		return -EINVAL;

	for (c = 0; c < in->nr_chunks; c++) {
		void *chunk;

		err = pmpool_block_check(in->chunks[c], PMPOOL_ABI_CHUNK_ORDER,
					 block_order);
		if (err) {
			in->error = err == -EFAULT ?
				"chunk address not in RAM or misaligned" :
				"chunk is not a preserved block of the chunk order";
			return -EINVAL;
		}
		chunk = phys_to_virt(in->chunks[c]);
		/* Up to 2^24 slabs: the boot is not held for all of them at once. */
		cond_resched();
		for (r = 0; r < geo->recs_per_chunk; r++) {
			struct pmpool_slab_ser *rec = pmpool_rec(geo, chunk, r);
			unsigned long *bm = (unsigned long *)rec->bitmap;
			phys_addr_t phys = READ_ONCE(rec->phys);

			s = (u64)c * geo->recs_per_chunk + r;
			if (find_next_bit(bm, nbits, geo->objs_per_slab) < nbits) {
				in->error = "bitmap has bits beyond the last object";
				return -EINVAL;
			}
			if (!phys) {
				if (!bitmap_empty(bm, geo->objs_per_slab)) {
					in->error = "unused slab record has objects";
					return -EINVAL;
				}
				continue;
			}
			if (s > PMPOOL_ABI_HANDLE_SLAB_MASK) {
				in->error = "slab number above capacity";
				return -EINVAL;
			}
			err = pmpool_block_check(phys, geo->slab_order, block_order);
			if (err) {
				in->error = err == -EFAULT ?
					"slab address not in RAM or misaligned" :
					"slab is not a preserved block of the slab order";
				return -EINVAL;
			}
			if (busy && s == busy - 1) {
				/* Added or removed at kexec time: empty. */
				if (!bitmap_empty(bm, geo->objs_per_slab)) {
					in->error = "slab being added or removed has objects";
					return -EINVAL;
				}
				busy_live = true;
			}
			nr_slabs++;
			nr_inuse += bitmap_weight(bm, geo->objs_per_slab);
		}
	}
	/*
	 * v3: every slab the descriptor counts is in the records; the one
	 * named busy may be counted or not, whichever side of the kexec its
	 * count fell.  (v2 has no count: see the ABI.)
	 */
	if (in->version != 2 &&
	    want_slabs != nr_slabs - busy_live &&
	    !(busy && want_slabs == nr_slabs - busy_live + 1)) {
		in->error = "slab count does not match the slab records";
		return -EINVAL;
	}

	if (in->root) {
		u64 h = in->root;
		unsigned int hs = pmpool_handle_slab(h), i = pmpool_handle_obj(h);
		unsigned int cidx = hs / geo->recs_per_chunk;

		if (pmpool_handle_tag(h) == in->tag && i < geo->objs_per_slab &&
		    cidx < in->nr_chunks) {
			struct pmpool_slab_ser *rec;

			rec = pmpool_rec(geo, phys_to_virt(in->chunks[cidx]),
					 hs % geo->recs_per_chunk);
			root_live = rec->phys &&
				    test_bit(i, (unsigned long *)rec->bitmap);
		}
		if (!root_live) {
			in->error = "root handle is not a live object";
			return -EINVAL;
		}
	}
	in->nr_slabs = nr_slabs;
	in->nr_inuse = nr_inuse;
	return 0;
}

/* Adds @in's blocks to @r (if @r) and returns their count. */
static unsigned long pmpool_incoming_ranges(struct pmpool_incoming *in,
					    struct pmpool_range *r)
{
	const struct pmpool_geometry *geo = &in->geo;
	unsigned long n = 0;
	unsigned int c, i;

	if (r)
		r[n] = (struct pmpool_range){ in->desc_phys,
			in->desc_phys + PMPOOL_ABI_DESC_SIZE };
	n++;
	for (i = 0; i < in->nr_tables; i++, n++)
		if (r)
			r[n] = (struct pmpool_range){ in->tables[i],
				in->tables[i] + PMPOOL_ABI_TABLE_SIZE };
	for (c = 0; c < in->nr_chunks; c++) {
		void *chunk = phys_to_virt(in->chunks[c]);

		if (r)
			r[n] = (struct pmpool_range){ in->chunks[c],
				in->chunks[c] + PMPOOL_CHUNK_SIZE };
		n++;
		for (i = 0; i < geo->recs_per_chunk; i++) {
			struct pmpool_slab_ser *rec = pmpool_rec(geo, chunk, i);

			if (!rec->phys)
				continue;
			if (r)
				r[n] = (struct pmpool_range){ rec->phys, rec->phys +
					(PAGE_SIZE << geo->slab_order) };
			n++;
		}
	}
	for (i = 0; r && i < n; i++)
		r[i].owner = in;
	return n;
}

static void pmpool_refuse_both(struct pmpool_incoming *a,
			       struct pmpool_incoming *b, const char *why)
{
	a->error = why;
	b->error = why;
}

/*
 * Memory described twice would have the same folio restored twice: refuse
 * the pool that overlaps itself, or both pools that share memory.  The
 * directory is in the set too (its owner is NULL): it is freed once parsed,
 * so a pool that placed metadata inside it would be reading reused memory.
 */
static int pmpool_check_overlaps(struct list_head *incoming, phys_addr_t dir,
				 size_t dir_size)
{
	struct pmpool_incoming *in;
	struct pmpool_range *r, *a, *b;
	unsigned long n = 1, i;

	list_for_each_entry(in, incoming, list)
		if (!in->error)
			n += pmpool_incoming_ranges(in, NULL);
	r = kvmalloc_array(n, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r[0] = (struct pmpool_range){ dir, dir + dir_size, NULL };
	n = dir_size ? 1 : 0;
	list_for_each_entry(in, incoming, list)
		if (!in->error)
			n += pmpool_incoming_ranges(in, r + n);
	sort(r, n, sizeof(*r), pmpool_range_cmp, NULL);
	for (i = 1; i < n; i++) {
		a = &r[i - 1];
		b = &r[i];
		if (b->start >= a->end)
			continue;
		if (!a->owner || !b->owner)
			(a->owner ?: b->owner)->error = "metadata or slabs inside the directory";
		else if (a->owner == b->owner)
			b->owner->error = "slabs or metadata overlap";
		else
			pmpool_refuse_both(a->owner, b->owner,
					   "memory overlaps another pool");
	}
	kvfree(r);
	return 0;
}

static int pmpool_incoming_cmp_name(const void *a, const void *b)
{
	const struct pmpool_incoming *x = *(void * const *)a, *y = *(void * const *)b;

	return strcmp(x->name, y->name);
}

static int pmpool_incoming_cmp_tag(const void *a, const void *b)
{
	const struct pmpool_incoming *x = *(void * const *)a, *y = *(void * const *)b;

	return x->tag - y->tag;
}

/*
 * Two nodes with one name (or one tag) cannot both be the pool a driver
 * restores under that name (or whose handles carry that tag), and which one
 * is genuine cannot be told: refuse every one of them.  Sorted, not
 * compared pairwise: a 1 MiB directory holds thousands of nodes.
 */
static int pmpool_check_duplicates(struct list_head *incoming)
{
	struct pmpool_incoming *in, **v;
	unsigned long n = 0, i, j;

	list_for_each_entry(in, incoming, list)
		n++;
	v = kvmalloc_array(n, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	n = 0;
	list_for_each_entry(in, incoming, list)
		v[n++] = in;
	sort(v, n, sizeof(*v), pmpool_incoming_cmp_name, NULL);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(v[i]->name, v[j]->name); j++)
			v[j]->error = "name listed twice in the handover";
		if (j > i + 1)
			v[i]->error = "name listed twice in the handover";
	}
	sort(v, n, sizeof(*v), pmpool_incoming_cmp_tag, NULL);
	for (i = 0; i < n; i = j) {
		/* Tag 0: refused before its tag was read. */
		for (j = i + 1; j < n && v[i]->tag && v[i]->tag == v[j]->tag; j++)
			v[j]->error = v[j]->error ?: "tag listed twice in the handover";
		if (j > i + 1)
			v[i]->error = v[i]->error ?: "tag listed twice in the handover";
	}
	kvfree(v);
	return 0;
}

void pmpool_incoming_free_all(struct list_head *incoming)
{
	struct pmpool_incoming *in, *tmp;

	list_for_each_entry_safe(in, tmp, incoming, list) {
		list_del(&in->list);
		pmpool_incoming_tables_free(in);
		kfree(in);
	}
}

/*
 * The layout a directory's compatible string names: 3 for the one this
 * kernel writes, 2 for the previous release's, 0 if this kernel cannot
 * read it.  A test kernel speaking the next version
 * (pmpool.test_abi_bump=1) reads only its own.
 */
static unsigned int pmpool_fdt_version(const void *fdt)
{
	if (!fdt_node_check_compatible(fdt, 0, pmpool_abi_compat))
		return 3;
	if (!strcmp(pmpool_abi_compat, PMPOOL_ABI_COMPATIBLE) &&
	    !fdt_node_check_compatible(fdt, 0, PMPOOL_ABI_COMPATIBLE_V2))
		return 2;
	return 0;
}

/* The compatible strings this kernel reads, newest first, for people. */
const char *pmpool_abi_reads(void)
{
	if (strcmp(pmpool_abi_compat, PMPOOL_ABI_COMPATIBLE))
		return pmpool_abi_compat;
	return PMPOOL_ABI_COMPATIBLE ", " PMPOOL_ABI_COMPATIBLE_V2;
}

/**
 * pmpool_parse_handover() - parse and validate a received directory
 * @fdt:         the directory blob, readable memory.
 * @size:        its size as registered with KHO.
 * @incoming:    list to which one &struct pmpool_incoming per pool node is
 *               added, valid or refused (then with @error set).
 * @block_order: tells which blocks were preserved (kho_preserved_order()).
 *
 * Each refused pool is logged once, by name, with the reason.
 *
 * Return: 0 if the directory itself is sound (individual pools may still
 * be refused), or -EINVAL if the whole handover must be refused, or
 * -ENOMEM.
 */
int pmpool_parse_handover(const void *fdt, size_t size,
			  struct list_head *incoming,
			  pmpool_block_order_fn block_order)
{
	struct pmpool_incoming *in;
	unsigned int version;
	int node, err, len;

	if (size < sizeof(struct fdt_header) || fdt_check_header(fdt) ||
	    fdt_totalsize(fdt) > size) {
		pr_err("refusing handover: directory is not a valid FDT\n");
		return -EINVAL;
	}
	version = pmpool_fdt_version(fdt);
	if (!version) {
		const char *compat = fdt_getprop(fdt, 0, "compatible", &len);

		if (!compat || len < 1 || compat[len - 1])
			compat = "(none)";
		pr_err("refusing handover: directory is %.32s, this kernel reads %s\n",
		       compat, pmpool_abi_reads());
		return -EINVAL;
	}
	if (version == 2)
		pr_info("reading a %s handover: restored pools are handed over as %s\n",
			PMPOOL_ABI_COMPATIBLE_V2, pmpool_abi_compat);

	fdt_for_each_subnode(node, fdt, 0) {
		in = kzalloc_obj(*in, GFP_KERNEL);
		if (!in) {
			err = -ENOMEM;
			goto out_free;
		}
		pmpool_parse_node(fdt, node, version, in);
		list_add_tail(&in->list, incoming);
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND) {
		pr_err("refusing handover: directory structure is corrupt (%d)\n",
		       node);
		err = -EINVAL;
		goto out_free;
	}
	err = pmpool_check_duplicates(incoming);
	if (err)
		goto out_free;
	list_for_each_entry(in, incoming, list)
		pmpool_validate_pool(in, block_order);
	/* A vmalloc'ed directory (KUnit's) has no physical range to check. */
	err = pmpool_check_overlaps(incoming,
				    is_vmalloc_addr(fdt) ? 0 : __pa(fdt),
				    is_vmalloc_addr(fdt) ? 0 : size);
	if (err)
		goto out_free;
	list_for_each_entry(in, incoming, list)
		if (in->error)
			pr_err("refusing pool '%s': %s\n", in->name, in->error);
	return 0;

out_free:
	pmpool_incoming_free_all(incoming);
	return err;
}

static struct pmpool_incoming *pmpool_incoming_find(const char *name)
{
	struct pmpool_incoming *in;

	list_for_each_entry(in, &pmpool_incoming_pools, list)
		if (!strcmp(in->name, name))
			return in;
	return NULL;
}

/* What pmpool_ranges_apply() does to each piece of an incoming pool's memory. */
enum pmpool_range_op {
	PMPOOL_RANGE_PRESERVE,		/* preserve again, for the next kexec */
	PMPOOL_RANGE_UNPRESERVE,	/* undo PRESERVE */
	PMPOOL_RANGE_TAKE,		/* kho_restore_folio() */
	PMPOOL_RANGE_ADOPT,		/* what TAKE gave to a failed restore */
	PMPOOL_RANGE_PUT,		/* folio_put() what TAKE gave */
};

/*
 * @op on the block of 2^@order pages at @phys: the slab of record @r of
 * @ch in @pool, or metadata if @ch is NULL.
 */
static __always_inline int
pmpool_range_do(struct pmpool_incoming *in, struct pmpool *pool,
		enum pmpool_range_op op, phys_addr_t phys, unsigned int order,
		struct pmpool_chunk *ch, unsigned int r)
{
	struct folio *folio;
	int err;

	switch (op) {
	case PMPOOL_RANGE_PRESERVE:
		/* After TAKE: every block is a folio of its order again. */
		err = pmpool_kho_should_fail() ? -ENOMEM :
		      kho_preserve_folio(pfn_folio(PHYS_PFN(phys)));
		if (err)
			atomic_long_inc(&pmpool_nr_kho_errors);
		return err;
	case PMPOOL_RANGE_UNPRESERVE:
		kho_unpreserve_folio(pfn_folio(PHYS_PFN(phys)));
		return 0;
	case PMPOOL_RANGE_TAKE:
		/*
		 * Validation proved the block preserved; ask again, without a
		 * warning, in case another KHO user took it since.
		 */
		folio = kho_preserved_order(phys) == order ?
			kho_restore_folio(phys) : NULL;
		if (!folio) {
			in->error = "KHO has no preserved folio at a validated address";
			return -EIO;
		}
		if (folio_order(folio) != order) {
			/*
			 * Not put: metadata is still read until the undo is
			 * over, and a refused pool's memory stays unused.
			 */
			in->error = "preserved folio has the wrong order";
			return -EIO;
		}
		if (ch)
			pmpool_restored_slab_init(pool, ch, r, folio);
		return 0;
	case PMPOOL_RANGE_ADOPT:
		if (ch)
			pmpool_restored_slab_init(pool, ch, r,
						  pfn_folio(PHYS_PFN(phys)));
		return 0;
	case PMPOOL_RANGE_PUT:
		folio_put(pfn_folio(PHYS_PFN(phys)));
		return 0;
	}
	return -EINVAL;
}

/*
 * Apply @op to the first @limit blocks of memory of the validated incoming
 * pool @in: its slabs in slab order (one pass over the records in place,
 * no list built), then its chunks, then its descriptor.  Stops at the
 * first failure.  Inlined so that each caller gets a loop for its one @op:
 * restore runs two of them per slab, where the raw KHO equivalent is a
 * loop over an array.
 *
 * Return: the number of blocks done.
 */
static __always_inline unsigned long
pmpool_ranges_apply(struct pmpool_incoming *in, struct pmpool *pool,
		    enum pmpool_range_op op, unsigned long limit)
{
	const unsigned int nr_chunks = in->nr_chunks;
	const unsigned int rpc = in->geo.recs_per_chunk;
	const unsigned int order = in->geo.slab_order;
	const size_t rec_size = in->geo.rec_size;
	struct pmpool_chunk *ch = NULL;
	unsigned long n = 0;
	unsigned int c, r;
	phys_addr_t phys;
	void *rec;

	for (c = 0; c < nr_chunks; c++) {
		rec = phys_to_virt(in->chunks[c]);
		if (pool)
			ch = pmpool_chunk(pool, c);
		cond_resched();
		for (r = 0; r < rpc; r++, rec += rec_size) {
			phys = ((struct pmpool_slab_ser *)rec)->phys;
			if (!phys)
				continue;
			if (n == limit ||
			    pmpool_range_do(in, pool, op, phys, order, ch, r))
				return n;
			n++;
		}
	}
	/* Metadata last: PUT reads it until then. */
	for (c = 0; c < nr_chunks; c++, n++)
		if (n == limit ||
		    pmpool_range_do(in, pool, op, in->chunks[c],
				    PMPOOL_ABI_CHUNK_ORDER, NULL, 0))
			return n;
	for (c = 0; c < in->nr_tables; c++, n++)
		if (n == limit ||
		    pmpool_range_do(in, pool, op, in->tables[c], 0, NULL, 0))
			return n;
	if (n == limit ||
	    pmpool_range_do(in, pool, op, in->desc_phys, 0, NULL, 0))
		return n;
	return n + 1;
}

/* Blocks (descriptor, tables, chunks, slabs) of a validated incoming pool. */
static unsigned long pmpool_incoming_blocks(const struct pmpool_incoming *in)
{
	return 1 + in->nr_tables + in->nr_chunks + in->nr_slabs;
}

/*
 * Take every block of @in back from KHO (giving each slab to @pool if
 * set), or adopt them if an earlier restore took them.  Allocates nothing;
 * fails only if KHO and the validated directory disagree, and then marks
 * the pool refused and keeps what it took: a device may still be reaching
 * that memory (an iommu-persist page-table pool is live page tables), and
 * a refused pool's memory is never reused.
 */
static int pmpool_take_all(struct pmpool_incoming *in, struct pmpool *pool)
{
	unsigned long n = pmpool_incoming_blocks(in), done;

	if (in->taken) {
		if (pool)
			pmpool_ranges_apply(in, pool, PMPOOL_RANGE_ADOPT, n);
		return 0;
	}
	done = pmpool_ranges_apply(in, pool, PMPOOL_RANGE_TAKE, n);
	if (done == n) {
		in->taken = true;
		return 0;
	}
	pr_err("refusing pool '%s': %s; %lu of its %lu blocks stay reserved\n",
	       in->name, in->error, done, n);
	return -EIO;
}

/* Undo pmpool_restored_tables_get() for its first @nr tables. */
static void pmpool_restored_tables_put(struct pmpool *pool,
				       struct pmpool_incoming *in,
				       struct pmpool_table_ser **tables,
				       unsigned int nr)
{
	struct folio *folio;
	unsigned int t;

	for (t = in->nr_tables; t < nr; t++) {
		folio = virt_to_folio(tables[t]);
		pmpool_unpreserve_folio(pool, folio);
		folio_put(folio);
	}
	kvfree(tables);
}

/*
 * The chunk tables a restored pool of @in's chunks needs: the handed-over
 * ones (v3), or new ones for a v2 pool, whose descriptor listed its chunks
 * itself.  New tables are allocated (and preserved) before anything is
 * taken from KHO, so that running out of memory leaves the incoming pool
 * as it was.
 */
static struct pmpool_table_ser **
pmpool_restored_tables_get(struct pmpool *pool, struct pmpool_incoming *in,
			   unsigned int nr)
{
	struct pmpool_table_ser **tables;
	struct folio *folio;
	unsigned int t;

	tables = kvcalloc(max(nr, 1U), sizeof(*tables), GFP_KERNEL);
	if (!tables)
		return NULL;
	for (t = 0; t < nr; t++) {
		if (t < in->nr_tables) {
			tables[t] = phys_to_virt(in->tables[t]);
			continue;
		}
		folio = folio_alloc(GFP_KERNEL, 0);
		if (folio && pmpool_preserve_folio(pool, folio)) {
			folio_put(folio);
			folio = NULL;
		}
		if (!folio) {
			pmpool_restored_tables_put(pool, in, tables, t);
			return NULL;
		}
		tables[t] = folio_address(folio);
	}
	return tables;
}

/*
 * Make a restored pool's descriptor and chunk tables say what validation
 * read (and copied), whatever the pages hold now: they are the pool's live
 * state from here on, in this release's layout.  Not seen by the next
 * kernel before the directory lists the pool again (under pmpool_mutex).
 */
static void pmpool_restored_desc_write(struct pmpool *pool,
				       const struct pmpool_incoming *in,
				       struct pmpool_table_ser **tables,
				       unsigned int nr)
{
	struct pmpool_desc_ser *desc = pool->desc;
	const struct pmpool_geometry *geo = &in->geo;
	unsigned int t, n;

	memset(desc, 0, PMPOOL_ABI_DESC_SIZE);
	desc->magic = PMPOOL_ABI_DESC_MAGIC;
	desc->obj_size = geo->obj_size;
	desc->slab_order = geo->slab_order;
	desc->objs_per_slab = geo->objs_per_slab;
	desc->rec_size = geo->rec_size;
	desc->recs_per_chunk = geo->recs_per_chunk;
	desc->nr_chunks = in->nr_chunks;
	desc->root = in->root;
	desc->nr_slabs = in->nr_slabs;
	desc->table = nr ? virt_to_phys(tables[0]) : 0;
	for (t = 0; t < nr; t++) {
		n = min(in->nr_chunks - t * PMPOOL_ABI_TABLE_CHUNKS,
			PMPOOL_ABI_TABLE_CHUNKS);
		memset(tables[t], 0, PMPOOL_ABI_TABLE_SIZE);
		tables[t]->magic = PMPOOL_ABI_TABLE_MAGIC;
		tables[t]->index = t;
		tables[t]->next = t + 1 < nr ? virt_to_phys(tables[t + 1]) : 0;
		memcpy(tables[t]->chunks,
		       in->chunks + (size_t)t * PMPOOL_ABI_TABLE_CHUNKS,
		       n * sizeof(u64));
	}
	pool->table = nr ? tables[nr - 1] : NULL;
}

/**
 * pmpool_restore() - take back a pool handed over by the previous kernel
 * @name: the name the pool was created with.
 *
 * Every object that was live at kexec time is live again, at the same
 * handle and with the same content; free objects can be allocated again;
 * the root is as it was.  The pool keeps working like a new one and is
 * handed over again at the next kexec (if KHO is enabled in this kernel).
 * Restoring costs KHO's own work per slab (O(slabs), not O(objects)); a
 * slab's in-kernel state is set up when it is first used.  A reserve set with
 * pmpool_reserve() is not carried over.
 *
 * Context: process context, may sleep.  Usable from initcalls at
 * rootfs_initcall and later, and from modules.
 * Return: the pool, or an ERR_PTR(): -ENOENT if no pool of that name was
 * handed over (or this kernel was not booted by a KHO kexec, or the pool
 * was discarded), -EBUSY if it was already restored, -EINVAL if the pool
 * was refused by validation (the reason was logged), -EIO if KHO did not
 * give back its memory, -ENOMEM.
 */
struct pmpool *pmpool_restore(const char *name)
{
	struct pmpool_table_ser **tables;
	struct pmpool_incoming *in;
	unsigned int nr_tables;
	unsigned long n, done;
	struct pmpool *pool;
	int err;

	if (!name)
		return ERR_PTR(-EINVAL);
	mutex_lock(&pmpool_mutex);
	pmpool_handover_receive();
	in = pmpool_incoming_find(name);
	if (!in) {
		err = -ENOENT;
		list_for_each_entry(pool, &pmpool_pools, list)
			if (pool->restored && !strcmp(pool->name, name))
				err = -EBUSY;
		goto out_unlock;
	}
	err = -EINVAL;
	if (in->error)
		goto out_unlock;

	err = -ENOMEM;
	pool = pmpool_alloc_struct(in->name, in->tag, in->nid, &in->geo);
	if (!pool)
		goto out_unlock;
	pool->desc = phys_to_virt(in->desc_phys);
	/*
	 * A restore that fails for want of memory can be retried: the
	 * in-kernel state (and a v2 pool's new chunk tables) is allocated
	 * before KHO gives a page back, and memory taken back stays with the
	 * incoming pool if preserving it again fails.  It is preserved after
	 * the take, while each slab's struct pages are still in cache.
	 */
	nr_tables = DIV_ROUND_UP(in->nr_chunks, PMPOOL_ABI_TABLE_CHUNKS);
	tables = pmpool_restored_tables_get(pool, in, nr_tables);
	if (!tables)
		goto out_free;
	err = pmpool_restored_chunks_prepare(pool, in);
	if (err)
		goto out_put_tables;
	err = pmpool_take_all(in, pool);
	if (err) {
		pr_err("%s: restore failed: %s\n", name, in->error);
		goto out_put_tables;
	}
	n = pmpool_incoming_blocks(in);
	if (pool->persistent) {
		done = pmpool_ranges_apply(in, NULL, PMPOOL_RANGE_PRESERVE, n);
		if (done < n) {
			pmpool_ranges_apply(in, NULL, PMPOOL_RANGE_UNPRESERVE, done);
			err = -ENOMEM;
			goto out_put_tables;
		}
	}
	pmpool_restored_desc_write(pool, in, tables, nr_tables);
	kvfree(tables);
	pmpool_restored_finish(pool, in->nr_slabs, in->nr_inuse);
	pool->restored = true;
	atomic_long_add(1 + nr_tables +
			((unsigned long)in->nr_chunks << PMPOOL_ABI_CHUNK_ORDER) +
			(in->nr_slabs << in->geo.slab_order), &pmpool_nr_pages);

	list_del(&in->list);
	pmpool_incoming_tables_free(in);
	kfree(in);
	list_add_tail(&pool->list, &pmpool_pools);
	/* Listed again by the next directory rewrite: not O(pools) here. */
	pmpool_dir_stale |= pool->persistent;
	mutex_unlock(&pmpool_mutex);
	pr_debug("restored pool '%s': %lu objects of %u bytes in %lu slabs\n",
		 pool->name, pool->nr_inuse, pool->geo.obj_size, pool->nr_slabs);
	return pool;

out_put_tables:
	pmpool_restored_tables_put(pool, in, tables, nr_tables);
out_free:
	pmpool_free_struct(pool);
out_unlock:
	mutex_unlock(&pmpool_mutex);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(pmpool_restore);

/**
 * pmpool_discard() - drop a handed-over pool without restoring it
 * @name: the pool's name.
 *
 * Gives the memory of a pool nobody will restore back to the page
 * allocator.  Incoming pools are never discarded behind a driver's back:
 * their owner may be a module that userspace loads late.  Use this, or
 * write the name to ``/sys/kernel/debug/pmpool/discard``, once it is
 * known that nobody will claim the pool.  A pool refused by validation
 * cannot be discarded (its addresses are not trusted); its memory stays
 * reserved until the next kexec or reboot.
 *
 * Context: process context, may sleep.
 * Return: 0, -ENOENT if there is no such incoming pool, -EINVAL if it was
 * refused, -EBUSY if it is pinned (pmpool_pin()), -EIO if KHO did not give
 * back its memory.
 */
int pmpool_discard(const char *name)
{
	struct pmpool_incoming *in;
	int err;

	if (!name)
		return -EINVAL;
	mutex_lock(&pmpool_mutex);
	pmpool_handover_receive();
	in = pmpool_incoming_find(name);
	err = -ENOENT;
	if (!in)
		goto out_unlock;
	err = -EINVAL;
	if (in->error)
		goto out_unlock;
	err = -EBUSY;
	if (in->pinned)
		goto out_unlock;
	err = pmpool_take_all(in, NULL);
	if (!err) {
		pmpool_ranges_apply(in, NULL, PMPOOL_RANGE_PUT,
				    pmpool_incoming_blocks(in));
		pr_info("discarded pool '%s': %lu slabs of order %u\n",
			in->name, in->nr_slabs, in->geo.slab_order);
		list_del(&in->list);
		pmpool_incoming_tables_free(in);
		kfree(in);
	}
out_unlock:
	mutex_unlock(&pmpool_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(pmpool_discard);

/**
 * pmpool_pin() - keep an incoming pool from being discarded, or let it go
 * @name: the pool's name.
 * @pin:  true to pin, false to unpin.
 *
 * For users whose hardware reaches an incoming pool's memory before the
 * pool is restored (iommu-persist: a page-table pool the IOMMU walks).
 * While pinned, pmpool_discard() fails with -EBUSY, also when asked through
 * debugfs; pmpool_restore() works as usual.  A refused pool can be pinned
 * too: its memory is never freed anyway.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOENT if there is no incoming pool of that name.
 */
int pmpool_pin(const char *name, bool pin)
{
	struct pmpool_incoming *in;
	int err = -ENOENT;

	if (!name)
		return -EINVAL;
	mutex_lock(&pmpool_mutex);
	pmpool_handover_receive();
	list_for_each_entry(in, &pmpool_incoming_pools, list) {
		if (strcmp(in->name, name))
			continue;
		in->pinned = pin;	/* every pool of a duplicated name */
		err = 0;
	}
	mutex_unlock(&pmpool_mutex);
	return err;
}
EXPORT_SYMBOL_GPL(pmpool_pin);

/**
 * pmpool_handover_receive() - parse the previous kernel's directory, once
 *
 * Called before the first lookup of an incoming pool and before the first
 * pool is created, whichever comes first (a pool created by an earlier
 * initcall must not take a name or tag of an incoming pool), and at the
 * latest by pmpool_init().
 *
 * Context: process context, pmpool_mutex held.
 */
void pmpool_handover_receive(void)
{
	static bool received;
	phys_addr_t phys;
	size_t size;
	int err;

	lockdep_assert_held(&pmpool_mutex);
	if (received)
		return;
	received = true;
	err = kho_retrieve_subtree(PMPOOL_ABI_FDT_NAME, &phys, &size);
	if (err) {
		if (err != -ENOENT && err != -EOPNOTSUPP)
			pr_err("refusing handover: cannot retrieve directory: %d\n", err);
		return;
	}
	/* It is freed below: it must be one preserved block, all of it. */
	if (size > SZ_1M || size < sizeof(struct fdt_header) ||
	    pmpool_block_check(phys, get_order(size), kho_preserved_order)) {
		pr_err("refusing handover: directory at %pa+%zu is not a preserved block of RAM\n",
		       &phys, size);
		return;
	}
	if (!pmpool_parse_handover(phys_to_virt(phys), size,
				   &pmpool_incoming_pools, kho_preserved_order)) {
		pr_info("received %zu-byte directory from the previous kernel\n",
			size);
		/* Everything needed was copied out of it. */
		kho_restore_free(phys_to_virt(phys));
	}
}

/**
 * pmpool_handover_init() - receive the previous kernel's pools, set up ours
 *
 * Runs once at boot, after KHO has initialised and before drivers that
 * restore pools at rootfs_initcall.
 */
void __init pmpool_handover_init(void)
{
	int err;

	mutex_lock(&pmpool_mutex);
	pmpool_handover_receive();
	mutex_unlock(&pmpool_mutex);

	if (!kho_is_enabled()) {
		pr_info("KHO is disabled: new pools are volatile\n");
		return;
	}
	pmpool_fdt_scratch = kvmalloc(PMPOOL_FDT_SIZE, GFP_KERNEL);
	pmpool_fdt_out = kho_alloc_preserve(PMPOOL_FDT_SIZE);
	if (IS_ERR(pmpool_fdt_out) || !pmpool_fdt_scratch)
		goto fail;
	mutex_lock(&pmpool_mutex);
	err = pmpool_handover_update();
	mutex_unlock(&pmpool_mutex);
	if (err)
		goto fail;
	err = kho_add_subtree(PMPOOL_ABI_FDT_NAME, pmpool_fdt_out, PMPOOL_FDT_SIZE);
	if (!err) {
		register_reboot_notifier(&pmpool_reboot_nb);
		return;
	}
fail:
	pr_err("cannot register with KHO: new pools are volatile\n");
	if (!IS_ERR_OR_NULL(pmpool_fdt_out))
		kho_unpreserve_free(pmpool_fdt_out);
	pmpool_fdt_out = NULL;
	kvfree(pmpool_fdt_scratch);
	pmpool_fdt_scratch = NULL;
}
