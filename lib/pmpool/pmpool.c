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
 * pmpool_free() flip one bit under the pool's spinlock, and that single
 * store is what the next kernel sees; a kexec may strike at any instant.
 * Counters such as &pmpool.nr_inuse are derived from the bitmaps after a
 * restore and are never handed over.
 *
 * KHO preservation sleeps, so slabs are only added by callers that may
 * sleep or by the pool's work item.  An atomic allocation is served from
 * slabs that already exist: pmpool_reserve() keeps a number of objects
 * ready for it.  Empty slabs are released by the work item, which removes
 * the slab from the handed-over state before it unpreserves and frees it.
 */

#define pr_fmt(fmt) "pmpool: " fmt

#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <kunit/visibility.h>
#include <linux/kasan.h>
#include <linux/kexec_handover.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
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
	if (!geo->recs_per_chunk ||
	    geo->objs_per_slab > PMPOOL_ABI_HANDLE_OBJ_MASK + 1)
		return -EINVAL;
	return 0;
}

static unsigned long *pmpool_slab_bitmap(struct pmpool_slab *slab)
{
	return (unsigned long *)slab->rec->bitmap;
}

static void *pmpool_slab_obj(struct pmpool *pool, struct pmpool_slab *slab,
			     unsigned int i)
{
	return folio_address(slab->folio) + (size_t)i * pool->geo.obj_size;
}

/* Whether @slab is an entry of @pool->batch (restored, not kfree()d). */
static bool pmpool_slab_batched(const struct pmpool *pool,
				const struct pmpool_slab *slab)
{
	return slab >= pool->batch && slab < pool->batch + pool->nr_batch;
}

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
	/* A refused pool will never be restored: its tag and name are free. */
	list_for_each_entry(in, &pmpool_incoming_pools, list)
		if (!in->error && in->tag == tag)
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

	pool = kzalloc_obj(*pool, GFP_KERNEL);
	if (!pool)
		return NULL;
	pool->chunks = kcalloc(PMPOOL_ABI_MAX_CHUNKS, sizeof(*pool->chunks),
			       GFP_KERNEL);
	if (!pool->chunks) {
		kfree(pool);
		return NULL;
	}
	strscpy(pool->name, name);
	pool->tag = tag;
	pool->nid = nid;
	pool->geo = *geo;
	pool->persistent = pmpool_handover_active();
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
	xa_init_flags(&pool->slabs, XA_FLAGS_ALLOC);
	mutex_init(&pool->grow_lock);
	INIT_WORK(&pool->work, pmpool_work_fn);
	INIT_LIST_HEAD(&pool->list);
	return pool;
}

/*
 * Frees the in-kernel structures only (with the slab structs a failed
 * restore left, and the restore's array); the memory is released by callers.
 */
void pmpool_free_struct(struct pmpool *pool)
{
	struct pmpool_slab *slab;
	unsigned long index;

	xa_for_each(&pool->slabs, index, slab)
		if (!pmpool_slab_batched(pool, slab))
			kfree(slab);
	xa_destroy(&pool->slabs);
	kvfree(pool->batch);
	kfree(pool->chunks);
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

/* Make sure the metadata chunk holding slab @index exists. */
static int pmpool_chunk_get(struct pmpool *pool, unsigned int index)
{
	unsigned int c = index / pool->geo.recs_per_chunk;
	struct folio *folio;

	lockdep_assert_held(&pool->grow_lock);
	if (pool->chunks[c])
		return 0;
	/* Slab numbers are handed out lowest first: chunks fill in order. */
	if (WARN_ON_ONCE(c != pool->desc->nr_chunks))
		return -EINVAL;
	folio = pmpool_folio_alloc(pool, GFP_KERNEL | __GFP_ZERO,
				   PMPOOL_ABI_CHUNK_ORDER);
	if (!folio)
		return -ENOMEM;
	pool->chunks[c] = folio_address(folio);
	/* The zeroed chunk must be in place before the next kernel sees it. */
	smp_wmb();
	WRITE_ONCE(pool->desc->chunks[c], pmpool_folio_phys(folio));
	WRITE_ONCE(pool->desc->nr_chunks, c + 1);
	return 0;
}

/* Add one slab to @pool.  Sleeps. */
static int pmpool_grow(struct pmpool *pool)
{
	struct pmpool_slab *slab;
	struct folio *folio;
	unsigned long flags;
	u32 index;
	int err;

	mutex_lock(&pool->grow_lock);
	/* Reserve the lowest free slab number; the slab is stored below. */
	err = xa_alloc(&pool->slabs, &index, NULL,
		       XA_LIMIT(0, PMPOOL_MAX_SLABS(pool) - 1), GFP_KERNEL);
	if (err) {
		err = err == -EBUSY ? -ENOSPC : err;
		goto out_unlock;
	}
	err = pmpool_chunk_get(pool, index);
	if (err)
		goto out_free_index;
	err = -ENOMEM;
	slab = kzalloc_obj(*slab, GFP_KERNEL);
	if (!slab)
		goto out_free_index;
	folio = pmpool_folio_alloc(pool, GFP_KERNEL, pool->geo.slab_order);
	if (!folio)
		goto out_free_slab;
	slab->folio = folio;
	slab->index = index;
	folio->private = (void *)(unsigned long)index;	/* pmpool_virt_to_handle() */
	slab->rec = pmpool_rec(&pool->geo,
			       pool->chunks[index / pool->geo.recs_per_chunk],
			       index % pool->geo.recs_per_chunk);
	/* Every object is free: KASAN reports any access until allocated. */
	kasan_poison_range(folio_address(folio), folio_size(folio));
	INIT_LIST_HEAD(&slab->list);
	xa_store(&pool->slabs, index, slab, GFP_KERNEL);	/* no allocation */

	/*
	 * The record's bitmap is zero (fresh chunk, or cleared when the slab
	 * number was last released); setting @phys hands the slab over.
	 */
	smp_wmb();
	WRITE_ONCE(slab->rec->phys, pmpool_folio_phys(folio));

	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&slab->list, &pool->partial);
	pool->nr_free += pool->geo.objs_per_slab;
	pool->nr_slabs++;
	spin_unlock_irqrestore(&pool->lock, flags);
	mutex_unlock(&pool->grow_lock);
	return 0;

out_free_slab:
	kfree(slab);
out_free_index:
	xa_erase(&pool->slabs, index);
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

/* Take @slab out of the handed-over state and free it.  Sleeps. */
static void pmpool_slab_release(struct pmpool *pool, struct pmpool_slab *slab)
{
	lockdep_assert_held(&pool->grow_lock);
	/* First out of the next kernel's view, then unpreserved and freed. */
	WRITE_ONCE(slab->rec->phys, 0);
	/* Orders the unpublish before the bitmap reset and the free below. */
	smp_wmb();
	xa_erase(&pool->slabs, slab->index);
	bitmap_zero(pmpool_slab_bitmap(slab), pool->geo.objs_per_slab);
	pmpool_folio_free(pool, slab->folio);
	if (!pmpool_slab_batched(pool, slab))
		kfree_rcu(slab, rcu);
}

/* Release empty slabs beyond the reserve plus one slab of slack. */
static void pmpool_shrink(struct pmpool *pool)
{
	unsigned int per = pool->geo.objs_per_slab;
	struct pmpool_slab *slab, *victim;
	unsigned long flags;

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
					if (pmpool_slab_batched(pool, slab))
						pool->nr_batch_live--;
					break;
				}
			}
		}
		spin_unlock_irqrestore(&pool->lock, flags);
		if (!victim)
			break;
		pmpool_slab_release(pool, victim);
	}
	mutex_unlock(&pool->grow_lock);
}

static void pmpool_work_fn(struct work_struct *work)
{
	struct pmpool *pool = container_of(work, struct pmpool, work);

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

/**
 * pmpool_alloc() - allocate an object
 * @pool:   the pool.
 * @gfp:    GFP flags.  %__GFP_ZERO zeroes the object.  If @gfp does not
 *          allow sleeping (GFP_ATOMIC, GFP_NOWAIT) the object comes from
 *          slabs that already exist (see pmpool_reserve()) and the call
 *          fails when there is none free.
 * @handle: set to the object's handle, which stays valid after kexec.
 *
 * Context: any context if @gfp does not allow sleeping, else process
 * context.
 * Return: the object, or NULL if no memory could be found.
 */
void *pmpool_alloc(struct pmpool *pool, gfp_t gfp, u64 *handle)
{
	struct pmpool_slab *slab;
	unsigned long flags;
	bool refill;
	unsigned int i;
	void *obj;

	might_alloc(gfp);
	for (;;) {
		spin_lock_irqsave(&pool->lock, flags);
		slab = list_first_entry_or_null(&pool->partial,
						struct pmpool_slab, list);
		if (slab)
			break;
		spin_unlock_irqrestore(&pool->lock, flags);
		if (!gfpflags_allow_blocking(gfp)) {
			queue_work(system_dfl_wq, &pool->work);
			return NULL;
		}
		if (pmpool_grow_gfp(pool, gfp))
			return NULL;
	}

	i = find_first_zero_bit(pmpool_slab_bitmap(slab),
				pool->geo.objs_per_slab);
	/* This store is the allocation as far as the next kernel is concerned. */
	__set_bit(i, pmpool_slab_bitmap(slab));
	if (++slab->inuse == pool->geo.objs_per_slab)
		list_del_init(&slab->list);
	pool->nr_free--;
	pool->nr_inuse++;
	refill = pool->nr_free < pool->reserve;
	spin_unlock_irqrestore(&pool->lock, flags);

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

/* The slab of a handle of @pool, or NULL; caller holds RCU or pool->lock. */
static struct pmpool_slab *pmpool_handle_slab_get(struct pmpool *pool,
						  u64 handle)
{
	if (pmpool_handle_tag(handle) != pool->tag ||
	    pmpool_handle_obj(handle) >= pool->geo.objs_per_slab)
		return NULL;
	return xa_load(&pool->slabs, pmpool_handle_slab(handle));
}

/**
 * pmpool_free() - free an object
 * @pool:   the pool the object was allocated from.
 * @handle: its handle.
 *
 * A slab left empty is released later from process context.
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
	struct pmpool_slab *slab;
	unsigned long flags;
	bool shrink;

	spin_lock_irqsave(&pool->lock, flags);
	slab = pmpool_handle_slab_get(pool, handle);
	if (!slab || !test_bit(i, pmpool_slab_bitmap(slab))) {
		spin_unlock_irqrestore(&pool->lock, flags);
		pr_warn_ratelimited("%s: free of a handle that is not a live object: %#llx\n",
				    pool->name, handle);
		return -EINVAL;
	}
	/* Before the object can be handed out again by another CPU. */
	kasan_poison_range(pmpool_slab_obj(pool, slab, i), pool->geo.obj_size);
	__clear_bit(i, pmpool_slab_bitmap(slab));
	if (unlikely(READ_ONCE(pool->desc->root) == handle))
		WRITE_ONCE(pool->desc->root, 0);
	if (slab->inuse-- == per)
		list_add(&slab->list, &pool->partial);
	pool->nr_free++;
	pool->nr_inuse--;
	shrink = !slab->inuse &&
		 pool->nr_free >= (unsigned long)pool->reserve + 2 * per;
	spin_unlock_irqrestore(&pool->lock, flags);

	if (shrink)
		queue_work(system_dfl_wq, &pool->work);
	return 0;
}
EXPORT_SYMBOL_GPL(pmpool_free);

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
	struct pmpool_slab *slab;
	void *obj = NULL;

	rcu_read_lock();
	slab = pmpool_handle_slab_get(pool, handle);
	if (slab && test_bit(pmpool_handle_obj(handle), pmpool_slab_bitmap(slab))) {
		/*
		 * The slab may have been released and its number (and record)
		 * reused by a new slab since we looked it up: the bit we saw
		 * is then the new slab's, and the new slab is what the xarray
		 * holds now (it was stored before any of its objects could be
		 * allocated).
		 */
		smp_rmb();
		if (xa_load(&pool->slabs, pmpool_handle_slab(handle)) == slab)
			obj = pmpool_slab_obj(pool, slab, pmpool_handle_obj(handle));
	}
	rcu_read_unlock();
	return obj;
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
	struct pmpool_slab *slab;
	struct folio *folio;
	unsigned long off;
	u64 handle = 0;

	if (!virt_addr_valid(obj))
		return 0;
	folio = virt_to_folio(obj);
	rcu_read_lock();
	slab = xa_load(&pool->slabs, (unsigned long)folio->private);
	if (slab && slab->folio == folio) {
		off = obj - folio_address(folio);
		if (off % pool->geo.obj_size == 0 &&
		    off / pool->geo.obj_size < pool->geo.objs_per_slab &&
		    test_bit(off / pool->geo.obj_size, pmpool_slab_bitmap(slab)))
			handle = pmpool_handle_make(pool->tag, slab->index,
						    off / pool->geo.obj_size);
	}
	rcu_read_unlock();
	return handle;
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
	struct pmpool_slab *slab;
	unsigned long flags;
	int err = 0;

	/* Under the lock, so that a concurrent free of @handle is ordered. */
	spin_lock_irqsave(&pool->lock, flags);
	slab = handle ? pmpool_handle_slab_get(pool, handle) : NULL;
	if (handle && !slab)
		err = -EINVAL;
	else if (slab && !test_bit(pmpool_handle_obj(handle),
				   pmpool_slab_bitmap(slab)))
		err = -EINVAL;
	else
		WRITE_ONCE(pool->desc->root, handle);
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
	struct pmpool_slab *slab;
	unsigned long index;
	unsigned int i;
	int ret = 0;

	/* Taking grow_lock waits for a release under way to finish. */
	mutex_lock(&pool->grow_lock);
	atomic_inc(&pool->walkers);
	mutex_unlock(&pool->grow_lock);

	xa_for_each(&pool->slabs, index, slab) {
		for_each_set_bit(i, pmpool_slab_bitmap(slab),
				 pool->geo.objs_per_slab) {
			ret = fn(pool, pmpool_handle_make(pool->tag, index, i),
				 pmpool_slab_obj(pool, slab, i), arg);
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
	struct pmpool_slab *slab;
	unsigned long index;
	unsigned int c;
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
	mutex_lock(&pool->grow_lock);
	xa_for_each(&pool->slabs, index, slab) {
		list_del(&slab->list);
		pmpool_slab_release(pool, slab);
	}
	mutex_unlock(&pool->grow_lock);
	for (c = 0; c < PMPOOL_ABI_MAX_CHUNKS && pool->chunks[c]; c++)
		pmpool_folio_free(pool, virt_to_folio(pool->chunks[c]));
	pmpool_folio_free(pool, virt_to_folio(pool->desc));
	rcu_barrier();
	pmpool_free_struct(pool);
}
EXPORT_SYMBOL_GPL(pmpool_destroy);

/* Slab numbers stored per xa_lock hold when restoring. */
#define PMPOOL_RESTORE_BATCH	1024

/* Store the slabs of @pool->batch in @pool->slabs under their numbers. */
static int pmpool_batch_store(struct pmpool *pool)
{
	unsigned long i = 0, n = pool->nr_batch, end, index;
	XA_STATE(xas, &pool->slabs, 0);
	bool walked;

	while (i < n) {
		end = min(n, i + PMPOOL_RESTORE_BATCH);
		walked = false;
		xas_lock(&xas);
		for (; i < end; i++) {
			index = pool->batch[i].index;
			/* Slab numbers are mostly consecutive: step, not walk. */
			if (walked && index == xas.xa_index + 1)
				xas_next(&xas);
			else
				xas_set(&xas, index);
			xas_store(&xas, &pool->batch[i]);
			if (xas_error(&xas))
				break;
			/* What xa_store() does for an allocating xarray. */
			xas_clear_mark(&xas, XA_FREE_MARK);
			walked = true;
		}
		xas_unlock(&xas);
		if (!xas_nomem(&xas, GFP_KERNEL) && xas_error(&xas))
			return xas_error(&xas);
		cond_resched();
	}
	return 0;
}

/*
 * Restore, step 1: the in-kernel state of the @nr_slabs slabs the records
 * describe (validated, read in place), in one array, and their slab
 * numbers.  May fail; KHO has given nothing back yet.
 */
int pmpool_restored_slabs_prepare(struct pmpool *pool, unsigned long nr_slabs)
{
	const struct pmpool_geometry *geo = &pool->geo;
	unsigned int per = geo->objs_per_slab;
	unsigned long nr_recs, c, n = 0;
	struct pmpool_slab_ser *rec;
	struct pmpool_slab *slab;

	/* Not zeroed: the loop below sets every field but @folio (and @rcu). */
	pool->batch = kvmalloc_array(nr_slabs, sizeof(*pool->batch), GFP_KERNEL);
	if (!pool->batch)
		return -ENOMEM;
	nr_recs = (unsigned long)pool->desc->nr_chunks * geo->recs_per_chunk;
	for (c = 0; c < nr_recs && n < nr_slabs; c++) {
		rec = pmpool_rec(geo, pool->chunks[c / geo->recs_per_chunk],
				 c % geo->recs_per_chunk);
		if (!rec->phys)
			continue;
		slab = &pool->batch[n++];
		slab->rec = rec;
		slab->folio = NULL;
		slab->index = c;
		slab->inuse = bitmap_weight(pmpool_slab_bitmap(slab), per);
		if (slab->inuse < per)
			list_add_tail(&slab->list, &pool->partial);
		else
			INIT_LIST_HEAD(&slab->list);
		pool->nr_inuse += slab->inuse;
		pool->nr_free += per - slab->inuse;
	}
	pool->nr_batch = n;
	pool->nr_slabs = n;
	pool->nr_batch_live = n;
	/* Validation counted the same records. */
	if (WARN_ON_ONCE(n != nr_slabs))
		return -EINVAL;
	return pmpool_batch_store(pool);
}

/* Restore, step 2: KHO gave back every slab's folio; nothing fails now. */
void pmpool_restored_slabs_init(struct pmpool *pool)
{
	unsigned int per = pool->geo.objs_per_slab;
	struct pmpool_slab *slab;
	unsigned long s;
	unsigned int i;

	for (s = 0; s < pool->nr_batch; s++) {
		slab = &pool->batch[s];
		slab->folio = pfn_folio(PHYS_PFN(slab->rec->phys));
		/* For pmpool_virt_to_handle(); KHO used it until now. */
		slab->folio->private = (void *)(unsigned long)slab->index;
		if (IS_ENABLED(CONFIG_KASAN))
			for_each_clear_bit(i, pmpool_slab_bitmap(slab), per)
				kasan_poison_range(pmpool_slab_obj(pool, slab, i),
						   pool->geo.obj_size);
	}
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
	unsigned long flags, nr_alloced;

	spin_lock_irqsave(&pool->lock, flags);
	stats->nr_slabs = pool->nr_slabs;
	stats->nr_inuse = pool->nr_inuse;
	stats->nr_free = pool->nr_free;
	/* Slab structs: a kzalloc() per slab, or an entry of @batch. */
	nr_alloced = pool->nr_slabs - pool->nr_batch_live;
	spin_unlock_irqrestore(&pool->lock, flags);
	stats->slab_bytes = (u64)stats->nr_slabs << (PAGE_SHIFT + pool->geo.slab_order);
	stats->meta_bytes = PMPOOL_ABI_DESC_SIZE +
			    (u64)READ_ONCE(pool->desc->nr_chunks) * PMPOOL_CHUNK_SIZE +
			    nr_alloced * kmalloc_size_roundup(sizeof(struct pmpool_slab)) +
			    pool->nr_batch * sizeof(struct pmpool_slab) +
			    sizeof(*pool) + PMPOOL_ABI_MAX_CHUNKS * sizeof(*pool->chunks);
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
static int __init pmpool_init(void)
{
	BUILD_BUG_ON(sizeof(struct pmpool_desc_ser) > PMPOOL_ABI_DESC_SIZE);
	BUILD_BUG_ON(PMPOOL_NAME_MAX + 1 != PMPOOL_ABI_NAME_MAX);
	pmpool_handover_init();
	pmpool_debugfs_init();
	return 0;
}
fs_initcall_sync(pmpool_init);
