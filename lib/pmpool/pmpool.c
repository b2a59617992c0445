// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool: pools of fixed-size kernel objects that survive kexec.
 *
 * Copyright (C) 2026 The pmpool authors
 */

/**
 * DOC: pmpool allocator
 *
 * A pool hands out objects of one size from slabs: folios taken from the
 * page allocator (unmovable, so never in KHO scratch) and preserved with KHO
 * as soon as they are added, so that nothing has to be walked or copied at
 * kexec time.  Objects are named by handles: opaque u64 values that encode
 * the pool tag, the slab number and the object number, and that stay the
 * same in the next kernel.  A driver may therefore store handles inside pool
 * objects and rebuild its linked structures after pmpool_restore().
 *
 * The allocation state of every slab is a bitmap kept in a preserved
 * metadata chunk (see the pmpool KHO ABI).  pmpool_alloc() and
 * pmpool_free() flip one bit, and that single atomic store is what the
 * next kernel sees; a kexec may strike at any instant.  Each CPU owns one
 * slab of each pool it allocates from, taken off the partial list under the
 * pool's spinlock, and sets bits in it (and clears them when it frees into
 * it) without the lock.  Other CPUs clear bits in it under the lock, and
 * set some only when no partial slab is left; every bit changes atomically.
 * The slab counts as full until its owner gives it back for a partial one
 * and counts it again, so nothing in-kernel has to be flushed at kexec.
 * Handles are resolved through the records themselves (slab number ->
 * chunk -> record -> slab address), so lookups need no in-kernel index.
 * Counters such as &pmpool.nr_inuse are never handed over: after a restore
 * they come from what validation counted in the records, and the in-kernel
 * state of each handed-over slab is set up when the slab is first needed,
 * so that a restore costs KHO's own work per slab and little more.
 *
 * KHO preservation sleeps, so slabs are only added by callers that may
 * sleep or by the pool's work item.  An atomic allocation is served from
 * slabs that already exist: pmpool_reserve() keeps a number of objects
 * ready for it.  Empty slabs are released by the work item, which removes
 * the slab from the handed-over state before it unpreserves and frees it.
 */

#define pr_fmt(fmt) "pmpool: " fmt

#include <linux/bitmap.h>
#include <linux/cpuhotplug.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <kunit/visibility.h>
#include <linux/kasan.h>
#include <linux/kexec_handover.h>
#include <linux/local_lock.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "pmpool_internal.h"

/* Serialises pool creation, destruction, restore and the directory. */
DEFINE_MUTEX(pmpool_mutex);
LIST_HEAD(pmpool_pools);
LIST_HEAD(pmpool_incoming_pools);
/* Pages held by all pools: slabs, descriptors and chunks. */
atomic_long_t pmpool_nr_pages;

/**
 * pmpool_geometry_init() - lay out slabs for objects of a given size
 * @geo:      filled in.
 * @obj_size: object size requested by the driver.
 * @flags:    %PMPOOL_F_* flags of the pool.
 *
 * The stride is @obj_size rounded up to 8 bytes.  Slabs are folios of at
 * least 64 KiB and at least one object; a slab grows (up to MAX_PAGE_ORDER)
 * while the tail it cannot use is more than an eighth of it.  Because slabs
 * are naturally aligned folios, objects of a power-of-two size are naturally
 * aligned.  With %PMPOOL_F_FOLIO_PER_OBJ every slab is a folio of exactly
 * one object, which must then be a power-of-two number of pages.
 *
 * Return: 0, or -EINVAL for a size or flags pmpool does not support.
 */
int pmpool_geometry_init(struct pmpool_geometry *geo, size_t obj_size,
			 unsigned int flags)
{
	unsigned int order;
	size_t slab;

	if (!obj_size || obj_size > PMPOOL_MAX_OBJ_SIZE ||
	    (flags & ~PMPOOL_F_ALL))
		return -EINVAL;
	obj_size = ALIGN(obj_size, PMPOOL_MIN_OBJ_SIZE);
	if (flags & PMPOOL_F_FOLIO_PER_OBJ) {
		if (!is_power_of_2(obj_size) || obj_size < PAGE_SIZE)
			return -EINVAL;
		order = get_order(obj_size);
	} else {
		order = max_t(unsigned int, PMPOOL_MIN_SLAB_ORDER,
			      get_order(obj_size));
		while (order < MAX_PAGE_ORDER &&
		       ((PAGE_SIZE << order) % obj_size) > (PAGE_SIZE << order) / 8)
			order++;
	}
	slab = PAGE_SIZE << order;

	geo->flags = flags;
	geo->obj_size = obj_size;
	geo->slab_order = order;
	geo->objs_per_slab = slab / obj_size;
	geo->rec_size = sizeof(struct pmpool_slab_ser) +
			BITS_TO_U64(geo->objs_per_slab) * sizeof(u64);
	geo->recs_per_chunk = PMPOOL_CHUNK_SIZE / geo->rec_size;
	/* &pmpool_slab.inuse is 16 bits: 8192 objects at most by construction. */
	if (!geo->recs_per_chunk || geo->objs_per_slab > U16_MAX ||
	    geo->objs_per_slab > PMPOOL_ABI_HANDLE_OBJ_MASK + 1)
		return -EINVAL;
	return 0;
}

static unsigned long *pmpool_rec_bitmap(struct pmpool_slab_ser *rec)
{
	return (unsigned long *)rec->bitmap;
}

static unsigned long *pmpool_slab_bitmap(struct pmpool_slab *slab)
{
	return pmpool_rec_bitmap(slab->rec);
}

static void *pmpool_slab_obj(struct pmpool *pool, struct pmpool_slab *slab,
			     unsigned int i)
{
	return phys_to_virt(slab->rec->phys) + (size_t)i * pool->geo.obj_size;
}

/*
 * The chunk holding slab number @s, and in @r the slab's record in it; NULL
 * if there is no such chunk.  Safe without locks: a chunk once published
 * stays until the pool is freed.
 */
static struct pmpool_chunk *pmpool_chunk_find(struct pmpool *pool,
					      unsigned long s, unsigned int *r)
{
	*r = s % pool->geo.recs_per_chunk;
	return pmpool_chunk(pool, s / pool->geo.recs_per_chunk);
}

/*
 * The record that a handle of @pool names, or NULL if the handle cannot be
 * one of its objects (its slab may still be absent: @phys is then 0).
 */
static struct pmpool_slab_ser *pmpool_handle_rec(struct pmpool *pool,
						 u64 handle,
						 struct pmpool_chunk **chp,
						 unsigned int *rp)
{
	struct pmpool_chunk *ch;
	unsigned int r;

	if (pmpool_handle_tag(handle) != pool->tag ||
	    pmpool_handle_obj(handle) >= pool->geo.objs_per_slab)
		return NULL;
	ch = pmpool_chunk_find(pool, pmpool_handle_slab(handle), &r);
	if (!ch)
		return NULL;
	if (chp) {
		*chp = ch;
		*rp = r;
	}
	return pmpool_rec(&pool->geo, ch->recs, r);
}

/**
 * pmpool_rec_next() - the next slab of a pool, in slab-number order
 * @pool: the pool.
 * @s:    slab number to start from; set to the number found.
 *
 * Callers keep slabs from being released (&pmpool.grow_lock or a walk).
 *
 * Return: the record of the first slab numbered @s or above, or NULL.
 */
struct pmpool_slab_ser *pmpool_rec_next(struct pmpool *pool, unsigned long *s)
{
	struct pmpool_slab_ser *rec;
	struct pmpool_chunk *ch;
	unsigned int r;

	for (; (ch = pmpool_chunk_find(pool, *s, &r)); (*s)++) {
		rec = pmpool_rec(&pool->geo, ch->recs, r);
		if (READ_ONCE(rec->phys))
			return rec;
	}
	return NULL;
}

/* Set up the struct of the lazy slab of record @r of @ch. */
static struct pmpool_slab *pmpool_slab_wake(struct pmpool *pool,
					    struct pmpool_chunk *ch,
					    unsigned int r)
{
	struct pmpool_slab *slab = &ch->slabs[r];
	unsigned int per = pool->geo.objs_per_slab;

	lockdep_assert_held(&pool->lock);
	__clear_bit(r, ch->lazy);
	pool->nr_lazy--;
	slab->rec = pmpool_rec(&pool->geo, ch->recs, r);
	slab->index = ch->first + r;
	slab->inuse = bitmap_weight(pmpool_slab_bitmap(slab), per);
	slab->owned = false;
	if (slab->inuse < per)
		list_add_tail(&slab->list, &pool->partial);
	else
		INIT_LIST_HEAD(&slab->list);
	return slab;
}

/* Set up the structs of up to @budget lazy slabs, lowest number first. */
static void pmpool_lazy_wake(struct pmpool *pool, unsigned int budget)
{
	unsigned int rpc = pool->geo.recs_per_chunk, r;
	struct pmpool_chunk *ch;

	lockdep_assert_held(&pool->lock);
	while (pool->nr_lazy && budget) {
		/* A lazy slab is at or above @lazy_next: its chunk exists. */
		ch = pmpool_chunk(pool, pool->lazy_next / rpc);
		r = find_next_bit(ch->lazy, rpc, pool->lazy_next % rpc);
		if (r == rpc) {
			pool->lazy_next = ch->first + rpc;
			continue;
		}
		pool->lazy_next = ch->first + r + 1;
		pmpool_slab_wake(pool, ch, r);
		budget--;
	}
}

/* Lazy slabs set up per hold of the pool's lock. */
#define PMPOOL_WAKE_BATCH	32

/* Page-allocator memory for slabs and metadata, preserved if persistent. */
static struct folio *pmpool_folio_alloc(struct pmpool *pool, gfp_t gfp,
					unsigned int order)
{
	struct folio *folio;

	gfp |= __GFP_NOWARN;
	if (pool->nid == NUMA_NO_NODE)
		folio = folio_alloc(gfp, order);
	else
		folio = __folio_alloc_node(gfp, order, pool->nid);
	if (!folio)
		return NULL;
	if (pmpool_preserve_folio(pool, folio)) {
		folio_put(folio);
		return NULL;
	}
	atomic_long_add(folio_nr_pages(folio), &pmpool_nr_pages);
	return folio;
}

static void pmpool_folio_free(struct pmpool *pool, struct folio *folio)
{
	atomic_long_sub(folio_nr_pages(folio), &pmpool_nr_pages);
	pmpool_unpreserve_folio(pool, folio);
	folio_put(folio);
}

/**
 * pmpool_pages_held() - pages all pools of this kernel hold
 *
 * Slabs and handed-over metadata, allocated or restored; for tests that
 * check that a failed operation leaked nothing.
 *
 * Return: the number of pages.
 */
unsigned long pmpool_pages_held(void)
{
	return atomic_long_read(&pmpool_nr_pages);
}
EXPORT_SYMBOL_IF_KUNIT(pmpool_pages_held);

bool pmpool_tag_in_use(u16 tag)
{
	struct pmpool_incoming *in;
	struct pmpool *pool;

	lockdep_assert_held(&pmpool_mutex);
	list_for_each_entry(pool, &pmpool_pools, list)
		if (pool->tag == tag)
			return true;
	/*
	 * Not even a refused pool's: handles of it may still be stored
	 * somewhere, and must not name objects of a new pool.
	 */
	list_for_each_entry(in, &pmpool_incoming_pools, list)
		if (in->tag == tag)
			return true;
	return false;
}

bool pmpool_name_in_use(const char *name)
{
	struct pmpool_incoming *in;
	struct pmpool *pool;

	lockdep_assert_held(&pmpool_mutex);
	list_for_each_entry(pool, &pmpool_pools, list)
		if (!strcmp(pool->name, name))
			return true;
	/* A refused pool will never be restored: its name is free. */
	list_for_each_entry(in, &pmpool_incoming_pools, list)
		if (!in->error && !strcmp(in->name, name))
			return true;
	return false;
}

static void pmpool_work_fn(struct work_struct *work);

struct pmpool *pmpool_alloc_struct(const char *name, u16 tag, int nid,
				   const struct pmpool_geometry *geo)
{
	struct pmpool *pool;
	int cpu;

	pool = kzalloc_obj(*pool, GFP_KERNEL);
	if (!pool)
		return NULL;
	pool->nr_leaves = DIV_ROUND_UP(PMPOOL_MAX_CHUNKS(geo), PMPOOL_LEAF_CHUNKS);
	pool->leaves = kvcalloc(pool->nr_leaves, sizeof(*pool->leaves), GFP_KERNEL);
	pool->cpu_slab = alloc_percpu(struct pmpool_cpu_slab);
	if (!pool->leaves || !pool->cpu_slab) {
		free_percpu(pool->cpu_slab);
		kvfree(pool->leaves);
		kfree(pool);
		return NULL;
	}
	for_each_possible_cpu(cpu)
		local_lock_init(&per_cpu_ptr(pool->cpu_slab, cpu)->lock);
	strscpy(pool->name, name);
	pool->tag = tag;
	pool->nid = nid;
	pool->geo = *geo;
	pool->persistent = pmpool_handover_active();
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
	mutex_init(&pool->grow_lock);
	INIT_WORK(&pool->work, pmpool_work_fn);
	INIT_LIST_HEAD(&pool->list);
	return pool;
}

void pmpool_chunk_free(struct pmpool_chunk *ch)
{
	if (ch) {
		kvfree(ch->slabs);
		kfree(ch);
	}
}

/* In-kernel state of chunk @c, without its records (@recs is NULL). */
struct pmpool_chunk *pmpool_chunk_alloc(struct pmpool *pool, unsigned int c)
{
	unsigned int rpc = pool->geo.recs_per_chunk;
	size_t words = BITS_TO_LONGS(rpc);
	struct pmpool_chunk *ch;

	ch = kzalloc(sizeof(*ch) + 2 * words * sizeof(long), GFP_KERNEL);
	if (!ch)
		return NULL;
	/* Not zeroed: a slab's struct is set up when its slab is added. */
	ch->slabs = kvmalloc_array(rpc, sizeof(*ch->slabs), GFP_KERNEL);
	if (!ch->slabs) {
		kfree(ch);
		return NULL;
	}
	ch->used = (unsigned long *)(ch + 1);
	ch->lazy = ch->used + words;
	ch->first = c * rpc;
	return ch;
}

/*
 * Make @ch chunk @c of @pool for lockless lookups, allocating its leaf if
 * it is the leaf's first.  Under &pmpool.grow_lock, or before the pool is
 * visible.
 */
int pmpool_chunk_publish(struct pmpool *pool, unsigned int c,
			 struct pmpool_chunk *ch)
{
	struct pmpool_leaf **leafp = &pool->leaves[c >> PMPOOL_LEAF_SHIFT];

	if (!*leafp) {
		struct pmpool_leaf *leaf = kzalloc_obj(*leaf, GFP_KERNEL);

		if (!leaf)
			return -ENOMEM;
		/* The zeroed leaf before its pointer; pairs with pmpool_chunk(). */
		smp_store_release(leafp, leaf);
	}
	/* Readers find the chunk complete (pmpool_chunk()). */
	smp_store_release(&(*leafp)->chunk[c & (PMPOOL_LEAF_CHUNKS - 1)], ch);
	return 0;
}

/* Frees the in-kernel structures only; the memory is released by callers. */
void pmpool_free_struct(struct pmpool *pool)
{
	unsigned int l, i;

	for (l = 0; l < pool->nr_leaves && pool->leaves[l]; l++) {
		for (i = 0; i < PMPOOL_LEAF_CHUNKS; i++)
			pmpool_chunk_free(pool->leaves[l]->chunk[i]);
		kfree(pool->leaves[l]);
	}
	free_percpu(pool->cpu_slab);
	kvfree(pool->leaves);
	kfree(pool);
}

/*
 * A free tag, or 0 if all are taken.  Tags are handed out round robin, so a
 * pool destroyed and created again under the same name gets a new tag: a
 * stale handle of the old pool is then refused rather than taken for an
 * object of the new one.
 */
static u16 pmpool_pick_tag(void)
{
	static u16 next = 1;
	unsigned int tries;
	u16 tag;

	lockdep_assert_held(&pmpool_mutex);
	for (tries = 0; tries < PMPOOL_ABI_TAG_MAX; tries++) {
		tag = next;
		next = next % PMPOOL_ABI_TAG_MAX + 1;
		if (!pmpool_tag_in_use(tag))
			return tag;
	}
	return 0;
}

/**
 * pmpool_create_node() - create a named pool bound to a NUMA node
 * @name:     unique name, at most %PMPOOL_NAME_MAX characters; the key for
 *            pmpool_restore() in the next kernel.
 * @obj_size: object size in bytes, 1 to 4 MiB (PAGE_SIZE << MAX_PAGE_ORDER);
 *            rounded up to a multiple of 8.  Objects of a power-of-two size
 *            are naturally aligned, others are 8-byte aligned.
 * @flags:    0, or %PMPOOL_F_FOLIO_PER_OBJ.
 * @nid:      node to allocate slabs on (preferred, not strict), or
 *            %NUMA_NO_NODE for the allocating CPU's node.
 *
 * When KHO is enabled (kho_is_enabled()) the pool is handed over at every
 * kexec until it is destroyed.  When it is not (``kho=off``, or a kernel
 * without KHO support), the pool works the same but is volatile: it is lost
 * at kexec, and pmpool_is_persistent() returns false.
 *
 * Context: process context, may sleep.
 * Return: the pool, or an ERR_PTR(): -EINVAL for a bad name, size, flags or
 * node, -EEXIST if a pool of that name exists in this kernel or was handed
 * over by the previous kernel and was neither restored nor discarded,
 * -ENOMEM, or -ENOSPC if the handover directory is full.
 */
struct pmpool *pmpool_create_node(const char *name, size_t obj_size,
				  unsigned int flags, int nid)
{
	struct pmpool_geometry geo;
	struct pmpool *pool;
	struct folio *desc;
	u16 tag;
	int err;

	if (!name || !*name || strnlen(name, PMPOOL_NAME_MAX + 1) > PMPOOL_NAME_MAX)
		return ERR_PTR(-EINVAL);
	if (nid != NUMA_NO_NODE && (nid < 0 || nid >= MAX_NUMNODES ||
				    !node_online(nid)))
		return ERR_PTR(-EINVAL);
	err = pmpool_geometry_init(&geo, obj_size, flags);
	if (err)
		return ERR_PTR(err);

	mutex_lock(&pmpool_mutex);
	pmpool_handover_receive();
	if (pmpool_name_in_use(name)) {
		err = -EEXIST;
		goto out_unlock;
	}
	tag = pmpool_pick_tag();
	err = -ENOSPC;
	if (!tag)
		goto out_unlock;
	err = -ENOMEM;
	pool = pmpool_alloc_struct(name, tag, nid, &geo);
	if (!pool)
		goto out_unlock;

	desc = pmpool_folio_alloc(pool, GFP_KERNEL | __GFP_ZERO, 0);
	if (!desc)
		goto out_free_struct;
	pool->desc = folio_address(desc);
	pool->desc->magic = PMPOOL_ABI_DESC_MAGIC;
	pool->desc->obj_size = geo.obj_size;
	pool->desc->slab_order = geo.slab_order;
	pool->desc->objs_per_slab = geo.objs_per_slab;
	pool->desc->rec_size = geo.rec_size;
	pool->desc->recs_per_chunk = geo.recs_per_chunk;

	list_add_tail(&pool->list, &pmpool_pools);
	err = pmpool_handover_update();
	if (err)
		goto out_unlist;
	mutex_unlock(&pmpool_mutex);
	return pool;

out_unlist:
	list_del(&pool->list);
	pmpool_folio_free(pool, desc);
out_free_struct:
	pmpool_free_struct(pool);
out_unlock:
	mutex_unlock(&pmpool_mutex);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(pmpool_create_node);

/**
 * pmpool_create() - create a named pool of fixed-size objects
 * @name:     unique name (see pmpool_create_node()).
 * @obj_size: object size in bytes.
 * @flags:    %PMPOOL_F_* flags (see pmpool_create_node()).
 *
 * Same as pmpool_create_node() with %NUMA_NO_NODE.
 *
 * Context: process context, may sleep.
 * Return: the pool or an ERR_PTR(), as for pmpool_create_node().
 */
struct pmpool *pmpool_create(const char *name, size_t obj_size,
			     unsigned int flags)
{
	return pmpool_create_node(name, obj_size, flags, NUMA_NO_NODE);
}
EXPORT_SYMBOL_GPL(pmpool_create);

/* Link the new chunk table @folio, number @t, at the end of the chain. */
static void pmpool_table_link(struct pmpool *pool, unsigned int t,
			      struct folio *folio)
{
	struct pmpool_table_ser *table = folio_address(folio);

	lockdep_assert_held(&pool->grow_lock);
	table->magic = PMPOOL_ABI_TABLE_MAGIC;
	table->index = t;
	/* The table is complete before the next kernel can find it. */
	smp_wmb();
	if (t)
		WRITE_ONCE(pool->table->next, pmpool_folio_phys(folio));
	else
		WRITE_ONCE(pool->desc->table, pmpool_folio_phys(folio));
	pool->table = table;
}

/*
 * Add metadata chunk @c, the next one, and the chunk table that lists it if
 * it is the first of a table.  Everything is allocated before anything is
 * linked, so a failure leaves nothing behind; a kexec between the link and
 * the count hands over a table or chunk beyond the count, which the next
 * kernel ignores.  Sleeps.
 */
static int pmpool_chunk_get(struct pmpool *pool, unsigned int c)
{
	unsigned int t = c / PMPOOL_ABI_TABLE_CHUNKS;
	struct folio *folio, *table = NULL;
	struct pmpool_chunk *ch;
	int err = -ENOMEM;

	lockdep_assert_held(&pool->grow_lock);
	/* Chunks fill in order: @c is the first one that does not exist. */
	if (WARN_ON_ONCE(c != pool->desc->nr_chunks || pmpool_chunk(pool, c)))
		return -EINVAL;
	/* Tables are linked with their first chunk: chunk @c starts table @t. */
	if (!(c % PMPOOL_ABI_TABLE_CHUNKS)) {
		table = pmpool_folio_alloc(pool, GFP_KERNEL | __GFP_ZERO, 0);
		if (!table)
			return -ENOMEM;
	}
	ch = pmpool_chunk_alloc(pool, c);
	if (!ch)
		goto out_table;
	folio = pmpool_folio_alloc(pool, GFP_KERNEL | __GFP_ZERO,
				   PMPOOL_ABI_CHUNK_ORDER);
	if (!folio)
		goto out_chunk;
	ch->recs = folio_address(folio);
	err = pmpool_chunk_publish(pool, c, ch);
	if (err)
		goto out_folio;
	if (table)
		pmpool_table_link(pool, t, table);
	/* The zeroed chunk must be in place before the next kernel sees it. */
	smp_wmb();
	WRITE_ONCE(pool->table->chunks[c % PMPOOL_ABI_TABLE_CHUNKS],
		   pmpool_folio_phys(folio));
	/* Listed before it is counted: a count never names an empty entry. */
	smp_wmb();
	WRITE_ONCE(pool->desc->nr_chunks, c + 1);
	return 0;

out_folio:
	pmpool_folio_free(pool, folio);
out_chunk:
	pmpool_chunk_free(ch);
out_table:
	if (table)
		pmpool_folio_free(pool, table);
	return err;
}

/*
 * The lowest free slab number: its chunk, and its record in @r.  Adds a
 * chunk if all are full.  Sleeps.
 */
static struct pmpool_chunk *pmpool_slab_number_get(struct pmpool *pool,
						   unsigned int *r)
{
	unsigned int rpc = pool->geo.recs_per_chunk;
	unsigned int c, nr_chunks = pool->desc->nr_chunks;
	struct pmpool_chunk *ch;
	int err;

	lockdep_assert_held(&pool->grow_lock);
	for (c = pool->grow_hint; c < nr_chunks; c++) {
		*r = find_first_zero_bit(pmpool_chunk(pool, c)->used, rpc);
		if (*r < rpc)
			break;
	}
	pool->grow_hint = c;
	if (c == nr_chunks) {
		if ((u64)c * rpc >= PMPOOL_MAX_SLABS)
			return ERR_PTR(-ENOSPC);
		err = pmpool_chunk_get(pool, c);
		if (err)
			return ERR_PTR(err);
		*r = 0;
	}
	ch = pmpool_chunk(pool, c);
	if ((u64)ch->first + *r >= PMPOOL_MAX_SLABS)
		return ERR_PTR(-ENOSPC);
	return ch;
}

/*
 * The descriptor's slab count, around a change of the @phys of the record
 * of slab @s, whose slab is empty: pmpool_slab_busy() before the change,
 * pmpool_slab_counted() with the change in the count (+1 or -1) after it.
 */
static void pmpool_slab_busy(struct pmpool *pool, unsigned int s)
{
	lockdep_assert_held(&pool->grow_lock);
	WRITE_ONCE(pool->desc->busy_slab, (u64)s + 1);
	/* Busy before the record changes (see the ABI's count rule). */
	smp_wmb();
}

static void pmpool_slab_counted(struct pmpool *pool, int delta)
{
	struct pmpool_desc_ser *desc = pool->desc;

	lockdep_assert_held(&pool->grow_lock);
	/* The record changed before the count follows it ... */
	smp_wmb();
	/* Only this kernel writes its descriptor, under the grow lock. */
	WRITE_ONCE(desc->nr_slabs, desc->nr_slabs + delta);
	/* ... and the count before busy is cleared. */
	smp_wmb();
	WRITE_ONCE(desc->busy_slab, 0);
}

/* Add one slab to @pool.  Sleeps. */
static int pmpool_grow(struct pmpool *pool)
{
	struct pmpool_slab *slab;
	struct pmpool_chunk *ch;
	struct folio *folio;
	unsigned long flags;
	unsigned int r;
	int err = 0;

	mutex_lock(&pool->grow_lock);
	ch = pmpool_slab_number_get(pool, &r);
	if (IS_ERR(ch)) {
		err = PTR_ERR(ch);
		goto out_unlock;
	}
	folio = pmpool_folio_alloc(pool, GFP_KERNEL, pool->geo.slab_order);
	if (!folio) {
		err = -ENOMEM;
		goto out_unlock;
	}
	slab = &ch->slabs[r];
	slab->rec = pmpool_rec(&pool->geo, ch->recs, r);
	slab->index = ch->first + r;
	slab->inuse = 0;
	slab->owned = false;
	__set_bit(r, ch->used);
	/* For pmpool_virt_to_handle(). */
	folio->private = (void *)(unsigned long)slab->index;
	/* Every object is free: KASAN reports any access until allocated. */
	kasan_poison_range(folio_address(folio), folio_size(folio));

	/*
	 * The record's bitmap is zero (fresh chunk, or cleared when the slab
	 * number was last released); setting @phys hands the slab over.  The
	 * count follows, and the next kernel forgives a difference of one in
	 * the record named busy while this is under way (see the ABI).
	 */
	pmpool_slab_busy(pool, slab->index);
	WRITE_ONCE(slab->rec->phys, pmpool_folio_phys(folio));
	pmpool_slab_counted(pool, 1);

	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&slab->list, &pool->partial);
	pool->nr_free += pool->geo.objs_per_slab;
	pool->nr_slabs++;
	spin_unlock_irqrestore(&pool->lock, flags);
out_unlock:
	mutex_unlock(&pool->grow_lock);
	return err;
}

/* pmpool_grow() under the caller's reclaim constraints (KHO allocates too). */
static int pmpool_grow_gfp(struct pmpool *pool, gfp_t gfp)
{
	unsigned int noio = 0, nofs = 0;
	int err;

	if (!(gfp & __GFP_IO))
		noio = memalloc_noio_save();
	else if (!(gfp & __GFP_FS))
		nofs = memalloc_nofs_save();
	err = pmpool_grow(pool);
	if (!(gfp & __GFP_IO))
		memalloc_noio_restore(noio);
	else if (!(gfp & __GFP_FS))
		memalloc_nofs_restore(nofs);
	return err;
}

/*
 * Take the slab of record @r of @ch out of the handed-over state and free
 * it.  Its struct, if set up, is off every list.  Sleeps.
 */
static void pmpool_slab_release(struct pmpool *pool, struct pmpool_chunk *ch,
				unsigned int r)
{
	struct pmpool_slab_ser *rec = pmpool_rec(&pool->geo, ch->recs, r);
	phys_addr_t phys = rec->phys;

	lockdep_assert_held(&pool->grow_lock);
	/* First out of the next kernel's view, then unpreserved and freed. */
	pmpool_slab_busy(pool, ch->first + r);
	WRITE_ONCE(rec->phys, 0);
	pmpool_slab_counted(pool, -1);
	/* Orders the unpublish before the bitmap reset and the free below. */
	smp_wmb();
	bitmap_zero(pmpool_rec_bitmap(rec), pool->geo.objs_per_slab);
	__clear_bit(r, ch->used);
	pool->grow_hint = min(pool->grow_hint, ch->first / pool->geo.recs_per_chunk);
	pmpool_folio_free(pool, pfn_folio(PHYS_PFN(phys)));
}

/* Release empty slabs beyond the reserve plus one slab of slack. */
static void pmpool_shrink(struct pmpool *pool)
{
	unsigned int per = pool->geo.objs_per_slab;
	struct pmpool_slab *slab, *victim;
	struct pmpool_chunk *ch;
	unsigned long flags;
	unsigned int r;

	mutex_lock(&pool->grow_lock);
	while (!atomic_read(&pool->walkers)) {
		victim = NULL;
		spin_lock_irqsave(&pool->lock, flags);
		if (pool->nr_free >= (unsigned long)pool->reserve + 2 * per) {
			list_for_each_entry(slab, &pool->partial, list) {
				if (!slab->inuse) {
					victim = slab;
					list_del_init(&slab->list);
					pool->nr_free -= per;
					pool->nr_slabs--;
					break;
				}
			}
		}
		spin_unlock_irqrestore(&pool->lock, flags);
		if (!victim)
			break;
		ch = pmpool_chunk_find(pool, victim->index, &r);
		pmpool_slab_release(pool, ch, r);
	}
	mutex_unlock(&pool->grow_lock);
}

static void pmpool_work_fn(struct work_struct *work)
{
	struct pmpool *pool = container_of(work, struct pmpool, work);
	unsigned long flags;

	/* Handed-over slabs not set up yet: shrinking considers them too. */
	while (READ_ONCE(pool->nr_lazy)) {
		spin_lock_irqsave(&pool->lock, flags);
		pmpool_lazy_wake(pool, PMPOOL_WAKE_BATCH);
		spin_unlock_irqrestore(&pool->lock, flags);
		cond_resched();
	}
	while (READ_ONCE(pool->nr_free) < READ_ONCE(pool->reserve))
		if (pmpool_grow(pool))
			break;
	pmpool_shrink(pool);
}

/**
 * pmpool_reserve() - keep free objects ready for atomic allocations
 * @pool:    the pool.
 * @nr_objs: free objects to keep; 0 stops keeping any.
 *
 * Grows @pool now until it has at least @nr_objs free objects, and from
 * then on refills it from a work item whenever an allocation takes it
 * below that.  Allocations that cannot sleep are served only from existing
 * slabs, so a driver that allocates with GFP_ATOMIC sizes its reserve for
 * the largest burst it makes between two refills.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ENOMEM / -ENOSPC if the pool could not grow; the reserve
 * stays set and the work item keeps trying on later allocations.
 */
int pmpool_reserve(struct pmpool *pool, unsigned int nr_objs)
{
	int err = 0;

	might_sleep();
	WRITE_ONCE(pool->reserve, nr_objs);
	while (READ_ONCE(pool->nr_free) < nr_objs) {
		err = pmpool_grow(pool);
		if (err)
			break;
	}
	return err;
}
EXPORT_SYMBOL_GPL(pmpool_reserve);

/*
 * Give back the slab a CPU owned: the objects its bitmap shows free are
 * free objects of the pool again.
 */
static void pmpool_cpu_slab_put(struct pmpool *pool, struct pmpool_slab *slab)
{
	unsigned int per = pool->geo.objs_per_slab;
	unsigned int inuse = bitmap_weight(pmpool_slab_bitmap(slab), per);

	lockdep_assert_held(&pool->lock);
	slab->owned = false;
	slab->inuse = inuse;
	pool->nr_free += per - inuse;
	pool->nr_inuse -= per - inuse;
	if (inuse < per)
		list_add(&slab->list, &pool->partial);
}

/* Make the partial slab @slab this CPU's: its free objects count as in use. */
static void pmpool_cpu_slab_get(struct pmpool *pool, struct pmpool_slab *slab)
{
	unsigned int free = pool->geo.objs_per_slab - slab->inuse;

	lockdep_assert_held(&pool->lock);
	list_del_init(&slab->list);
	slab->owned = true;
	slab->inuse = pool->geo.objs_per_slab;
	pool->nr_free -= free;
	pool->nr_inuse += free;
}

/*
 * Allocate object @*ip of @slab if it is free, else another: a CPU's slab
 * gets bits set by its owner without the lock and, rarely, by another CPU
 * under it.  Return: false if none is free.
 */
static bool pmpool_slab_take(struct pmpool *pool, struct pmpool_slab *slab,
			     unsigned int *ip)
{
	unsigned long *bitmap = pmpool_slab_bitmap(slab);
	unsigned int per = pool->geo.objs_per_slab, i;

	/* The bit set is the allocation as far as the next kernel is concerned. */
	while ((i = find_first_zero_bit(bitmap, per)) < per) {
		if (!test_and_set_bit(i, bitmap)) {
			*ip = i;
			return true;
		}
	}
	return false;
}

/*
 * With no partial slab left, an object free in a slab another CPU owns
 * (pool->lock held): what keeps the pool from growing, and an atomic
 * allocation from failing, while other CPUs' slabs have room.
 */
static struct pmpool_slab *pmpool_cpu_slabs_take(struct pmpool *pool,
						 unsigned int *ip)
{
	struct pmpool_slab *slab;
	int cpu;

	lockdep_assert_held(&pool->lock);
	for_each_possible_cpu(cpu) {
		slab = per_cpu_ptr(pool->cpu_slab, cpu)->slab;
		if (slab && pmpool_slab_take(pool, slab, ip))
			return slab;
	}
	return NULL;
}

/* Free objects in slabs CPUs own, counted as in use (pool->lock held). */
static unsigned long pmpool_cpu_slabs_free(struct pmpool *pool)
{
	unsigned int per = pool->geo.objs_per_slab;
	struct pmpool_slab *slab;
	unsigned long n = 0;
	int cpu;

	lockdep_assert_held(&pool->lock);
	for_each_possible_cpu(cpu) {
		slab = per_cpu_ptr(pool->cpu_slab, cpu)->slab;
		if (slab)
			n += per - bitmap_weight(pmpool_slab_bitmap(slab), per);
	}
	return n;
}

/**
 * pmpool_alloc() - allocate an object
 * @pool:   the pool.
 * @gfp:    GFP flags.  %__GFP_ZERO zeroes the object.  If @gfp does not
 *          allow sleeping (GFP_ATOMIC, GFP_NOWAIT) the object comes from
 *          slabs that already exist (see pmpool_reserve()) and the call
 *          fails when there is none free.
 * @handle: set to the object's handle, which stays valid after kexec.
 *
 * Each CPU allocates from a slab of its own without taking the pool's
 * lock, and takes it only to swap a full slab for a partial one.
 *
 * Context: any context if @gfp does not allow sleeping, else process
 * context.
 * Return: the object, or NULL if no memory could be found.
 */
void *pmpool_alloc(struct pmpool *pool, gfp_t gfp, u64 *handle)
{
	struct pmpool_cpu_slab *cpu_slab;
	struct pmpool_slab *slab;
	unsigned long flags;
	bool refill = false;
	unsigned int i;
	void *obj;

	might_alloc(gfp);
	for (;;) {
		local_lock_irqsave(&pool->cpu_slab->lock, flags);
		cpu_slab = this_cpu_ptr(pool->cpu_slab);
		slab = cpu_slab->slab;
		if (slab && pmpool_slab_take(pool, slab, &i))
			break;
		/* This CPU's slab is full (or there is none): swap it. */
		spin_lock(&pool->lock);
		if (slab) {
			pmpool_cpu_slab_put(pool, slab);
			cpu_slab->slab = NULL;
		}
		slab = list_first_entry_or_null(&pool->partial,
						struct pmpool_slab, list);
		if (slab) {
			pmpool_cpu_slab_get(pool, slab);
			cpu_slab->slab = slab;
			refill = pool->nr_free < pool->reserve;
			spin_unlock(&pool->lock);
			if (pmpool_slab_take(pool, slab, &i))
				break;
			/* Taken by another CPU meanwhile: start again. */
			local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
			continue;
		}
		if (pool->nr_lazy) {
			/* Free objects may be in handed-over slabs. */
			pmpool_lazy_wake(pool, PMPOOL_WAKE_BATCH);
			spin_unlock(&pool->lock);
			local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
			if (gfpflags_allow_blocking(gfp))
				cond_resched();
			continue;
		}
		slab = pmpool_cpu_slabs_take(pool, &i);
		spin_unlock(&pool->lock);
		if (slab)
			break;
		local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
		if (!gfpflags_allow_blocking(gfp)) {
			queue_work(system_dfl_wq, &pool->work);
			return NULL;
		}
		if (pmpool_grow_gfp(pool, gfp))
			return NULL;
	}
	local_unlock_irqrestore(&pool->cpu_slab->lock, flags);

	if (refill)
		queue_work(system_dfl_wq, &pool->work);
	obj = pmpool_slab_obj(pool, slab, i);
	kasan_unpoison_range(obj, pool->geo.obj_size);
	if (gfp & __GFP_ZERO)
		memset(obj, 0, pool->geo.obj_size);
	*handle = pmpool_handle_make(pool->tag, slab->index, i);
	return obj;
}
EXPORT_SYMBOL_GPL(pmpool_alloc);

/*
 * Take up to @nr free objects of the partial slab @slab (pool->lock held;
 * nobody sets or clears its bits without the lock, as no CPU owns it),
 * whole runs of bits at a time; their handles go to @handles.
 * Return: the number of objects taken.
 */
static unsigned int pmpool_slab_take_bulk(struct pmpool *pool,
					  struct pmpool_slab *slab,
					  unsigned int nr, u64 *handles)
{
	unsigned long *bitmap = pmpool_slab_bitmap(slab);
	unsigned int per = pool->geo.objs_per_slab, i, end, n, got = 0;

	lockdep_assert_held(&pool->lock);
	for (i = find_first_zero_bit(bitmap, per); i < per && got < nr;
	     i = find_next_zero_bit(bitmap, per, end)) {
		end = min(find_next_bit(bitmap, per, i), i + nr - got);
		/* Word stores: the next kernel sees each object whole. */
		bitmap_set(bitmap, i, end - i);
		for (n = i; n < end; n++)
			handles[got++] = pmpool_handle_make(pool->tag, slab->index, n);
	}
	slab->inuse += got;
	pool->nr_free -= got;
	pool->nr_inuse += got;
	if (slab->inuse == per)
		list_del_init(&slab->list);
	return got;
}

/**
 * pmpool_alloc_bulk() - allocate many objects at once
 * @pool:    the pool.
 * @gfp:     GFP flags, as for pmpool_alloc() (%__GFP_ZERO zeroes them).
 * @nr:      number of objects.
 * @handles: array of @nr handles, filled in.
 *
 * As pmpool_alloc() called @nr times, but objects are taken from partial
 * slabs a run of free bits at a time, under the pool's lock, without
 * going through a CPU's slab: filling a large pool costs per slab, not per
 * object, beyond writing the handles.  Like kmem_cache_alloc_bulk(), all or
 * nothing: on failure every object taken is freed again.  A kexec during
 * the call may hand over objects whose handles the caller never saw.
 *
 * Context: as pmpool_alloc().
 * Return: 0, or -ENOMEM (nothing allocated).
 */
int pmpool_alloc_bulk(struct pmpool *pool, gfp_t gfp, unsigned int nr,
		      u64 *handles)
{
	unsigned int done = 0, got, i;
	struct pmpool_slab *slab;
	unsigned long flags;
	bool refill;

	might_alloc(gfp);
	while (done < nr) {
		spin_lock_irqsave(&pool->lock, flags);
		slab = list_first_entry_or_null(&pool->partial,
						struct pmpool_slab, list);
		if (slab) {
			got = pmpool_slab_take_bulk(pool, slab, nr - done,
						    handles + done);
			spin_unlock_irqrestore(&pool->lock, flags);
			for (i = done; i < done + got; i++) {
				void *obj = pmpool_slab_obj(pool, slab,
							    pmpool_handle_obj(handles[i]));

				kasan_unpoison_range(obj, pool->geo.obj_size);
				if (gfp & __GFP_ZERO)
					memset(obj, 0, pool->geo.obj_size);
			}
			done += got;
			continue;
		}
		if (pool->nr_lazy) {
			pmpool_lazy_wake(pool, PMPOOL_WAKE_BATCH);
			spin_unlock_irqrestore(&pool->lock, flags);
			if (gfpflags_allow_blocking(gfp))
				cond_resched();
			continue;
		}
		spin_unlock_irqrestore(&pool->lock, flags);
		/* No partial slab: grow, or take one at a time from CPUs' slabs. */
		if (gfpflags_allow_blocking(gfp) && !pmpool_grow_gfp(pool, gfp))
			continue;
		if (!pmpool_alloc(pool, gfp, &handles[done]))
			goto fail;
		done++;
	}
	spin_lock_irqsave(&pool->lock, flags);
	refill = pool->nr_free < pool->reserve;
	spin_unlock_irqrestore(&pool->lock, flags);
	if (refill)
		queue_work(system_dfl_wq, &pool->work);
	return 0;

fail:
	for (i = 0; i < done; i++)
		pmpool_free(pool, handles[i]);
	return -ENOMEM;
}
EXPORT_SYMBOL_GPL(pmpool_alloc_bulk);

/*
 * A free of the root object clears the root (pool->lock held), *before* the
 * object's bit is cleared: a kexec at any instant hands over a root that is
 * a live object or 0, and an interrupt that reallocates the object and makes
 * it the root cannot have its root cleared by the free that came first.
 */
static void pmpool_root_forget(struct pmpool *pool, u64 handle)
{
	lockdep_assert_held(&pool->lock);
	if (unlikely(READ_ONCE(pool->desc->root) == handle))
		WRITE_ONCE(pool->desc->root, 0);
}

/*
 * After a lockless free cleared bit @i: a pmpool_set_root() of the same
 * object on another CPU (a caller's race) may have checked the bit before it
 * was cleared.  Pairs with the barrier in pmpool_set_root(); the bit is
 * tested again under the lock because the object may be live again, and
 * the root with it.
 */
static void pmpool_root_recheck(struct pmpool *pool, u64 handle,
				unsigned long *bitmap, unsigned int i)
{
	if (likely(READ_ONCE(pool->desc->root) != handle))
		return;
	spin_lock(&pool->lock);
	if (READ_ONCE(pool->desc->root) == handle && !test_bit(i, bitmap))
		WRITE_ONCE(pool->desc->root, 0);
	spin_unlock(&pool->lock);
}

static int pmpool_free_bad(struct pmpool *pool, u64 handle)
{
	pr_warn_ratelimited("%s: free of a handle that is not a live object: %#llx\n",
			    pool->name, handle);
	return -EINVAL;
}

/**
 * pmpool_free() - free an object
 * @pool:   the pool the object was allocated from.
 * @handle: its handle.
 *
 * A free into the slab this CPU allocates from does not take the pool's
 * lock.  A slab left empty is released later from process context.
 *
 * Context: any context.
 * Return: 0, or -EINVAL (with a rate-limited message) if @handle is not a
 * live object of @pool: a double free or a foreign or forged handle is
 * refused without touching the pool.
 */
int pmpool_free(struct pmpool *pool, u64 handle)
{
	unsigned int per = pool->geo.objs_per_slab;
	unsigned int i = pmpool_handle_obj(handle);
	struct pmpool_slab_ser *rec;
	struct pmpool_slab *slab;
	struct pmpool_chunk *ch;
	unsigned long *bitmap;
	unsigned long flags;
	unsigned int r;
	bool shrink;

	local_lock_irqsave(&pool->cpu_slab->lock, flags);
	rec = pmpool_handle_rec(pool, handle, &ch, &r);
	if (!rec) {
		local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
		return pmpool_free_bad(pool, handle);
	}
	bitmap = pmpool_rec_bitmap(rec);
	slab = this_cpu_ptr(pool->cpu_slab)->slab;
	if (slab && slab->rec == rec) {
		/* This CPU's slab: it stays this CPU's under the local lock. */
		if (!test_bit(i, bitmap))
			goto bad;
		kasan_poison_range(pmpool_slab_obj(pool, slab, i),
				   pool->geo.obj_size);
		if (unlikely(READ_ONCE(pool->desc->root) == handle)) {
			spin_lock(&pool->lock);
			pmpool_root_forget(pool, handle);
			spin_unlock(&pool->lock);
		}
		/* Two frees of one object race here: one of them wins. */
		if (!test_and_clear_bit(i, bitmap))
			goto bad;
		pmpool_root_recheck(pool, handle, bitmap, i);
		local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
		return 0;
	}

	spin_lock(&pool->lock);
	/* A set bit is a live object: its slab exists and stays. */
	if (!test_bit(i, bitmap))
		goto bad_unlock;
	if (unlikely(test_bit(r, ch->lazy)))
		slab = pmpool_slab_wake(pool, ch, r);
	else
		slab = &ch->slabs[r];
	/* Before the object can be handed out again by another CPU. */
	kasan_poison_range(pmpool_slab_obj(pool, slab, i), pool->geo.obj_size);
	if (slab->owned) {
		/* Another CPU's: it counts the slab again when it gives it back. */
		pmpool_root_forget(pool, handle);
		if (!test_and_clear_bit(i, bitmap))
			goto bad_unlock;
		spin_unlock(&pool->lock);
		local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
		return 0;
	}
	pmpool_root_forget(pool, handle);
	clear_bit(i, bitmap);
	if (slab->inuse-- == per)
		list_add(&slab->list, &pool->partial);
	pool->nr_free++;
	pool->nr_inuse--;
	shrink = !slab->inuse &&
		 pool->nr_free >= (unsigned long)pool->reserve + 2 * per;
	spin_unlock(&pool->lock);
	local_unlock_irqrestore(&pool->cpu_slab->lock, flags);

	if (shrink)
		queue_work(system_dfl_wq, &pool->work);
	return 0;

bad_unlock:
	spin_unlock(&pool->lock);
bad:
	local_unlock_irqrestore(&pool->cpu_slab->lock, flags);
	return pmpool_free_bad(pool, handle);
}
EXPORT_SYMBOL_GPL(pmpool_free);

/*
 * The object at @phys + object @i, if the record still names the slab at
 * @phys and the object is live.  Lockless: a slab released and its number
 * reused since @phys was read shows another @phys after the bit is read,
 * because a bit of the new slab is set (under pool->lock) only after the
 * new slab's @phys was published.
 */
static void *pmpool_rec_obj(struct pmpool *pool, struct pmpool_slab_ser *rec,
			    phys_addr_t phys, unsigned int i)
{
	if (!phys)
		return NULL;
	/* Pairs with the smp_wmb() before @phys is set or cleared. */
	smp_rmb();
	if (!test_bit(i, pmpool_rec_bitmap(rec)))
		return NULL;
	/* A new slab's bits are set after its @phys is out (pool->lock). */
	smp_rmb();
	if (READ_ONCE(rec->phys) != phys)
		return NULL;
	return phys_to_virt(phys) + (size_t)i * pool->geo.obj_size;
}

/**
 * pmpool_map() - turn a handle into a pointer
 * @pool:   the pool.
 * @handle: a handle, possibly read back from memory after a kexec.
 *
 * The pointer stays valid until the object is freed.  Like a pointer from
 * kmalloc(), it must not be used once another CPU may have freed the object:
 * callers that share objects across CPUs order their frees against their
 * users themselves.
 *
 * Context: any context.
 * Return: the object, or NULL if @handle is not a live object of @pool
 * (0, freed and not allocated again, out of range, or another pool's).
 */
void *pmpool_map(struct pmpool *pool, u64 handle)
{
	struct pmpool_slab_ser *rec = pmpool_handle_rec(pool, handle, NULL, NULL);

	if (!rec)
		return NULL;
	return pmpool_rec_obj(pool, rec, READ_ONCE(rec->phys),
			      pmpool_handle_obj(handle));
}
EXPORT_SYMBOL_GPL(pmpool_map);

/**
 * pmpool_phys() - physical address of an object
 * @pool:   the pool.
 * @handle: the object's handle.
 *
 * For drivers that give the object to hardware.  The address does not
 * change across kexec.
 *
 * Context: any context.
 * Return: the physical address, or 0 if @handle is not a live object of
 * @pool.
 */
phys_addr_t pmpool_phys(struct pmpool *pool, u64 handle)
{
	void *obj = pmpool_map(pool, handle);

	return obj ? virt_to_phys(obj) : 0;
}
EXPORT_SYMBOL_GPL(pmpool_phys);

/**
 * pmpool_virt_to_handle() - the handle of an object, from its address
 * @pool: the pool.
 * @obj:  the start of a live object of @pool, as returned by pmpool_alloc()
 *        or pmpool_map().
 *
 * For callers that keep pointers or physical addresses of objects (for
 * instance in hardware tables) and need the handle to free them.
 *
 * Context: any context.
 * Return: the handle, or 0 if @obj is not the start of a live object of
 * @pool.
 */
u64 pmpool_virt_to_handle(struct pmpool *pool, const void *obj)
{
	struct pmpool_slab_ser *rec;
	struct pmpool_chunk *ch;
	struct folio *folio;
	unsigned long s, off;
	phys_addr_t phys;
	unsigned int r;

	if (!virt_addr_valid(obj))
		return 0;
	folio = virt_to_folio(obj);
	/* The slab number, if @folio is a slab of @pool: checked below. */
	s = (unsigned long)READ_ONCE(folio->private);
	ch = s <= PMPOOL_ABI_HANDLE_SLAB_MASK ? pmpool_chunk_find(pool, s, &r) : NULL;
	if (!ch)
		return 0;
	rec = pmpool_rec(&pool->geo, ch->recs, r);
	phys = READ_ONCE(rec->phys);
	if (phys != pmpool_folio_phys(folio))
		return 0;
	off = obj - folio_address(folio);
	if (off % pool->geo.obj_size ||
	    off / pool->geo.obj_size >= pool->geo.objs_per_slab ||
	    !pmpool_rec_obj(pool, rec, phys, off / pool->geo.obj_size))
		return 0;
	return pmpool_handle_make(pool->tag, s, off / pool->geo.obj_size);
}
EXPORT_SYMBOL_GPL(pmpool_virt_to_handle);

/**
 * pmpool_set_root() - record the pool's root object
 * @pool:   the pool.
 * @handle: a live object of @pool, or 0 for none.
 *
 * The root is handed over with the pool, so that a driver finds its
 * top-level structure after pmpool_restore().  Freeing the root object
 * clears the root (it becomes 0): the next kernel never sees a root that
 * is not a live object.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if @handle is neither 0 nor a live object.
 */
int pmpool_set_root(struct pmpool *pool, u64 handle)
{
	struct pmpool_slab_ser *rec;
	unsigned long flags;
	int err = 0;

	spin_lock_irqsave(&pool->lock, flags);
	rec = handle ? pmpool_handle_rec(pool, handle, NULL, NULL) : NULL;
	if (handle && (!rec || !test_bit(pmpool_handle_obj(handle),
					 pmpool_rec_bitmap(rec)))) {
		err = -EINVAL;
	} else {
		WRITE_ONCE(pool->desc->root, handle);
		/*
		 * A free that cleared the bit meanwhile (its owner CPU frees
		 * without the lock) may have read the old root: pairs with
		 * the barrier of the bit's clearing in pmpool_free().  Making
		 * the root an object that another CPU is freeing is the
		 * caller's race; one of the two checks then clears the root,
		 * but a kexec between them may hand over a dead root.
		 */
		smp_mb();
		if (handle && !test_bit(pmpool_handle_obj(handle),
					pmpool_rec_bitmap(rec))) {
			WRITE_ONCE(pool->desc->root, 0);
			err = -EINVAL;
		}
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	return err;
}
EXPORT_SYMBOL_GPL(pmpool_set_root);

/**
 * pmpool_get_root() - the pool's root object
 * @pool: the pool.
 *
 * Context: any context.
 * Return: the handle given to pmpool_set_root(), or 0.
 */
u64 pmpool_get_root(struct pmpool *pool)
{
	return READ_ONCE(pool->desc->root);
}
EXPORT_SYMBOL_GPL(pmpool_get_root);

/**
 * pmpool_walk() - call a function for every live object
 * @pool: the pool.
 * @fn:   called with the pool, the handle, the object and @arg.  It may
 *        sleep, allocate from and free to @pool (including the object it
 *        was given).  Objects allocated or freed during the walk may or
 *        may not be visited.
 * @arg:  passed to @fn.
 *
 * Objects are visited in handle order.  No slab is released during the
 * walk.
 *
 * Context: process context, may sleep.
 * Return: 0 after visiting every object, or the first non-zero value
 * returned by @fn.
 */
int pmpool_walk(struct pmpool *pool,
		int (*fn)(struct pmpool *pool, u64 handle, void *obj, void *arg),
		void *arg)
{
	struct pmpool_slab_ser *rec;
	unsigned long s;
	unsigned int i;
	int ret = 0;

	/* Taking grow_lock waits for a release under way to finish. */
	mutex_lock(&pool->grow_lock);
	atomic_inc(&pool->walkers);
	mutex_unlock(&pool->grow_lock);

	for (s = 0; (rec = pmpool_rec_next(pool, &s)); s++) {
		void *base = phys_to_virt(READ_ONCE(rec->phys));

		for_each_set_bit(i, pmpool_rec_bitmap(rec),
				 pool->geo.objs_per_slab) {
			ret = fn(pool, pmpool_handle_make(pool->tag, s, i),
				 base + (size_t)i * pool->geo.obj_size, arg);
			if (ret)
				goto out;
			cond_resched();
		}
	}
out:
	if (atomic_dec_and_test(&pool->walkers))
		queue_work(system_dfl_wq, &pool->work);
	return ret;
}
EXPORT_SYMBOL_GPL(pmpool_walk);

/**
 * pmpool_destroy() - free a pool and everything in it
 * @pool: the pool, or NULL.
 *
 * The pool is taken out of the handover first, then its memory goes back
 * to the page allocator: a kexec after this call knows nothing of it.
 * Handles of its objects become invalid.  Once a reboot has begun (e.g.
 * from a driver's shutdown callback) the directory handed over is final
 * and still names the pool: then only the in-kernel structures are freed
 * and the next kernel gets the pool as it was.
 *
 * Context: process context, may sleep.
 */
void pmpool_destroy(struct pmpool *pool)
{
	struct pmpool_chunk *ch;
	unsigned int c, r;
	unsigned long s;
	phys_addr_t next;
	bool keep;

	if (!pool)
		return;
	mutex_lock(&pmpool_mutex);
	list_del(&pool->list);
	/* Shrinking the directory cannot run out of space. */
	WARN_ON_ONCE(pmpool_handover_update());
	/* A reboot froze a directory that names the pool: leave its memory. */
	keep = pool->persistent && pmpool_handover_frozen();
	mutex_unlock(&pmpool_mutex);

	cancel_work_sync(&pool->work);
	if (keep) {
		pr_debug("%s: destroyed during reboot, handed over as it is\n",
			 pool->name);
		pmpool_free_struct(pool);
		return;
	}
	/* No user is left: the partial list and the counters are dead. */
	mutex_lock(&pool->grow_lock);
	for (s = 0; pmpool_rec_next(pool, &s); s++) {
		ch = pmpool_chunk_find(pool, s, &r);
		pmpool_slab_release(pool, ch, r);
	}
	mutex_unlock(&pool->grow_lock);
	for (c = 0; (ch = pmpool_chunk(pool, c)); c++)
		pmpool_folio_free(pool, virt_to_folio(ch->recs));
	/* Ours, and written by us only: the chain can be followed. */
	for (next = pool->desc->table; next; ) {
		struct pmpool_table_ser *table = phys_to_virt(next);

		next = table->next;
		pmpool_folio_free(pool, virt_to_folio(table));
	}
	pmpool_folio_free(pool, virt_to_folio(pool->desc));
	pmpool_free_struct(pool);
}
EXPORT_SYMBOL_GPL(pmpool_destroy);

/*
 * Restore, step 1: the in-kernel state of the handed-over chunks, all of it
 * allocated before KHO gives anything back (a failure leaves the incoming
 * pool as it was).  Their slabs are set up later, one by one, as needed.
 */
int pmpool_restored_chunks_prepare(struct pmpool *pool,
				   const struct pmpool_incoming *in)
{
	struct pmpool_chunk *ch;
	unsigned int c;

	for (c = 0; c < in->nr_chunks; c++) {
		ch = pmpool_chunk_alloc(pool, c);
		if (!ch)
			return -ENOMEM;
		ch->recs = phys_to_virt(in->chunks[c]);
		if (pmpool_chunk_publish(pool, c, ch)) {
			pmpool_chunk_free(ch);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Restore, with KASAN: its free objects are poisoned, as in a new slab. */
void pmpool_restored_slab_poison(struct pmpool *pool, struct pmpool_chunk *ch,
				 unsigned int r)
{
	struct pmpool_slab_ser *rec = pmpool_rec(&pool->geo, ch->recs, r);
	void *base = phys_to_virt(rec->phys);
	unsigned int i;

	for_each_clear_bit(i, pmpool_rec_bitmap(rec), pool->geo.objs_per_slab)
		kasan_poison_range(base + (size_t)i * pool->geo.obj_size,
				   pool->geo.obj_size);
}

/*
 * Restore, step 3: the pool's counters, from what validation counted in the
 * records (nothing has changed them since).
 */
void pmpool_restored_finish(struct pmpool *pool, unsigned long nr_slabs,
			    unsigned long nr_inuse)
{
	struct pmpool_chunk *ch;
	unsigned int c;

	/* Every slab handed over is lazy; per chunk, not per slab. */
	for (c = 0; (ch = pmpool_chunk(pool, c)); c++)
		bitmap_copy(ch->lazy, ch->used, pool->geo.recs_per_chunk);
	pool->nr_slabs = nr_slabs;
	pool->nr_lazy = nr_slabs;
	pool->nr_inuse = nr_inuse;
	pool->nr_free = nr_slabs * pool->geo.objs_per_slab - nr_inuse;
}

/**
 * pmpool_get_stats() - how much a pool holds
 * @pool:  the pool.
 * @stats: filled in; a snapshot, consistent with itself.
 *
 * Context: any context.
 */
void pmpool_get_stats(struct pmpool *pool, struct pmpool_stats *stats)
{
	unsigned int rpc = pool->geo.recs_per_chunk, nr_chunks;
	unsigned long flags, owned_free;
	u64 chunk_bytes;

	spin_lock_irqsave(&pool->lock, flags);
	owned_free = pmpool_cpu_slabs_free(pool);
	stats->nr_slabs = pool->nr_slabs;
	stats->nr_inuse = pool->nr_inuse - owned_free;
	stats->nr_free = pool->nr_free + owned_free;
	spin_unlock_irqrestore(&pool->lock, flags);
	nr_chunks = READ_ONCE(pool->desc->nr_chunks);
	chunk_bytes = kmalloc_size_roundup(sizeof(struct pmpool_chunk) +
					   2 * BITS_TO_LONGS(rpc) * sizeof(long)) +
		      kmalloc_size_roundup(rpc * sizeof(struct pmpool_slab));
	stats->slab_bytes = (u64)stats->nr_slabs << (PAGE_SHIFT + pool->geo.slab_order);
	/* Handed over (descriptor, tables, chunks), then in-kernel (structs). */
	stats->meta_bytes = PMPOOL_ABI_DESC_SIZE +
			    (u64)DIV_ROUND_UP(nr_chunks, PMPOOL_ABI_TABLE_CHUNKS) *
			    PMPOOL_ABI_TABLE_SIZE +
			    (u64)nr_chunks * (PMPOOL_CHUNK_SIZE + chunk_bytes) +
			    (u64)DIV_ROUND_UP(nr_chunks, PMPOOL_LEAF_CHUNKS) *
			    sizeof(struct pmpool_leaf) +
			    sizeof(*pool) + pool->nr_leaves * sizeof(*pool->leaves) +
			    nr_cpu_ids * sizeof(struct pmpool_cpu_slab);
}
EXPORT_SYMBOL_GPL(pmpool_get_stats);

/**
 * pmpool_obj_size() - object stride of a pool
 * @pool: the pool.
 *
 * Return: the object size in bytes (the size given at creation rounded up
 * to a multiple of 8).
 */
size_t pmpool_obj_size(const struct pmpool *pool)
{
	return pool->geo.obj_size;
}
EXPORT_SYMBOL_GPL(pmpool_obj_size);

/**
 * pmpool_name() - name of a pool
 * @pool: the pool.
 *
 * Return: the name given at creation.
 */
const char *pmpool_name(const struct pmpool *pool)
{
	return pool->name;
}
EXPORT_SYMBOL_GPL(pmpool_name);

/**
 * pmpool_is_persistent() - whether a pool is handed over at kexec
 * @pool: the pool.
 *
 * Return: true if the pool's memory is preserved with KHO, false if KHO
 * was disabled when the pool was created or restored.
 */
bool pmpool_is_persistent(const struct pmpool *pool)
{
	return pool->persistent;
}
EXPORT_SYMBOL_GPL(pmpool_is_persistent);

/* After KHO (fs_initcall), before clients such as the IOMMU (rootfs_initcall). */
/* A CPU that went offline gives back the slabs it owned, in every pool. */
static int pmpool_cpu_dead(unsigned int cpu)
{
	struct pmpool_cpu_slab *cpu_slab;
	struct pmpool *pool;
	unsigned long flags;

	mutex_lock(&pmpool_mutex);
	list_for_each_entry(pool, &pmpool_pools, list) {
		spin_lock_irqsave(&pool->lock, flags);
		cpu_slab = per_cpu_ptr(pool->cpu_slab, cpu);
		if (cpu_slab->slab) {
			pmpool_cpu_slab_put(pool, cpu_slab->slab);
			cpu_slab->slab = NULL;
		}
		spin_unlock_irqrestore(&pool->lock, flags);
		/* An empty slab is released by the shrinker. */
		queue_work(system_dfl_wq, &pool->work);
	}
	mutex_unlock(&pmpool_mutex);
	return 0;
}

static int __init pmpool_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct pmpool_desc_ser) > PMPOOL_ABI_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct pmpool_desc_v2_ser) > PMPOOL_ABI_DESC_SIZE);
	BUILD_BUG_ON(sizeof(struct pmpool_table_ser) != PMPOOL_ABI_TABLE_SIZE);
	BUILD_BUG_ON(PMPOOL_NAME_MAX + 1 != PMPOOL_ABI_NAME_MAX);
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "lib/pmpool:dead",
					NULL, pmpool_cpu_dead);
	if (ret < 0)
		pr_warn("no CPU hotplug callback (%d): an offlined CPU keeps its slabs\n",
			ret);
	pmpool_handover_init();
	pmpool_debugfs_init();
	return 0;
}
fs_initcall_sync(pmpool_init);
