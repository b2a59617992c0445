// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for pmpool: the allocator (sizes, alignment, handles, root,
 * walk, atomic allocation, concurrency) and the validation of handed-over
 * state, fed with crafted and corrupt directories inside one kernel.
 * What crosses a real kexec is tested by the kexec scenarios.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/libfdt.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "../pmpool_internal.h"

static void pmpool_test_destroy(void *pool)
{
	pmpool_destroy(pool);
}

/* A pool destroyed when the test ends, pass or fail. */
static struct pmpool *pmpool_test_create(struct kunit *test, const char *name,
					 size_t size)
{
	struct pmpool *pool = pmpool_create(name, size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, pmpool_test_destroy, pool));
	return pool;
}

/* Live objects as pmpool_get_stats() counts them: CPUs' slabs included. */
static unsigned long pmpool_test_inuse(struct pmpool *pool)
{
	struct pmpool_stats st;

	pmpool_get_stats(pool, &st);
	return st.nr_inuse;
}

static const size_t pmpool_test_sizes[] = {
	8, 24, 64, 100, 512, 3000, SZ_4K, SZ_64K, 65544, SZ_1M, SZ_2M, SZ_4M,
};

static void pmpool_size_desc(const size_t *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu bytes", *size);
}

KUNIT_ARRAY_PARAM(pmpool_size, pmpool_test_sizes, pmpool_size_desc);

static void pmpool_test_geometry(struct kunit *test)
{
	const size_t *size = test->param_value;
	struct pmpool_geometry geo;
	size_t slab;

	KUNIT_ASSERT_EQ(test, 0, pmpool_geometry_init(&geo, *size, 0));
	slab = PAGE_SIZE << geo.slab_order;
	KUNIT_EXPECT_EQ(test, geo.obj_size, ALIGN(*size, 8));
	KUNIT_EXPECT_GE(test, geo.objs_per_slab, 1U);
	KUNIT_EXPECT_LE(test, (size_t)geo.objs_per_slab * geo.obj_size, slab);
	/* Waste at most an eighth of a slab, unless slabs cannot grow. */
	if (geo.slab_order < MAX_PAGE_ORDER)
		KUNIT_EXPECT_LE(test, slab % geo.obj_size, slab / 8);
	KUNIT_EXPECT_GE(test, geo.recs_per_chunk, 1U);
	KUNIT_EXPECT_LE(test, (size_t)geo.recs_per_chunk * geo.rec_size,
			PMPOOL_CHUNK_SIZE);
	KUNIT_EXPECT_GE(test, geo.rec_size * 8 - 64, geo.objs_per_slab);
}

static void pmpool_test_bad_create(struct kunit *test)
{
	struct pmpool *pool;

	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_create("kt-zero", 0, 0)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			PTR_ERR(pmpool_create("kt-huge", PMPOOL_MAX_OBJ_SIZE + 1, 0)));
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_create(NULL, 64, 0)));
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_create("", 64, 0)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			PTR_ERR(pmpool_create("kt-a-name-that-is-longer-than-31", 64, 0)));
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_create("kt-flags", 64, 1)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			PTR_ERR(pmpool_create_node("kt-node", 64, 0, MAX_NUMNODES)));

	pool = pmpool_test_create(test, "kt-exists", 64);
	KUNIT_EXPECT_EQ(test, -EEXIST, PTR_ERR(pmpool_create("kt-exists", 128, 0)));
	/* A 31-character name is fine. */
	pool = pmpool_test_create(test, "kt-a-name-that-is-exactly-31-c", 64);
	KUNIT_EXPECT_STREQ(test, pmpool_name(pool), "kt-a-name-that-is-exactly-31-c");
}

#define PMPOOL_TEST_NR	64

static void pmpool_test_alloc_free(struct kunit *test)
{
	const size_t *size = test->param_value;
	struct pmpool *pool = pmpool_test_create(test, "kt-alloc", *size);
	size_t osz = pmpool_obj_size(pool);
	unsigned int nr = *size >= SZ_1M ? 4 : PMPOOL_TEST_NR;
	u64 *handles;
	void **objs;
	unsigned int i, j;

	handles = kunit_kcalloc(test, nr, sizeof(*handles), GFP_KERNEL);
	objs = kunit_kcalloc(test, nr, sizeof(*objs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, handles);
	KUNIT_ASSERT_NOT_NULL(test, objs);

	for (i = 0; i < nr; i++) {
		objs[i] = pmpool_alloc(pool, GFP_KERNEL, &handles[i]);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		KUNIT_EXPECT_NE(test, handles[i], 0ULL);
		KUNIT_EXPECT_PTR_EQ(test, pmpool_map(pool, handles[i]), objs[i]);
		KUNIT_EXPECT_EQ(test, pmpool_phys(pool, handles[i]),
				virt_to_phys(objs[i]));
		if (is_power_of_2(osz)) {
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)objs[i], osz));
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED(virt_to_phys(objs[i]), osz));
		} else {
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)objs[i], 8));
		}
		memset(objs[i], i & 0xff, osz);
	}
	/* Objects do not overlap and handles are distinct. */
	for (i = 0; i < nr; i++) {
		KUNIT_EXPECT_EQ(test, ((u8 *)objs[i])[0], (u8)(i & 0xff));
		KUNIT_EXPECT_EQ(test, ((u8 *)objs[i])[osz - 1], (u8)(i & 0xff));
		for (j = i + 1; j < nr; j++)
			KUNIT_EXPECT_NE(test, handles[i], handles[j]);
	}
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(pool), (unsigned long)nr);
	for (i = 0; i < nr; i += 2)
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, handles[i]));
	for (i = 0; i < nr; i += 2)
		KUNIT_EXPECT_NULL(test, pmpool_map(pool, handles[i]));
	for (i = 1; i < nr; i += 2)
		KUNIT_EXPECT_PTR_EQ(test, pmpool_map(pool, handles[i]), objs[i]);
	for (i = 1; i < nr; i += 2)
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, handles[i]));
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(pool), 0UL);
}

/* Bulk allocation across slabs: distinct live objects, zeroed, all or nothing. */
static void pmpool_test_alloc_bulk(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-bulk", 512);
	unsigned int per, nr, i, j;
	struct pmpool_stats st;
	unsigned long flags;
	u64 one, *h;
	u8 *obj;

	/* One object first: its slab is this CPU's, bulk takes the others. */
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &one));
	pmpool_get_stats(pool, &st);
	per = st.nr_inuse + st.nr_free;
	nr = 2 * per + 3;
	h = kunit_kcalloc(test, nr, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_EQ(test, 0,
			pmpool_alloc_bulk(pool, GFP_KERNEL | __GFP_ZERO, nr, h));
	for (i = 0; i < nr; i++) {
		obj = pmpool_map(pool, h[i]);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		KUNIT_EXPECT_TRUE(test, !memchr_inv(obj, 0, 512));
		memset(obj, 0x5a, 512);
		KUNIT_EXPECT_NE(test, h[i], one);
		for (j = i + 1; j < nr; j += 97)
			KUNIT_EXPECT_NE(test, h[i], h[j]);
	}
	/* Sorted by slab and object: a handle repeated would sit next to itself. */
	for (i = 1; i < nr; i++)
		KUNIT_EXPECT_NE(test, h[i - 1], h[i]);
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(pool), nr + 1UL);
	pmpool_get_stats(pool, &st);
	KUNIT_EXPECT_GE(test, st.nr_slabs, 3UL);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, h[i]));

	/*
	 * Atomic, every free object: all of them, from partial slabs and the
	 * CPU's own.  The reserve keeps the work item from shrinking the pool
	 * meanwhile (it may grow it, which does not hurt).
	 */
	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 3 * per));
	flush_work(&pool->work);
	pmpool_get_stats(pool, &st);
	nr = st.nr_free;
	h = kunit_kcalloc(test, nr + 1, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	local_irq_save(flags);
	KUNIT_EXPECT_EQ(test, 0, pmpool_alloc_bulk(pool, GFP_ATOMIC, nr, h));
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(pool), nr + 1UL);
	for (i = 0; i < nr; i++)
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, h[i]));

	/*
	 * Atomic, one more than is free: nothing allocated, nothing leaked.
	 * Without a reserve nothing grows the pool behind the call; a shrink
	 * only leaves less.
	 */
	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 0));
	flush_work(&pool->work);
	pmpool_get_stats(pool, &st);
	nr = st.nr_free + 1;
	h = kunit_kcalloc(test, nr, sizeof(*h), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	local_irq_save(flags);
	KUNIT_EXPECT_EQ(test, -ENOMEM, pmpool_alloc_bulk(pool, GFP_ATOMIC, nr, h));
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(pool), 1UL);
	KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, one));
}

static void pmpool_test_zero(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-zero", 256);
	u8 *obj;
	u64 h;

	obj = pmpool_alloc(pool, GFP_KERNEL, &h);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	memset(obj, 0xa5, 256);
	KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, h));
	/* The lowest free object comes back first: the one just dirtied. */
	obj = pmpool_alloc(pool, GFP_KERNEL | __GFP_ZERO, &h);
	KUNIT_ASSERT_NOT_NULL(test, obj);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(obj, 0, 256));
}

static void pmpool_test_handles(struct kunit *test)
{
	struct pmpool *a = pmpool_test_create(test, "kt-handles-a", 64);
	struct pmpool *b = pmpool_test_create(test, "kt-handles-b", 64);
	u64 ha, hb, freed;

	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(a, GFP_KERNEL, &ha));
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(b, GFP_KERNEL, &hb));
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(a, GFP_KERNEL, &freed));
	KUNIT_ASSERT_EQ(test, 0, pmpool_free(a, freed));

	KUNIT_EXPECT_NULL(test, pmpool_map(a, 0));
	KUNIT_EXPECT_NULL(test, pmpool_map(a, freed));		/* freed */
	KUNIT_EXPECT_NULL(test, pmpool_map(a, hb));		/* foreign */
	KUNIT_EXPECT_NULL(test, pmpool_map(b, ha));
	KUNIT_EXPECT_NULL(test, pmpool_map(a, ha + (1ULL << 24)));	/* no such slab */
	KUNIT_EXPECT_NULL(test, pmpool_map(a, ha | PMPOOL_ABI_HANDLE_OBJ_MASK));
	KUNIT_EXPECT_NULL(test, pmpool_map(a, ~0ULL));
	KUNIT_EXPECT_EQ(test, pmpool_phys(a, freed), (phys_addr_t)0);

	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_free(a, freed));	/* double free */
	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_free(a, hb));	/* foreign */
	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_free(a, 0));
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(a), 1UL);
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(b), 1UL);
}

/*
 * Use after destroy, by handle: a pool destroyed and created again under
 * the same name gets a new tag, so the old pool's handles are refused by
 * the new one (map gives NULL, free -EINVAL) instead of reaching objects
 * that now belong to someone else; the name itself is free for restore
 * purposes (never handed over).
 */
static void pmpool_test_use_after_destroy(struct kunit *test)
{
	struct pmpool *old, *new;
	u64 stale[4], fresh[4];
	unsigned int i;
	u16 old_tag;

	old = pmpool_create("kt-uad", 64, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, old);
	for (i = 0; i < ARRAY_SIZE(stale); i++)
		KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(old, GFP_KERNEL, &stale[i]));
	old_tag = old->tag;
	pmpool_destroy(old);

	new = pmpool_test_create(test, "kt-uad", 64);
	KUNIT_EXPECT_NE(test, new->tag, old_tag);
	/* Same slab numbers and object indices as the stale handles. */
	for (i = 0; i < ARRAY_SIZE(fresh); i++) {
		u64 *o = pmpool_alloc(new, GFP_KERNEL, &fresh[i]);

		KUNIT_ASSERT_NOT_NULL(test, o);
		*o = fresh[i];
		KUNIT_EXPECT_EQ(test, fresh[i] & ~GENMASK_ULL(63, PMPOOL_ABI_HANDLE_TAG_SHIFT),
				stale[i] & ~GENMASK_ULL(63, PMPOOL_ABI_HANDLE_TAG_SHIFT));
	}
	for (i = 0; i < ARRAY_SIZE(stale); i++) {
		KUNIT_EXPECT_NULL(test, pmpool_map(new, stale[i]));
		KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_free(new, stale[i]));
	}
	KUNIT_EXPECT_EQ(test, pmpool_test_inuse(new), (unsigned long)ARRAY_SIZE(fresh));
	for (i = 0; i < ARRAY_SIZE(fresh); i++)
		KUNIT_EXPECT_EQ(test, *(u64 *)pmpool_map(new, fresh[i]), fresh[i]);
	KUNIT_EXPECT_EQ(test, PTR_ERR(pmpool_restore("kt-uad")), -ENOENT);
}

static void pmpool_test_folio_per_obj(struct kunit *test)
{
	struct pmpool_geometry geo;
	struct pmpool *pool;
	u64 h[3], freed;
	void *obj[3];
	int i;

	KUNIT_EXPECT_EQ(test, 0, pmpool_geometry_init(&geo, SZ_4K, PMPOOL_F_FOLIO_PER_OBJ));
	KUNIT_EXPECT_EQ(test, geo.slab_order, 0U);
	KUNIT_EXPECT_EQ(test, geo.objs_per_slab, 1U);
	KUNIT_EXPECT_EQ(test, 0, pmpool_geometry_init(&geo, SZ_16K, PMPOOL_F_FOLIO_PER_OBJ));
	KUNIT_EXPECT_EQ(test, geo.slab_order, 2U);
	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_geometry_init(&geo, 512, PMPOOL_F_FOLIO_PER_OBJ));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			pmpool_geometry_init(&geo, 3 * SZ_4K, PMPOOL_F_FOLIO_PER_OBJ));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			PTR_ERR(pmpool_create("kt-fpo-bad", 512, PMPOOL_F_FOLIO_PER_OBJ)));
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_create("kt-fpo-bad", SZ_4K, BIT(7))));

	pool = pmpool_create("kt-fpo", SZ_4K, PMPOOL_F_FOLIO_PER_OBJ);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, pmpool_test_destroy, pool));
	for (i = 0; i < ARRAY_SIZE(obj); i++) {
		obj[i] = pmpool_alloc(pool, GFP_KERNEL | __GFP_ZERO, &h[i]);
		KUNIT_ASSERT_NOT_NULL(test, obj[i]);
		/* Each object is the head page of an order-0 folio of its own. */
		KUNIT_EXPECT_PTR_EQ(test, obj[i], folio_address(virt_to_folio(obj[i])));
		KUNIT_EXPECT_EQ(test, folio_order(virt_to_folio(obj[i])), 0U);
		KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(pool, obj[i]), h[i]);
	}
	KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(pool, obj[0] + 8), 0ULL);
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &freed));
	obj[0] = pmpool_map(pool, freed);
	KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, freed));
	KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(pool, obj[0]), 0ULL);
}

static void pmpool_test_virt_to_handle(struct kunit *test)
{
	struct pmpool *a = pmpool_test_create(test, "kt-v2h-a", 24);
	struct pmpool *b = pmpool_test_create(test, "kt-v2h-b", 24);
	void *obj, *other;
	u64 h, hb;
	int i;

	for (i = 0; i < 100; i++) {
		obj = pmpool_alloc(a, GFP_KERNEL, &h);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(a, obj), h);
	}
	other = pmpool_alloc(b, GFP_KERNEL, &hb);
	KUNIT_ASSERT_NOT_NULL(test, other);
	KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(a, other), 0ULL);	/* foreign */
	KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(a, obj + 1), 0ULL);	/* inside */
	KUNIT_EXPECT_EQ(test, pmpool_virt_to_handle(a, test), 0ULL);	/* not pmpool */
}

static void pmpool_test_root(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-root", 128);
	u64 h, freed;

	KUNIT_EXPECT_EQ(test, pmpool_get_root(pool), 0ULL);
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &h));
	KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &freed));
	KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, freed));
	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_set_root(pool, freed));
	KUNIT_EXPECT_EQ(test, pmpool_get_root(pool), 0ULL);
	KUNIT_EXPECT_EQ(test, 0, pmpool_set_root(pool, h));
	KUNIT_EXPECT_EQ(test, pmpool_get_root(pool), h);
	/* The root lives in the handed-over descriptor. */
	KUNIT_EXPECT_EQ(test, pool->desc->root, h);
	KUNIT_EXPECT_EQ(test, 0, pmpool_set_root(pool, 0));
	KUNIT_EXPECT_EQ(test, pmpool_get_root(pool), 0ULL);
	/* Freeing the root object clears the root: never a dead root. */
	KUNIT_EXPECT_EQ(test, 0, pmpool_set_root(pool, h));
	KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, h));
	KUNIT_EXPECT_EQ(test, pmpool_get_root(pool), 0ULL);
}

struct pmpool_walk_state {
	unsigned long seen;
	u64 last;
	bool ordered;
	unsigned long stop_at;
};

static int pmpool_walk_fn(struct pmpool *pool, u64 handle, void *obj, void *arg)
{
	struct pmpool_walk_state *s = arg;

	if (handle <= s->last || pmpool_map(pool, handle) != obj)
		s->ordered = false;
	s->last = handle;
	if (++s->seen == s->stop_at)
		return 42;
	return 0;
}

static void pmpool_test_walk(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-walk", SZ_4K);
	struct pmpool_walk_state s = { .ordered = true };
	u64 h[100];
	int i;

	/* 4 KiB objects: 16 per slab, so this spans seven slabs. */
	for (i = 0; i < ARRAY_SIZE(h); i++)
		KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &h[i]));
	for (i = 1; i < ARRAY_SIZE(h); i += 2)
		KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, h[i]));
	KUNIT_EXPECT_EQ(test, 0, pmpool_walk(pool, pmpool_walk_fn, &s));
	KUNIT_EXPECT_EQ(test, s.seen, 50UL);
	KUNIT_EXPECT_TRUE(test, s.ordered);

	s = (struct pmpool_walk_state){ .ordered = true, .stop_at = 10 };
	KUNIT_EXPECT_EQ(test, 42, pmpool_walk(pool, pmpool_walk_fn, &s));
	KUNIT_EXPECT_EQ(test, s.seen, 10UL);
}

static void pmpool_test_atomic(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-atomic", 512);
	unsigned long flags;
	unsigned int got = 0, i;
	u64 h;

	/* An empty pool cannot grow without sleeping. */
	local_irq_save(flags);
	KUNIT_EXPECT_NULL(test, pmpool_alloc(pool, GFP_ATOMIC, &h));
	local_irq_restore(flags);

	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 200));
	KUNIT_EXPECT_GE(test, pool->nr_free, 200UL);
	local_irq_save(flags);
	for (i = 0; i < 200; i++)
		if (pmpool_alloc(pool, GFP_ATOMIC, &h))
			got++;
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, got, 200U);
	/* The work item refills the reserve in process context. */
	flush_work(&pool->work);
	KUNIT_EXPECT_GE(test, pool->nr_free, 200UL);
	KUNIT_EXPECT_EQ(test, 0, pmpool_reserve(pool, 0));
}

static void pmpool_test_shrink(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-shrink", SZ_4K);
	unsigned int per = pool->geo.objs_per_slab, i, n = 8 * per;
	u64 *h = kunit_kcalloc(test, n, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &h[i]));
	KUNIT_EXPECT_EQ(test, pool->nr_slabs, 8UL);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, h[i]));
	flush_work(&pool->work);
	/*
	 * Empty slabs go back to the page allocator, but for one of slack and
	 * those CPUs own (this one's, and another's if the thread moved).
	 */
	KUNIT_EXPECT_LE(test, pool->nr_slabs, 1UL + num_online_cpus());
	/* Freed slab numbers are reused lowest first: no new number. */
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &h[i]));
		KUNIT_EXPECT_LT(test, pmpool_handle_slab(h[i]), 8U);
	}
}

struct pmpool_stress {
	struct pmpool *pool;
	struct completion done;
	unsigned int id;
	unsigned long errors;
};

#define PMPOOL_STRESS_LIVE	64
#define PMPOOL_STRESS_ROUNDS	3000

static int pmpool_stress_fn(void *arg)
{
	struct pmpool_stress *s = arg;
	u64 live[PMPOOL_STRESS_LIVE] = {};
	unsigned int r, slot;

	for (r = 0; r < PMPOOL_STRESS_ROUNDS; r++) {
		u64 *obj;

		slot = (r * 7 + s->id) % PMPOOL_STRESS_LIVE;
		if (live[slot]) {
			obj = pmpool_map(s->pool, live[slot]);
			/* Nobody else may have touched our object. */
			if (!obj || obj[0] != live[slot] || obj[1] != s->id)
				s->errors++;
			if (pmpool_free(s->pool, live[slot]))
				s->errors++;
			live[slot] = 0;
		}
		obj = pmpool_alloc(s->pool, (r & 1) ? GFP_KERNEL : GFP_ATOMIC,
				   &live[slot]);
		if (!obj) {
			live[slot] = 0;
			continue;
		}
		obj[0] = live[slot];
		obj[1] = s->id;
		if (!(r % 256))
			cond_resched();
	}
	for (slot = 0; slot < PMPOOL_STRESS_LIVE; slot++)
		if (live[slot] && pmpool_free(s->pool, live[slot]))
			s->errors++;
	complete(&s->done);
	return 0;
}

static void pmpool_test_concurrency(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-concurrency", 64);
	unsigned int nr = num_online_cpus(), i = 0, cpu;
	struct pmpool_stress *s;
	struct pmpool_stats st;

	s = kunit_kcalloc(test, nr, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 256));
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		s[i].pool = pool;
		s[i].id = i;
		init_completion(&s[i].done);
		t = kthread_create_on_cpu(pmpool_stress_fn, &s[i], cpu,
					  "pmpool_kt/%u");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
		wake_up_process(t);
		i++;
	}
	for (i = 0; i < nr; i++) {
		wait_for_completion(&s[i].done);
		KUNIT_EXPECT_EQ(test, s[i].errors, 0UL);
	}
	kunit_info(test, "%u threads on %u CPUs\n", nr, nr);
	/* Slabs the CPUs still own count as in use, but not in the stats. */
	pmpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.nr_inuse, 0UL);
	KUNIT_EXPECT_EQ(test, st.nr_free, st.nr_slabs * pool->geo.objs_per_slab);
}

struct pmpool_steal {
	struct pmpool *pool;
	struct completion done;
	unsigned int got;
};

static int pmpool_steal_fn(void *arg)
{
	struct pmpool_steal *s = arg;
	unsigned int i;
	u64 h;

	for (i = 0; i < s->pool->geo.objs_per_slab; i++)
		if (pmpool_alloc(s->pool, GFP_ATOMIC, &h))
			s->got++;
	complete(&s->done);
	return 0;
}

/*
 * A CPU allocates from a slab of its own.  Objects free in the slab another
 * CPU owns still serve an allocation that cannot grow the pool.
 */
static void pmpool_test_cpu_slab(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-cpu-slab", 512);
	unsigned int per = pool->geo.objs_per_slab, cpu, other;
	struct pmpool_steal s = { .pool = pool };
	struct pmpool_stats st;
	struct task_struct *t;
	u64 h;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs");
	/* One slab, and no work item adding more behind the test's back. */
	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 1));
	KUNIT_ASSERT_EQ(test, 0, pmpool_reserve(pool, 0));
	KUNIT_ASSERT_EQ(test, pool->nr_slabs, 1UL);

	migrate_disable();
	cpu = smp_processor_id();
	KUNIT_EXPECT_NOT_NULL(test, pmpool_alloc(pool, GFP_ATOMIC, &h));
	KUNIT_EXPECT_PTR_EQ(test, per_cpu_ptr(pool->cpu_slab, cpu)->slab,
			    &pmpool_chunk(pool, 0)->slabs[0]);
	migrate_enable();
	/* Owned: it counts as full, and the stats still say what is free. */
	KUNIT_EXPECT_EQ(test, pool->nr_free, 0UL);
	pmpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.nr_inuse, 1UL);
	KUNIT_EXPECT_EQ(test, st.nr_free, per - 1UL);

	other = cpumask_any_but(cpu_online_mask, cpu);
	init_completion(&s.done);
	t = kthread_create_on_cpu(pmpool_steal_fn, &s, other, "pmpool_kt/%u");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	wake_up_process(t);
	wait_for_completion(&s.done);
	/* Every free object of the other CPU's slab, and then no more. */
	KUNIT_EXPECT_EQ(test, s.got, per - 1);
	pmpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.nr_slabs, 1UL);
	KUNIT_EXPECT_EQ(test, st.nr_inuse, (unsigned long)per);
	KUNIT_EXPECT_EQ(test, st.nr_free, 0UL);
}

/* ---- handover validation ---------------------------------------------- */

/*
 * Stand-in for kho_preserved_order() on our own outgoing directory: every
 * folio pmpool holds is preserved for the next kernel, as a block of the
 * folio's order.
 */
static int pmpool_test_folio_order(phys_addr_t phys)
{
	struct page *page = pfn_to_online_page(PHYS_PFN(phys));

	if (!page || !PAGE_ALIGNED(phys) || compound_head(page) != page)
		return -ENOENT;
	return folio_order(page_folio(page));
}

/* Our own outgoing directory, read back as if it came from the previous kernel. */
static void pmpool_test_self_handover(struct kunit *test)
{
	struct pmpool *pool = pmpool_test_create(test, "kt-self", 64);
	struct pmpool_incoming *in, *found = NULL;
	LIST_HEAD(incoming);
	phys_addr_t phys;
	size_t size;
	u64 h[40];
	int i, err;

	if (!pmpool_handover_active())
		kunit_skip(test, "KHO is disabled");
	for (i = 0; i < ARRAY_SIZE(h); i++)
		KUNIT_ASSERT_NOT_NULL(test, pmpool_alloc(pool, GFP_KERNEL, &h[i]));
	KUNIT_ASSERT_EQ(test, 0, pmpool_free(pool, h[3]));
	KUNIT_ASSERT_EQ(test, 0, pmpool_set_root(pool, h[5]));

	mutex_lock(&pmpool_mutex);
	err = pmpool_fdt_out_get(&phys, &size);
	if (!err)
		err = pmpool_parse_handover(phys_to_virt(phys), size, &incoming,
					    pmpool_test_folio_order);
	mutex_unlock(&pmpool_mutex);
	KUNIT_ASSERT_EQ(test, 0, err);
	list_for_each_entry(in, &incoming, list)
		if (!strcmp(in->name, "kt-self"))
			found = in;
	KUNIT_ASSERT_NOT_NULL(test, found);
	KUNIT_EXPECT_NULL(test, found->error);
	KUNIT_EXPECT_EQ(test, found->tag, pool->tag);
	KUNIT_EXPECT_EQ(test, found->nr_inuse, 39UL);
	KUNIT_EXPECT_EQ(test, found->nr_slabs, 1UL);
	KUNIT_EXPECT_EQ(test, found->desc_phys, virt_to_phys(pool->desc));
	pmpool_incoming_free_all(&incoming);
}

/*
 * A crafted previous kernel: one good pool ("kt-good") and one pool
 * ("kt-victim") that each case damages in its own way.  Both are built in
 * freshly allocated pages, so their addresses are real RAM.
 */
struct pmpool_craft {
	struct pmpool_geometry geo;
	struct pmpool_desc_ser *desc[2];
	struct pmpool_table_ser *table[2];
	void *chunk[2];
	struct folio *slab[2][2];
	void *fdt;
	void *fdt_buf;
	size_t fdt_size;
};

/*
 * What the crafted previous kernel preserved: each block it built, with its
 * order, as kho_preserved_order() would report it.  A case takes a block
 * out, or changes its order, to lie about it.
 */
#define PMPOOL_TEST_MAX_BLOCKS	16
static struct {
	phys_addr_t phys;
	int order;
} pmpool_test_blocks[PMPOOL_TEST_MAX_BLOCKS];
static unsigned int pmpool_test_nr_blocks;

static void pmpool_test_block_add(phys_addr_t phys, int order)
{
	/* 2 pools of a descriptor, a table, a chunk and 2 slabs: 10. */
	if (pmpool_test_nr_blocks < PMPOOL_TEST_MAX_BLOCKS)
		pmpool_test_blocks[pmpool_test_nr_blocks++] =
			(typeof(pmpool_test_blocks[0])){ phys, order };
}

static void pmpool_test_block_set(phys_addr_t phys, int order)
{
	unsigned int i;

	for (i = 0; i < pmpool_test_nr_blocks; i++)
		if (pmpool_test_blocks[i].phys == phys)
			pmpool_test_blocks[i].order = order;
}

static int pmpool_test_block_order(phys_addr_t phys)
{
	unsigned int i;

	for (i = 0; i < pmpool_test_nr_blocks; i++)
		if (pmpool_test_blocks[i].phys == phys)
			return pmpool_test_blocks[i].order;
	return -ENOENT;
}

struct pmpool_corruption {
	const char *name;
	/* For the victim pool node, before it is written. */
	const char *node_name;
	u16 tag;
	bool bad_name_nul;
	u32 obj_size_delta;
	u32 slab_order_delta;
	bool tag_zero;
	u32 flags;
	/* After the pool memory is built. */
	void (*damage)(struct pmpool_craft *c);
	/* On the finished blob. */
	void (*damage_blob)(struct pmpool_craft *c);
	const char *compat;
	bool v2;		/* craft a pmpool-v2 handover */
	/* Expected result. */
	int parse_err;
	const char *error;	/* substring of the victim's error, NULL if valid */
	bool both;		/* the good pool is refused too */
};

static struct pmpool_slab_ser *craft_rec(struct pmpool_craft *c, int pool, int i)
{
	return pmpool_rec(&c->geo, c->chunk[pool], i);
}

static void dmg_magic(struct pmpool_craft *c)
{
	c->desc[1]->magic ^= 1;
}

static void dmg_geometry(struct pmpool_craft *c)
{
	c->desc[1]->rec_size += 8;
}

static void dmg_reserved(struct pmpool_craft *c)
{
	c->desc[1]->reserved = 1;
}

static void dmg_desc_obj_size(struct pmpool_craft *c)
{
	c->desc[1]->obj_size += 8;
}

static void dmg_desc_order(struct pmpool_craft *c)
{
	c->desc[1]->slab_order++;
}

static void dmg_desc_per_slab(struct pmpool_craft *c)
{
	c->desc[1]->objs_per_slab--;
}

static void dmg_desc_per_chunk(struct pmpool_craft *c)
{
	c->desc[1]->recs_per_chunk++;
}

static void dmg_nr_chunks(struct pmpool_craft *c)
{
	c->desc[1]->nr_chunks = PMPOOL_MAX_CHUNKS(&c->geo) + 1;
}

static struct pmpool_desc_v2_ser *craft_v2(struct pmpool_craft *c, int pool)
{
	return (struct pmpool_desc_v2_ser *)c->desc[pool];
}

static void dmg_v2_nr_chunks(struct pmpool_craft *c)
{
	craft_v2(c, 1)->nr_chunks = PMPOOL_ABI_V2_MAX_CHUNKS + 1;
}

static void dmg_v2_magic(struct pmpool_craft *c)
{
	craft_v2(c, 1)->magic = PMPOOL_ABI_DESC_MAGIC;	/* a v3 one */
}

/* The records hold two slabs; the descriptor counts otherwise. */
static void dmg_slabs_over(struct pmpool_craft *c)
{
	c->desc[1]->nr_slabs = 3;
}

static void dmg_slabs_under(struct pmpool_craft *c)
{
	c->desc[1]->nr_slabs = 1;
}

/* The finding of v2: a chunk count that hides a chunk of live slabs. */
static void dmg_chunks_under(struct pmpool_craft *c)
{
	c->desc[1]->nr_chunks = 0;
}

static void dmg_slabs_huge(struct pmpool_craft *c)
{
	c->desc[1]->nr_slabs = c->geo.recs_per_chunk + 1;
}

/* Slab 2 (record 2) is being removed: its @phys cleared, still counted. */
static void dmg_busy_removing(struct pmpool_craft *c)
{
	c->desc[1]->busy_slab = 3;
	c->desc[1]->nr_slabs = 3;
}

/*
 * Slab 1 is being added: empty (the root moves to slab 0), its @phys set,
 * and counted or not yet; a count off by two is still refused.
 */
static void craft_busy_slab1(struct pmpool_craft *c, u64 nr_slabs)
{
	memset(craft_rec(c, 1, 1)->bitmap, 0, sizeof(u64));
	c->desc[1]->root = pmpool_handle_make(0x1002, 0, 4);
	c->desc[1]->busy_slab = 2;
	c->desc[1]->nr_slabs = nr_slabs;
}

static void dmg_busy_added_uncounted(struct pmpool_craft *c)
{
	craft_busy_slab1(c, 1);
}

static void dmg_busy_added_counted(struct pmpool_craft *c)
{
	craft_busy_slab1(c, 2);
}

static void dmg_busy_added_off(struct pmpool_craft *c)
{
	craft_busy_slab1(c, 0);
}

/* ... and a count off by two with the busy record unset. */
static void dmg_busy_off_by_two(struct pmpool_craft *c)
{
	c->desc[1]->busy_slab = 3;
	c->desc[1]->nr_slabs = 4;
}

/* Slab 0 holds objects: it cannot be the one being added or removed. */
static void dmg_busy_live(struct pmpool_craft *c)
{
	c->desc[1]->busy_slab = 1;
	c->desc[1]->nr_slabs = 1;
}

static void dmg_busy_beyond(struct pmpool_craft *c)
{
	c->desc[1]->busy_slab = c->geo.recs_per_chunk + 1;
}

static void dmg_table_unpreserved(struct pmpool_craft *c)
{
	pmpool_test_block_set(virt_to_phys(c->table[1]), -ENOENT);
}

static void dmg_table_outside_ram(struct pmpool_craft *c)
{
	c->desc[1]->table = 1ULL << 51;
}

static void dmg_table_magic(struct pmpool_craft *c)
{
	c->table[1]->magic ^= 1;
}

static void dmg_table_index(struct pmpool_craft *c)
{
	c->table[1]->index = 1;
}

/* A second table is needed, and the chain ends after the first. */
static void dmg_table_short(struct pmpool_craft *c)
{
	c->desc[1]->nr_chunks = PMPOOL_ABI_TABLE_CHUNKS + 1;
}

/* ... or loops back to the first. */
static void dmg_table_loop(struct pmpool_craft *c)
{
	c->desc[1]->nr_chunks = PMPOOL_ABI_TABLE_CHUNKS + 1;
	c->table[1]->next = virt_to_phys(c->table[1]);
}

/* A table inside the pool's own slab (a preserved page, as KHO sees it). */
static void dmg_table_over_slab(struct pmpool_craft *c)
{
	phys_addr_t phys = pmpool_folio_phys(c->slab[1][1]) + PAGE_SIZE;

	pmpool_test_block_add(phys, 0);
	memcpy(phys_to_virt(phys), c->table[1], PMPOOL_ABI_TABLE_SIZE);
	c->desc[1]->table = phys;
}

static void dmg_chunk_outside_ram(struct pmpool_craft *c)
{
	if (c->table[1])
		c->table[1]->chunks[0] = 1ULL << 51;
	else
		craft_v2(c, 1)->chunks[0] = 1ULL << 51;
}

static void dmg_slab_outside_ram(struct pmpool_craft *c)
{
	craft_rec(c, 1, 1)->phys = 1ULL << 51;
}

static void dmg_slab_misaligned(struct pmpool_craft *c)
{
	craft_rec(c, 1, 1)->phys += PAGE_SIZE;
}

static void dmg_overlap(struct pmpool_craft *c)
{
	craft_rec(c, 1, 1)->phys = craft_rec(c, 1, 0)->phys;
}

static void dmg_overlap_meta(struct pmpool_craft *c)
{
	/* A slab placed over the pool's own chunk (aligned to slab order?). */
	craft_rec(c, 1, 1)->phys = craft_rec(c, 1, 0)->phys + PAGE_SIZE;
}

static void dmg_bits_beyond(struct pmpool_craft *c)
{
	unsigned long *bm = (unsigned long *)craft_rec(c, 1, 0)->bitmap;

	__set_bit(c->geo.objs_per_slab, bm);
}

static void dmg_unused_with_objs(struct pmpool_craft *c)
{
	struct pmpool_slab_ser *rec = craft_rec(c, 1, 2);

	rec->bitmap[0] = 1;
}

static void dmg_root_free(struct pmpool_craft *c)
{
	c->desc[1]->root = pmpool_handle_make(0x1002, 0, 5);	/* bit 5 clear */
}

static void dmg_root_foreign(struct pmpool_craft *c)
{
	c->desc[1]->root = pmpool_handle_make(0x1001, 0, 0);
}

static void dmg_cross(struct pmpool_craft *c)
{
	craft_rec(c, 1, 0)->phys = craft_rec(c, 0, 1)->phys;
}

static void dmg_desc_unpreserved(struct pmpool_craft *c)
{
	pmpool_test_block_set(virt_to_phys(c->desc[1]), -ENOENT);
}

static void dmg_chunk_unpreserved(struct pmpool_craft *c)
{
	pmpool_test_block_set(virt_to_phys(c->chunk[1]), -ENOENT);
}

static void dmg_slab_unpreserved(struct pmpool_craft *c)
{
	pmpool_test_block_set(pmpool_folio_phys(c->slab[1][1]), -ENOENT);
}

static void dmg_slab_wrong_order(struct pmpool_craft *c)
{
	/* The head of a smaller preserved block: KHO would warn on the restore. */
	pmpool_test_block_set(pmpool_folio_phys(c->slab[1][1]),
			      c->geo.slab_order - 1);
}

/* The directory written over a slab of the victim: freed once parsed. */
static void dmg_dir_over_slab(struct pmpool_craft *c)
{
	c->fdt = folio_address(c->slab[1][1]);
}

static void dmg_truncate(struct pmpool_craft *c)
{
	c->fdt_size = fdt_totalsize(c->fdt) - 8;
}

static void dmg_garbage(struct pmpool_craft *c)
{
	memset(c->fdt, 0x5a, 64);
}

static const struct pmpool_corruption pmpool_corruptions[] = {
	{ .name = "intact" },
	{ .name = "bad compatible", .compat = "pmpool-v1", .parse_err = -EINVAL },
	{ .name = "not an FDT", .damage_blob = dmg_garbage, .parse_err = -EINVAL },
	{ .name = "truncated blob", .damage_blob = dmg_truncate, .parse_err = -EINVAL },
	{ .name = "bad descriptor magic", .damage = dmg_magic, .error = "magic" },
	{ .name = "geometry mismatch", .damage = dmg_geometry, .error = "geometry" },
	{ .name = "reserved field set", .damage = dmg_reserved, .error = "geometry" },
	{ .name = "descriptor object size lies", .damage = dmg_desc_obj_size,
	  .error = "geometry" },
	{ .name = "descriptor slab order lies", .damage = dmg_desc_order,
	  .error = "geometry" },
	{ .name = "descriptor objects per slab lie", .damage = dmg_desc_per_slab,
	  .error = "geometry" },
	{ .name = "descriptor records per chunk lie", .damage = dmg_desc_per_chunk,
	  .error = "geometry" },
	{ .name = "directory slab order lies", .slab_order_delta = 1,
	  .error = "slab order" },
	{ .name = "tag 0", .tag_zero = true, .error = "tag out of range" },
	{ .name = "chunk count above capacity", .damage = dmg_nr_chunks,
	  .error = "chunk count above" },
	{ .name = "slab count overstated", .damage = dmg_slabs_over,
	  .error = "slab count does not match" },
	{ .name = "slab count understated", .damage = dmg_slabs_under,
	  .error = "slab count does not match" },
	{ .name = "chunk count hides a chunk", .damage = dmg_chunks_under,
	  .error = "slab count above what the chunks hold" },
	{ .name = "slab count above the chunks", .damage = dmg_slabs_huge,
	  .error = "slab count above what the chunks hold" },
	{ .name = "slab being removed at kexec", .damage = dmg_busy_removing },
	{ .name = "slab being added, recorded, not counted",
	  .damage = dmg_busy_added_uncounted },
	{ .name = "slab being added, counted, still busy",
	  .damage = dmg_busy_added_counted },
	{ .name = "slab being added, count off by two", .damage = dmg_busy_added_off,
	  .error = "slab count does not match" },
	{ .name = "busy slab, count off by two", .damage = dmg_busy_off_by_two,
	  .error = "slab count does not match" },
	{ .name = "busy slab holds objects", .damage = dmg_busy_live,
	  .error = "being added or removed has objects" },
	{ .name = "busy slab beyond the chunks", .damage = dmg_busy_beyond,
	  .error = "busy slab number beyond" },
	{ .name = "chunk table not preserved", .damage = dmg_table_unpreserved,
	  .error = "chunk table is not a preserved page" },
	{ .name = "chunk table outside RAM", .damage = dmg_table_outside_ram,
	  .error = "chunk table address" },
	{ .name = "chunk table bad magic", .damage = dmg_table_magic,
	  .error = "chunk table has a bad magic" },
	{ .name = "chunk table out of order", .damage = dmg_table_index,
	  .error = "out of order" },
	{ .name = "chunk table chain too short", .damage = dmg_table_short,
	  .error = "chunk table address" },
	{ .name = "chunk table chain loops", .damage = dmg_table_loop,
	  .error = "out of order" },
	{ .name = "chunk table over a slab", .damage = dmg_table_over_slab,
	  .error = "overlap" },
	{ .name = "v2 intact", .v2 = true },
	{ .name = "v2 descriptor magic is v3's", .v2 = true, .damage = dmg_v2_magic,
	  .error = "magic" },
	{ .name = "v2 chunk count above capacity", .v2 = true,
	  .damage = dmg_v2_nr_chunks, .error = "chunk count above capacity" },
	{ .name = "v2 chunk outside RAM", .v2 = true, .damage = dmg_chunk_outside_ram,
	  .error = "chunk address" },
	{ .name = "v2 slab not preserved", .v2 = true, .damage = dmg_slab_unpreserved,
	  .error = "slab is not a preserved block" },
	{ .name = "v2 root is a free object", .v2 = true, .damage = dmg_root_free,
	  .error = "root handle" },
	{ .name = "chunk outside RAM", .damage = dmg_chunk_outside_ram,
	  .error = "chunk address" },
	{ .name = "slab outside RAM", .damage = dmg_slab_outside_ram,
	  .error = "slab address" },
	{ .name = "slab misaligned", .damage = dmg_slab_misaligned,
	  .error = "slab address" },
	{ .name = "two slabs overlap", .damage = dmg_overlap, .error = "overlap" },
	{ .name = "slab inside a slab", .damage = dmg_overlap_meta,
	  .error = "slab address" },
	{ .name = "objects above capacity", .damage = dmg_bits_beyond,
	  .error = "beyond the last object" },
	{ .name = "unused record with objects", .damage = dmg_unused_with_objs,
	  .error = "unused slab record" },
	{ .name = "root is a free object", .damage = dmg_root_free,
	  .error = "root handle" },
	{ .name = "root is another pool's", .damage = dmg_root_foreign,
	  .error = "root handle" },
	{ .name = "name without NUL", .bad_name_nul = true, .error = "name" },
	{ .name = "bad object size", .obj_size_delta = 4, .error = "object size" },
	{ .name = "unknown flag", .flags = 0x80, .error = "unknown pool flags" },
	{ .name = "flags do not fit the size", .flags = PMPOOL_ABI_F_FOLIO_PER_OBJ,
	  .error = "flags not valid" },
	{ .name = "duplicate name", .node_name = "kt-good",
	  .error = "name listed twice", .both = true },
	{ .name = "duplicate tag", .tag = 0x1001, .error = "tag listed twice",
	  .both = true },
	{ .name = "descriptor not preserved", .damage = dmg_desc_unpreserved,
	  .error = "descriptor is not a preserved page" },
	{ .name = "chunk not preserved", .damage = dmg_chunk_unpreserved,
	  .error = "chunk is not a preserved block" },
	{ .name = "slab not preserved", .damage = dmg_slab_unpreserved,
	  .error = "slab is not a preserved block" },
	{ .name = "slab preserved with a smaller order", .damage = dmg_slab_wrong_order,
	  .error = "slab is not a preserved block" },
	{ .name = "directory over a slab", .damage = dmg_dir_over_slab,
	  .error = "inside the directory" },
	{ .name = "slab shared with another pool", .damage = dmg_cross,
	  .error = "overlaps another pool", .both = true },
};

static void pmpool_corruption_desc(const struct pmpool_corruption *p, char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(pmpool_corruption, pmpool_corruptions, pmpool_corruption_desc);

static void pmpool_craft_free(void *arg)
{
	struct pmpool_craft *c = arg;
	int p, s;

	for (p = 0; p < 2; p++) {
		for (s = 0; s < 2; s++)
			if (c->slab[p][s])
				folio_put(c->slab[p][s]);
		if (c->chunk[p])
			folio_put(virt_to_folio(c->chunk[p]));
		if (c->table[p])
			folio_put(virt_to_folio(c->table[p]));
		if (c->desc[p])
			folio_put(virt_to_folio(c->desc[p]));
	}
	kvfree(c->fdt_buf);
	pmpool_test_nr_blocks = 0;
}

static void pmpool_craft_pool(struct kunit *test, struct pmpool_craft *c, int p,
			      u16 tag, bool v2)
{
	struct pmpool_slab_ser *rec;
	struct folio *folio;
	int s;

	folio = folio_alloc(GFP_KERNEL | __GFP_ZERO, 0);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	c->desc[p] = folio_address(folio);
	pmpool_test_block_add(folio_pfn(folio) << PAGE_SHIFT, 0);
	folio = folio_alloc(GFP_KERNEL | __GFP_ZERO, PMPOOL_ABI_CHUNK_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	c->chunk[p] = folio_address(folio);
	pmpool_test_block_add(folio_pfn(folio) << PAGE_SHIFT, PMPOOL_ABI_CHUNK_ORDER);
	for (s = 0; s < 2; s++) {
		c->slab[p][s] = folio_alloc(GFP_KERNEL, c->geo.slab_order);
		KUNIT_ASSERT_NOT_NULL(test, c->slab[p][s]);
		pmpool_test_block_add(pmpool_folio_phys(c->slab[p][s]),
				      c->geo.slab_order);
		rec = craft_rec(c, p, s);
		rec->phys = pmpool_folio_phys(c->slab[p][s]);
		rec->bitmap[0] = 0x1f;	/* objects 0-4 live */
	}
	*c->desc[p] = (struct pmpool_desc_ser){
		.magic = v2 ? PMPOOL_ABI_V2_DESC_MAGIC : PMPOOL_ABI_DESC_MAGIC,
		.obj_size = c->geo.obj_size,
		.slab_order = c->geo.slab_order,
		.objs_per_slab = c->geo.objs_per_slab,
		.rec_size = c->geo.rec_size,
		.recs_per_chunk = c->geo.recs_per_chunk,
		.nr_chunks = 1,
		.root = pmpool_handle_make(tag, 1, 4),
	};
	if (v2) {
		craft_v2(c, p)->chunks[0] = virt_to_phys(c->chunk[p]);
		return;
	}
	folio = folio_alloc(GFP_KERNEL | __GFP_ZERO, 0);
	KUNIT_ASSERT_NOT_NULL(test, folio);
	c->table[p] = folio_address(folio);
	pmpool_test_block_add(folio_pfn(folio) << PAGE_SHIFT, 0);
	c->table[p]->magic = PMPOOL_ABI_TABLE_MAGIC;
	c->table[p]->chunks[0] = virt_to_phys(c->chunk[p]);
	c->desc[p]->table = virt_to_phys(c->table[p]);
	c->desc[p]->nr_slabs = 2;
}

static int pmpool_craft_node(void *fdt, const char *name, int name_len, u16 tag,
			     u32 obj_size, u32 order, u32 flags, phys_addr_t desc)
{
	char node[16];
	int err;

	snprintf(node, sizeof(node), "pool@%x", tag);
	err = fdt_begin_node(fdt, node);
	err |= fdt_property(fdt, PMPOOL_ABI_PROP_NAME, name, name_len);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_TAG, tag);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_OBJ_SIZE, obj_size);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_SLAB_ORDER, order);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_FLAGS, flags);
	err |= fdt_property_u32(fdt, PMPOOL_ABI_PROP_NODE, (u32)NUMA_NO_NODE);
	err |= fdt_property_u64(fdt, PMPOOL_ABI_PROP_DESC, desc);
	err |= fdt_end_node(fdt);
	return err;
}

static void pmpool_test_corrupt_handover(struct kunit *test)
{
	const struct pmpool_corruption *cor = test->param_value;
	struct pmpool_incoming *in, *good = NULL, *victim = NULL;
	struct pmpool_craft *c;
	const char *vname = cor->node_name ?: "kt-victim";
	LIST_HEAD(incoming);
	int err, n = 0;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, pmpool_craft_free, c));
	/* 24-byte objects: 2730 per slab, so the bitmap has spare bits. */
	KUNIT_ASSERT_EQ(test, 0, pmpool_geometry_init(&c->geo, 24, 0));
	c->fdt_size = SZ_4K;
	c->fdt_buf = kvzalloc(c->fdt_size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->fdt_buf);
	c->fdt = c->fdt_buf;
	pmpool_craft_pool(test, c, 0, 0x1001, cor->v2);
	pmpool_craft_pool(test, c, 1, 0x1002, cor->v2);
	if (cor->damage)
		cor->damage(c);

	err = fdt_create(c->fdt, c->fdt_size);
	err |= fdt_finish_reservemap(c->fdt);
	err |= fdt_begin_node(c->fdt, "");
	err |= fdt_property_string(c->fdt, "compatible",
				   cor->compat ?: cor->v2 ? PMPOOL_ABI_COMPATIBLE_V2 :
				   PMPOOL_ABI_COMPATIBLE);
	err |= pmpool_craft_node(c->fdt, "kt-good", sizeof("kt-good"), 0x1001,
				 c->geo.obj_size, c->geo.slab_order, 0,
				 virt_to_phys(c->desc[0]));
	err |= pmpool_craft_node(c->fdt, vname,
				 strlen(vname) + (cor->bad_name_nul ? 0 : 1),
				 cor->tag_zero ? 0 : cor->tag ?: 0x1002,
				 c->geo.obj_size + cor->obj_size_delta,
				 c->geo.slab_order + cor->slab_order_delta, cor->flags,
				 virt_to_phys(c->desc[1]));
	err |= fdt_end_node(c->fdt);
	err |= fdt_finish(c->fdt);
	KUNIT_ASSERT_EQ(test, 0, err);
	if (cor->damage_blob)
		cor->damage_blob(c);

	mutex_lock(&pmpool_mutex);
	err = pmpool_parse_handover(c->fdt, c->fdt_size, &incoming,
				    pmpool_test_block_order);
	mutex_unlock(&pmpool_mutex);
	KUNIT_EXPECT_EQ(test, err, cor->parse_err);
	if (cor->parse_err) {
		/* A bad directory refuses every pool. */
		KUNIT_EXPECT_TRUE(test, list_empty(&incoming));
		return;
	}
	/* In the order of the nodes: the tag may be the damage. */
	list_for_each_entry(in, &incoming, list) {
		if (n++)
			victim = in;
		else
			good = in;
	}
	KUNIT_EXPECT_EQ(test, n, 2);
	KUNIT_ASSERT_NOT_NULL(test, good);
	KUNIT_ASSERT_NOT_NULL(test, victim);
	if (cor->both) {
		/* Shared memory: neither pool can be trusted with it. */
		KUNIT_EXPECT_NOT_NULL(test, good->error);
	} else {
		/* Damage in one pool never refuses the other. */
		KUNIT_EXPECT_NULL(test, good->error);
		KUNIT_EXPECT_EQ(test, good->nr_slabs, 2UL);
		KUNIT_EXPECT_EQ(test, good->nr_inuse, 10UL);
	}
	if (!cor->error) {
		KUNIT_EXPECT_NULL(test, victim->error);
	} else {
		KUNIT_EXPECT_NOT_NULL(test, victim->error);
		if (victim->error)
			KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(victim->error, cor->error),
						  "error was '%s'", victim->error);
	}
	pmpool_incoming_free_all(&incoming);
}

static void pmpool_test_restore_unknown(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -ENOENT,
			PTR_ERR(pmpool_restore("kt-never-handed-over")));
	KUNIT_EXPECT_EQ(test, -ENOENT, pmpool_discard("kt-never-handed-over"));
	KUNIT_EXPECT_EQ(test, -EINVAL, PTR_ERR(pmpool_restore(NULL)));
}

static struct kunit_case pmpool_alloc_cases[] = {
	KUNIT_CASE_PARAM(pmpool_test_geometry, pmpool_size_gen_params),
	KUNIT_CASE(pmpool_test_bad_create),
	KUNIT_CASE_PARAM(pmpool_test_alloc_free, pmpool_size_gen_params),
	KUNIT_CASE(pmpool_test_alloc_bulk),
	KUNIT_CASE(pmpool_test_zero),
	KUNIT_CASE(pmpool_test_handles),
	KUNIT_CASE(pmpool_test_use_after_destroy),
	KUNIT_CASE(pmpool_test_folio_per_obj),
	KUNIT_CASE(pmpool_test_virt_to_handle),
	KUNIT_CASE(pmpool_test_root),
	KUNIT_CASE(pmpool_test_walk),
	KUNIT_CASE(pmpool_test_atomic),
	KUNIT_CASE(pmpool_test_shrink),
	KUNIT_CASE(pmpool_test_concurrency),
	KUNIT_CASE(pmpool_test_cpu_slab),
	{}
};

static struct kunit_suite pmpool_alloc_suite = {
	.name = "pmpool_alloc",
	.test_cases = pmpool_alloc_cases,
};

static struct kunit_case pmpool_handover_cases[] = {
	KUNIT_CASE(pmpool_test_self_handover),
	KUNIT_CASE_PARAM(pmpool_test_corrupt_handover, pmpool_corruption_gen_params),
	KUNIT_CASE(pmpool_test_restore_unknown),
	{}
};

static struct kunit_suite pmpool_handover_suite = {
	.name = "pmpool_handover",
	.test_cases = pmpool_handover_cases,
};

kunit_test_suites(&pmpool_alloc_suite, &pmpool_handover_suite);

MODULE_DESCRIPTION("KUnit tests for pmpool");
MODULE_LICENSE("GPL");
