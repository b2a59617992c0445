/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmpool internals shared by the allocator, the handover code, debugfs and
 * the KUnit suite.  Not for drivers: they use <linux/pmpool.h>.
 */

#ifndef _LIB_PMPOOL_INTERNAL_H
#define _LIB_PMPOOL_INTERNAL_H

#include <linux/cache.h>
#include <linux/io.h>
#include <linux/kho/abi/pmpool.h>
#include <linux/list.h>
#include <linux/local_lock.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pmpool.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

/* Slabs are at least this big so that small objects amortise a record. */
#define PMPOOL_MIN_SLAB_ORDER	4
#define PMPOOL_MAX_OBJ_SIZE	(PAGE_SIZE << MAX_PAGE_ORDER)
#define PMPOOL_CHUNK_SIZE	(PAGE_SIZE << PMPOOL_ABI_CHUNK_ORDER)
/* Slab numbers must fit the handle: the only bound on a pool's size. */
#define PMPOOL_MAX_SLABS	(PMPOOL_ABI_HANDLE_SLAB_MASK + 1)
/* Chunks that hold every slab number of a geometry. */
#define PMPOOL_MAX_CHUNKS(geo)	DIV_ROUND_UP(PMPOOL_MAX_SLABS, (geo)->recs_per_chunk)
/* Chunk tables that list that many chunks. */
#define PMPOOL_MAX_TABLES(geo)	DIV_ROUND_UP(PMPOOL_MAX_CHUNKS(geo), \
					     PMPOOL_ABI_TABLE_CHUNKS)
/*
 * In-kernel chunk lookup is two-level: &pmpool.leaves[c >> 9] is a page of
 * 512 chunk pointers, allocated when its first chunk is added.  The top
 * level covers every chunk the geometry can have (at most 2185 leaves, for
 * 8-byte objects), so a pool never reallocates it and lockless lookups
 * need no RCU.
 */
#define PMPOOL_LEAF_SHIFT	9
#define PMPOOL_LEAF_CHUNKS	BIT(PMPOOL_LEAF_SHIFT)

/**
 * struct pmpool_geometry - layout of a pool, derived from its object size
 * @flags:          %PMPOOL_F_* flags the pool was created with.
 * @obj_size:       object stride in bytes.
 * @slab_order:     page order of a slab.
 * @objs_per_slab:  objects per slab.
 * @rec_size:       bytes of a slab record, bitmap included.
 * @recs_per_chunk: records per metadata chunk.
 */
struct pmpool_geometry {
	unsigned int flags;
	unsigned int obj_size;
	unsigned int slab_order;
	unsigned int objs_per_slab;
	unsigned int rec_size;
	unsigned int recs_per_chunk;
};

/**
 * struct pmpool_slab - in-kernel state of one slab
 * @list:  on &pmpool.partial while the slab has free objects.
 * @rec:   the slab's record in a preserved metadata chunk; its bitmap is
 *         the allocation state, shared with the next kernel, and its @phys
 *         the slab's memory.
 * @index: slab number (bits 47:24 of the handles of its objects).
 * @inuse: allocated objects, equal to the weight of the bitmap; while the
 *         slab is owned, all of its objects.
 * @owned: the slab is a CPU's (&struct pmpool_cpu_slab), off
 *         &pmpool.partial: that CPU sets bits in its bitmap without
 *         &pmpool.lock, others only under it.
 *
 * The struct of a slab handed over by the previous kernel is set up only
 * when the slab is first needed (see &pmpool_chunk.lazy): a restore does
 * nothing per slab beyond what KHO itself does.
 */
struct pmpool_slab {
	struct list_head list;
	struct pmpool_slab_ser *rec;
	unsigned int index;
	u16 inuse;
	bool owned;
};

/**
 * struct pmpool_cpu_slab - a CPU's slab of a pool
 * @lock: keeps the CPU on the slab while it allocates from it or frees
 *        into it (interrupts off, or the per-CPU lock on PREEMPT_RT).
 * @slab: the slab the CPU allocates from without &pmpool.lock, or NULL;
 *        changes under &pmpool.lock too, on that CPU (or, for a CPU that
 *        went offline, on the CPU that saw it go).
 */
struct pmpool_cpu_slab {
	local_lock_t lock;
	struct pmpool_slab *slab;
};

/**
 * struct pmpool_chunk - in-kernel state of one metadata chunk
 * @recs:    the preserved chunk: &pmpool_geometry.recs_per_chunk records.
 * @first:   slab number of the chunk's first record.
 * @used:    bit ``r`` set when record ``r`` describes a slab; changes under
 *           &pmpool.grow_lock.
 * @lazy:    bit ``r`` set while the slab of record ``r`` came from the
 *           previous kernel and its &struct pmpool_slab is not set up yet;
 *           cleared under &pmpool.lock.
 * @slabs:   the slab structs, one per record.
 *
 * Chunks are never freed before their pool, so lockless readers
 * (pmpool_map()) may use one once they have found it (pmpool_chunk()).
 */
struct pmpool_chunk {
	void *recs;
	unsigned int first;
	unsigned long *used;
	unsigned long *lazy;
	struct pmpool_slab *slabs;
};

/* A page of chunk pointers: chunks ``n << PMPOOL_LEAF_SHIFT`` and up. */
struct pmpool_leaf {
	struct pmpool_chunk *chunk[PMPOOL_LEAF_CHUNKS];
};

/**
 * struct pmpool - a pool of fixed-size objects
 * @name:       unique name, the key for pmpool_restore() after kexec.
 * @tag:        pool tag, bits 63:48 of its handles, unique among pools.
 * @nid:        NUMA node of the slabs, or %NUMA_NO_NODE.
 * @persistent: slabs and metadata are preserved with KHO.
 * @geo:        object and slab layout.
 * @lock:       protects @partial, the bitmaps (but for the bits a CPU
 *              sets and clears in its own slab), @nr_free, @nr_inuse,
 *              @nr_slabs, &pmpool_slab.inuse, &pmpool_slab.owned,
 *              @cpu_slab and the lazy state; taken with interrupts off so
 *              that pmpool_alloc() and pmpool_free() work in any context.
 * @partial:    slabs with at least one free object (lazy slabs are not
 *              on it until they are set up).
 * @nr_slabs:   slabs in the pool.
 * @nr_free:    free objects in all slabs.
 * @nr_inuse:   allocated objects.
 * @reserve:    free objects kept ready for atomic allocations.
 * @nr_lazy:    handed-over slabs whose struct is not set up yet.
 * @lazy_next:  no lazy slab has a number below this one.
 * @grow_lock:  serialises adding and removing slabs and chunks (both
 *              sleep in KHO), and pmpool_walk() against slab removal.
 * @grow_hint:  no chunk below this one has a free record; under @grow_lock.
 * @walkers:    pmpool_walk() calls under way; no slab is released meanwhile.
 * @desc:       the descriptor, in a preserved page.
 * @leaves:     the metadata chunks, two-level (%PMPOOL_LEAF_SHIFT); a leaf
 *              and an entry of a leaf are set once (smp_store_release())
 *              and kept until the pool is freed.
 * @nr_leaves:  entries of @leaves: enough for PMPOOL_MAX_CHUNKS().
 * @table:      the last chunk table, in a preserved page, or NULL.
 * @cpu_slab:   per CPU, the slab that CPU allocates from without @lock;
 *              its free objects count as in use in @nr_inuse until it is
 *              given back.
 * @work:       refills @reserve and releases empty slabs in process context.
 * @list:       on the list of all pools of this kernel.
 * @restored:   the pool came from the previous kernel.
 */
struct pmpool {
	/* Read on every operation, written only at creation or restore. */
	char name[PMPOOL_ABI_NAME_MAX];
	u16 tag;
	int nid;
	bool persistent;
	bool restored;
	struct pmpool_geometry geo;
	struct pmpool_desc_ser *desc;
	struct pmpool_leaf **leaves;
	unsigned int nr_leaves;
	struct pmpool_cpu_slab __percpu *cpu_slab;

	/* Written by every allocation and free: a cache line of its own. */
	spinlock_t lock ____cacheline_aligned_in_smp;	/* see @lock above */
	unsigned int reserve;
	struct list_head partial;
	unsigned long nr_slabs;
	unsigned long nr_free;
	unsigned long nr_inuse;
	unsigned long nr_lazy;
	unsigned long lazy_next;

	struct mutex grow_lock ____cacheline_aligned_in_smp; /* see @grow_lock */
	unsigned int grow_hint;
	struct pmpool_table_ser *table;
	atomic_t walkers;
	struct work_struct work;
	struct list_head list;
};

/*
 * pmpool_block_order_fn - order of the preserved block at a physical
 * address, or a negative errno if none starts there: kho_preserved_order()
 * for a real handover, a stand-in for KUnit's crafted ones.
 */
typedef int (*pmpool_block_order_fn)(phys_addr_t phys);

/**
 * struct pmpool_incoming - a pool described by the previous kernel
 * @name:      pool name.
 * @tag:       pool tag (0 if the node was refused before its tag was read).
 * @nid:       NUMA node.
 * @geo:       layout, checked against the descriptor.
 * @version:   format of the descriptor: 2 or 3 (the directory's).
 * @desc_phys: physical address of the descriptor.
 * @nr_chunks: validated copy of the descriptor's chunk count.
 * @nr_tables: chunk tables that list them (0 in v2).
 * @root:      validated copy of the descriptor's root handle.
 * @chunks:    validated copy of the chunk addresses, never read again
 *             from preserved memory.
 * @tables:    validated copy of the chunk tables' addresses.
 * @nr_slabs:  slabs found by validation.
 * @nr_inuse:  live objects found by validation.
 * @error:     why the pool was refused, NULL if it is valid.
 * @taken:     its memory was taken back from KHO by a restore that then
 *             failed to preserve it again: a retry adopts it as it is.
 * @pinned:    pmpool_pin(): hardware may be reaching its memory, so
 *             pmpool_discard() refuses to free it.
 * @list:      on the list of incoming pools.
 */
struct pmpool_incoming {
	char name[PMPOOL_ABI_NAME_MAX];
	u16 tag;
	int nid;
	struct pmpool_geometry geo;
	unsigned int version;
	phys_addr_t desc_phys;
	unsigned int nr_chunks;
	unsigned int nr_tables;
	u64 root;
	u64 *chunks;
	u64 *tables;
	unsigned long nr_slabs;
	unsigned long nr_inuse;
	const char *error;
	bool taken;
	bool pinned;
	struct list_head list;
};

/* Global state, under pmpool_mutex. */
extern struct mutex pmpool_mutex;
extern struct list_head pmpool_pools;
extern struct list_head pmpool_incoming_pools;
extern atomic_long_t pmpool_nr_pages;
unsigned long pmpool_pages_held(void);

int pmpool_geometry_init(struct pmpool_geometry *geo, size_t obj_size,
			 unsigned int flags);

/* Handle encoding: the one place that knows it besides the ABI header. */
static inline u64 pmpool_handle_make(u16 tag, unsigned int slab,
				     unsigned int obj)
{
	return (u64)tag << PMPOOL_ABI_HANDLE_TAG_SHIFT |
	       (u64)slab << PMPOOL_ABI_HANDLE_SLAB_SHIFT | obj;
}

static inline u16 pmpool_handle_tag(u64 handle)
{
	return handle >> PMPOOL_ABI_HANDLE_TAG_SHIFT;
}

static inline unsigned int pmpool_handle_slab(u64 handle)
{
	return (handle >> PMPOOL_ABI_HANDLE_SLAB_SHIFT) &
	       PMPOOL_ABI_HANDLE_SLAB_MASK;
}

static inline unsigned int pmpool_handle_obj(u64 handle)
{
	return handle & PMPOOL_ABI_HANDLE_OBJ_MASK;
}

static inline phys_addr_t pmpool_folio_phys(struct folio *folio)
{
	return PFN_PHYS(folio_pfn(folio));
}

/*
 * Chunk @c of @pool, or NULL if it does not exist (yet).  Safe without
 * locks: a chunk once published stays until the pool is freed.
 */
static inline struct pmpool_chunk *pmpool_chunk(struct pmpool *pool,
						unsigned long c)
{
	struct pmpool_leaf *leaf;

	if (unlikely(c >= (unsigned long)pool->nr_leaves << PMPOOL_LEAF_SHIFT))
		return NULL;
	/* Pairs with smp_store_release() in pmpool_chunk_publish(). */
	leaf = smp_load_acquire(&pool->leaves[c >> PMPOOL_LEAF_SHIFT]);
	if (unlikely(!leaf))
		return NULL;
	/* The chunk complete, as published by pmpool_chunk_publish(). */
	return smp_load_acquire(&leaf->chunk[c & (PMPOOL_LEAF_CHUNKS - 1)]);
}

static inline struct pmpool_slab_ser *
pmpool_rec(const struct pmpool_geometry *geo, void *chunk, unsigned int i)
{
	return chunk + (size_t)i * geo->rec_size;
}

/* Allocator internals used by the handover code. */
struct pmpool *pmpool_alloc_struct(const char *name, u16 tag, int nid,
				   const struct pmpool_geometry *geo);
void pmpool_free_struct(struct pmpool *pool);
struct pmpool_slab_ser *pmpool_rec_next(struct pmpool *pool, unsigned long *s);
int pmpool_chunk_publish(struct pmpool *pool, unsigned int c,
			 struct pmpool_chunk *ch);
struct pmpool_chunk *pmpool_chunk_alloc(struct pmpool *pool, unsigned int c);
void pmpool_chunk_free(struct pmpool_chunk *ch);
int pmpool_restored_chunks_prepare(struct pmpool *pool,
				   const struct pmpool_incoming *in);
void pmpool_restored_slab_poison(struct pmpool *pool, struct pmpool_chunk *ch,
				 unsigned int r);
void pmpool_restored_finish(struct pmpool *pool, unsigned long nr_slabs,
			    unsigned long nr_inuse);
bool pmpool_tag_in_use(u16 tag);
bool pmpool_name_in_use(const char *name);

/*
 * Restore: KHO gave back @folio, the slab of record @r of @ch.  Two stores:
 * the rest of the slab's state is set up when it is first needed.
 */
static inline void pmpool_restored_slab_init(struct pmpool *pool,
					     struct pmpool_chunk *ch,
					     unsigned int r, struct folio *folio)
{
	/* For pmpool_virt_to_handle(); KHO used it until now. */
	folio->private = (void *)(unsigned long)(ch->first + r);
	__set_bit(r, ch->used);
	if (IS_ENABLED(CONFIG_KASAN))
		pmpool_restored_slab_poison(pool, ch, r);
}

/* Handover (handover.c). */
extern const char *pmpool_abi_compat;
const char *pmpool_abi_reads(void);
int pmpool_handover_update(void);
bool pmpool_handover_active(void);
bool pmpool_handover_frozen(void);
int pmpool_fdt_out_get(phys_addr_t *phys, size_t *size);
int pmpool_preserve_folio(struct pmpool *pool, struct folio *folio);
unsigned long pmpool_kho_errors(void);
void pmpool_fault_debugfs_init(struct dentry *dir);
void pmpool_unpreserve_folio(struct pmpool *pool, struct folio *folio);
int pmpool_parse_handover(const void *fdt, size_t size,
			  struct list_head *incoming,
			  pmpool_block_order_fn block_order);
int pmpool_validate_pool(struct pmpool_incoming *in,
			 pmpool_block_order_fn block_order);
void pmpool_incoming_free_all(struct list_head *incoming);
void pmpool_handover_receive(void);
void pmpool_handover_init(void);

/* debugfs (debugfs.c). */
extern struct dentry *pmpool_debugfs_dir;
void pmpool_debugfs_init(void);

#endif /* _LIB_PMPOOL_INTERNAL_H */
