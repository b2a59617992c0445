// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit fault-injection tests for pmpool, built as a module and loaded by
 * a test once fault injection is set up for GFP_KERNEL allocations:
 *
 *   echo N > /sys/kernel/debug/failslab/ignore-gfp-wait
 *   echo N > /sys/kernel/debug/fail_page_alloc/ignore-gfp-wait
 *   echo 0 > /sys/kernel/debug/fail_page_alloc/min-order
 *
 * Each case sweeps one operation: the n-th fault-injection point the
 * calling task reaches fails (current->fail_nth, what /proc/self/fail-nth
 * sets), for n = 1, 2, ... until the operation gets through without
 * reaching its n-th point.  This fails, in turn, every slab and page
 * allocation made on the way (pool, slab and metadata memory, bookkeeping,
 * KHO's tracking pages when its tree grows) and every preservation of pool
 * memory with KHO (pmpool's fail_kho point).
 * A failure must come back to the caller as an error, or be absorbed by a
 * fallback (the operation then succeeds and works); in both cases no pool
 * may be left half made, pmpool must hold exactly the pages it held before
 * (pmpool_pages_held()), and a retry without the fault must succeed.
 *
 * Restore and discard need pools from the previous kernel.  The last case
 * hands some over: FAULT_NR_RESTORE pools for the restore sweep (each
 * injected fault that restore absorbs uses one up) and FAULT_NR_DISCARD
 * for discard, which must reach no fault point at all.  After a kexec the
 * restore and discard cases use them (on a first boot they are skipped),
 * and the kernel after that
 * restores the same pools again: their content shows that the failed
 * attempts left their memory as it was.  One more case, without faults,
 * checks that a restored pool sets up its slabs lazily and that every
 * operation works on slabs not set up yet.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "../pmpool_internal.h"

#define FAULT_NR_RESTORE	24
#define FAULT_NR_DISCARD	6
#define FAULT_SWEEP_MAX		5000

/* Makes the @nth fault-injection point of this task fail. */
static void fault_arm(unsigned int nth)
{
	WRITE_ONCE(current->fail_nth, nth);
}

/* Disarms; returns whether the armed point was reached (and failed). */
static bool fault_disarm(void)
{
	bool hit = !READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return hit;
}

/* What a sweep saw, for the log and for the checks on its length. */
struct fault_tally {
	unsigned int points;	/* fault points reached */
	unsigned int errors;	/* of them, returned as an error */
	unsigned int absorbed;	/* of them, absorbed by a fallback */
};

static void fault_report(struct kunit *test, const char *what,
			 const struct fault_tally *t)
{
	kunit_info(test, "%s: %u fault points: %u returned an error, %u absorbed by a fallback\n",
		   what, t->points, t->errors, t->absorbed);
	/* Injection that never fires would make every sweep pass. */
	KUNIT_EXPECT_GT(test, t->errors, 0U);
	KUNIT_EXPECT_LT(test, t->points, (unsigned int)FAULT_SWEEP_MAX);
}

/*
 * Counts one step of a sweep: @hit says whether the armed point was
 * reached, @err what the operation returned.  An error needs an injected
 * fault, and must be -ENOMEM.  Returns @err.
 */
static int fault_step(struct kunit *test, struct fault_tally *t, bool hit,
		      int err)
{
	if (hit)
		t->points++;
	if (err) {
		KUNIT_EXPECT_TRUE(test, hit);
		KUNIT_EXPECT_EQ(test, err, -ENOMEM);
		t->errors++;
	} else if (hit) {
		t->absorbed++;
	}
	return err;
}

struct fault_geo {
	size_t size;
	unsigned int flags;
};

static const struct fault_geo fault_geos[] = {
	{ 64, 0 }, { 512, 0 }, { SZ_4K, PMPOOL_F_FOLIO_PER_OBJ }, { SZ_2M, 0 },
};

static void fault_geo_desc(const struct fault_geo *g, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu bytes%s", g->size,
		 g->flags ? ", folio per object" : "");
}

KUNIT_ARRAY_PARAM(fault_geo, fault_geos, fault_geo_desc);

/* One object allocated, written, read back and freed. */
static void fault_check_usable(struct kunit *test, struct pmpool *pool)
{
	u64 handle;
	u64 *obj = pmpool_alloc(pool, GFP_KERNEL, &handle);

	KUNIT_ASSERT_NOT_NULL(test, obj);
	*obj = handle;
	KUNIT_EXPECT_PTR_EQ(test, pmpool_map(pool, handle), (void *)obj);
	KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, handle));
}

static void pmpool_fault_create(struct kunit *test)
{
	const struct fault_geo *g = test->param_value;
	unsigned long base = pmpool_pages_held();
	struct fault_tally t = {};
	struct pmpool *pool;
	unsigned int n;
	bool hit;

	for (n = 1; n < FAULT_SWEEP_MAX; n++) {
		fault_arm(n);
		pool = pmpool_create("fault-create", g->size, g->flags);
		hit = fault_disarm();
		if (!hit) {
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
			pmpool_destroy(pool);
			break;
		}
		if (fault_step(test, &t, hit, PTR_ERR_OR_ZERO(pool))) {
			KUNIT_EXPECT_EQ(test, pmpool_pages_held(), base);
			/* No half-made pool holds the name: a retry succeeds. */
			pool = pmpool_create("fault-create", g->size, g->flags);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
		}
		fault_check_usable(test, pool);
		pmpool_destroy(pool);
		KUNIT_ASSERT_EQ(test, pmpool_pages_held(), base);
	}
	fault_report(test, "create", &t);
}

/* Allocates @nr objects into @handles; returns how many it got. */
static unsigned int fault_alloc_n(struct pmpool *pool, u64 *handles,
				  unsigned int nr)
{
	unsigned int i;
	u64 *obj;

	for (i = 0; i < nr; i++) {
		obj = pmpool_alloc(pool, GFP_KERNEL, &handles[i]);
		if (!obj)
			break;
		*obj = handles[i];
	}
	return i;
}

static void fault_free_n(struct kunit *test, struct pmpool *pool,
			 const u64 *handles, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		u64 *obj = pmpool_map(pool, handles[i]);

		KUNIT_EXPECT_NOT_NULL(test, obj);
		if (obj)
			KUNIT_EXPECT_EQ(test, *obj, handles[i]);
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, handles[i]));
	}
}

/* The counters agree with each other: every object is free or in use. */
static void fault_check_stats(struct kunit *test, struct pmpool *pool,
			      unsigned long inuse)
{
	struct pmpool_stats st;

	pmpool_get_stats(pool, &st);
	KUNIT_EXPECT_EQ(test, st.nr_inuse, inuse);
	KUNIT_EXPECT_EQ(test, st.nr_inuse + st.nr_free,
			st.nr_slabs * pool->geo.objs_per_slab);
}

/* Allocation that grows the pool by three slabs (and its metadata). */
static void pmpool_fault_alloc(struct kunit *test)
{
	const struct fault_geo *g = test->param_value;
	unsigned long base = pmpool_pages_held();
	struct fault_tally t = {};
	unsigned int n, nr, got;
	struct pmpool *pool;
	u64 *handles;
	bool hit;

	for (n = 1; n < FAULT_SWEEP_MAX; n++) {
		pool = pmpool_create("fault-alloc", g->size, g->flags);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
		nr = 2 * pool->geo.objs_per_slab + 1;
		handles = kcalloc(nr, sizeof(*handles), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, handles);

		fault_arm(n);
		got = fault_alloc_n(pool, handles, nr);
		hit = fault_disarm();
		if (fault_step(test, &t, hit, got < nr ? -ENOMEM : 0)) {
			fault_check_stats(test, pool, got);
			/* The caller gives up; later it tries again. */
			fault_free_n(test, pool, handles, got);
			got = fault_alloc_n(pool, handles, nr);
			KUNIT_EXPECT_EQ(test, got, nr);
		}
		fault_check_stats(test, pool, got);
		fault_free_n(test, pool, handles, got);
		kfree(handles);
		pmpool_destroy(pool);
		KUNIT_ASSERT_EQ(test, pmpool_pages_held(), base);
		if (!hit)
			break;
	}
	fault_report(test, "alloc", &t);
}

static void pmpool_fault_reserve(struct kunit *test)
{
	unsigned long base = pmpool_pages_held();
	struct fault_tally t = {};
	struct pmpool *pool;
	unsigned int n, nr;
	u64 *handles;
	bool hit;
	int err;

	for (n = 1; n < FAULT_SWEEP_MAX; n++) {
		pool = pmpool_create("fault-reserve", 256, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
		nr = 3 * pool->geo.objs_per_slab;
		fault_arm(n);
		err = pmpool_reserve(pool, nr);
		hit = fault_disarm();
		if (fault_step(test, &t, hit, err)) {
			fault_check_stats(test, pool, 0);
			err = pmpool_reserve(pool, nr);
		}
		KUNIT_EXPECT_EQ(test, err, 0);
		/* The reserve is there: that many objects need no growth. */
		handles = kcalloc(nr, sizeof(*handles), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, handles);
		KUNIT_EXPECT_EQ(test, fault_alloc_n(pool, handles, nr), nr);
		fault_free_n(test, pool, handles, nr);
		kfree(handles);
		pmpool_destroy(pool);
		KUNIT_ASSERT_EQ(test, pmpool_pages_held(), base);
		if (!hit)
			break;
	}
	fault_report(test, "reserve", &t);
}

/* ---- across kexec ------------------------------------------------------ */

#define FAULT_HO_OBJS	200	/* objects per handed-over pool */

static struct pmpool *fault_restore_pools[FAULT_NR_RESTORE];
static struct pmpool *fault_discard_pools[FAULT_NR_DISCARD];
/* The previous kernel ran the handover case: there is something to sweep. */
static bool fault_handed_over;

static void fault_name(char *buf, const char *kind, unsigned int i)
{
	snprintf(buf, PMPOOL_ABI_NAME_MAX, "fault-%s-%u", kind, i);
}

/* Content every handed-over object carries: a function of its handle. */
static u64 fault_pattern(u64 handle)
{
	return handle * 0x9e3779b97f4a7c15ULL;
}

static int fault_verify_one(struct pmpool *pool, u64 handle, void *obj,
			    void *arg)
{
	u64 *o = obj;
	unsigned int *bad = arg;

	if (o[0] != handle || o[1] != fault_pattern(handle) ||
	    pmpool_map(pool, handle) != obj ||
	    pmpool_virt_to_handle(pool, obj) != handle)
		(*bad)++;
	return 0;
}

/* Everything handed over is there, intact. */
static void fault_verify_pool(struct kunit *test, struct pmpool *pool)
{
	unsigned int bad = 0;
	u64 root = pmpool_get_root(pool);
	u64 *r = pmpool_map(pool, root);

	KUNIT_EXPECT_EQ(test, pool->nr_inuse, (unsigned long)FAULT_HO_OBJS);
	/* The restore set up no slab: that waits for the slab's first use. */
	KUNIT_EXPECT_EQ(test, pool->nr_lazy, pool->nr_slabs);
	KUNIT_EXPECT_EQ(test, 0, pmpool_walk(pool, fault_verify_one, &bad));
	KUNIT_EXPECT_EQ(test, bad, 0U);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r[0], root);
	fault_check_stats(test, pool, FAULT_HO_OBJS);
}

static void pmpool_fault_restore(struct kunit *test)
{
	unsigned long base = pmpool_pages_held();
	struct fault_tally t = {};
	char name[PMPOOL_ABI_NAME_MAX];
	unsigned int n, i = 0;
	struct pmpool *pool;
	bool hit = false;

	fault_name(name, "restore", 0);
	pool = pmpool_restore(name);
	if (PTR_ERR(pool) == -ENOENT)
		kunit_skip(test, "no pools handed over (first boot)");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	fault_handed_over = true;
	/* Pool 0 restores without faults: the figure to compare with. */
	fault_verify_pool(test, pool);
	fault_restore_pools[i++] = pool;
	base = pmpool_pages_held();

	for (n = 1; n < FAULT_SWEEP_MAX && i < FAULT_NR_RESTORE; n++) {
		fault_name(name, "restore", i);
		fault_arm(n);
		pool = pmpool_restore(name);
		hit = fault_disarm();
		if (fault_step(test, &t, hit, PTR_ERR_OR_ZERO(pool))) {
			KUNIT_EXPECT_EQ(test, pmpool_pages_held(), base);
			continue;	/* the same pool, one point further */
		}
		fault_verify_pool(test, pool);
		fault_restore_pools[i++] = pool;
		base = pmpool_pages_held();
		if (!hit)
			break;
	}
	KUNIT_EXPECT_FALSE_MSG(test, hit && i == FAULT_NR_RESTORE,
			       "ran out of pools before the sweep ended");
	/* The rest restore normally. */
	for (; i < FAULT_NR_RESTORE; i++) {
		fault_name(name, "restore", i);
		pool = pmpool_restore(name);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
		fault_verify_pool(test, pool);
		fault_restore_pools[i] = pool;
	}
	fault_report(test, "restore", &t);
}

/*
 * Discard allocates nothing and preserves nothing: no fault point is on its
 * way, so it cannot fail for want of memory.  Each pool is discarded with
 * the first point armed, which must stay unreached.
 */
static void pmpool_fault_discard(struct kunit *test)
{
	unsigned long base = pmpool_pages_held();
	char name[PMPOOL_ABI_NAME_MAX];
	unsigned int i;
	bool hit;
	int err;

	if (!fault_handed_over)
		kunit_skip(test, "no pools handed over (first boot)");
	for (i = 0; i < FAULT_NR_DISCARD; i++) {
		fault_name(name, "discard", i);
		fault_arm(1);
		err = pmpool_discard(name);
		hit = fault_disarm();
		KUNIT_EXPECT_EQ(test, err, 0);
		KUNIT_EXPECT_FALSE(test, hit);
		/* Gone, and its memory went back to the page allocator. */
		KUNIT_EXPECT_EQ(test, PTR_ERR(pmpool_restore(name)), -ENOENT);
	}
	KUNIT_EXPECT_EQ(test, pmpool_pages_held(), base);
	kunit_info(test, "discard: %u pools, no fault point reached\n",
		   FAULT_NR_DISCARD);
}

/* ---- a restored pool's slabs, set up when first needed ----------------- */

#define FAULT_LAZY_NAME	"fault-lazy"
#define FAULT_LAZY_OBJS	100U	/* 4 KiB objects, 16 per slab: 7 slabs */
#define FAULT_LAZY_MAX	(2 * FAULT_LAZY_OBJS)

struct fault_lazy_seen {
	u64 handles[FAULT_LAZY_MAX];
	unsigned int n, bad;
};

static int fault_lazy_one(struct pmpool *pool, u64 handle, void *obj, void *arg)
{
	struct fault_lazy_seen *seen = arg;

	if (*(u64 *)obj != handle || pmpool_virt_to_handle(pool, obj) != handle ||
	    pmpool_phys(pool, handle) != virt_to_phys(obj))
		seen->bad++;
	if (seen->n < FAULT_LAZY_MAX)
		seen->handles[seen->n] = handle;
	seen->n++;
	return 0;
}

static void pmpool_fault_lazy(struct kunit *test)
{
	struct fault_lazy_seen *seen;
	unsigned long slabs, nr_free, i;
	struct pmpool *pool;
	u64 h, *o;

	pool = pmpool_restore(FAULT_LAZY_NAME);
	if (PTR_ERR(pool) == -ENOENT)
		kunit_skip(test, "no pool handed over (first boot)");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	seen = kunit_kzalloc(test, sizeof(*seen), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	slabs = pool->nr_slabs;
	KUNIT_EXPECT_EQ(test, slabs, DIV_ROUND_UP(FAULT_LAZY_OBJS, 16UL));
	KUNIT_EXPECT_EQ(test, pool->nr_inuse, (unsigned long)FAULT_LAZY_OBJS);
	KUNIT_EXPECT_EQ(test, pool->nr_lazy, slabs);
	kunit_info(test, "restored %lu slabs, %lu set up by the restore\n",
		   slabs, slabs - pool->nr_lazy);

	/*
	 * Lookups read the records: they set up nothing.  The previous kernel
	 * filled slabs 0, 1, ... in order, lowest object first.  (Not with
	 * pmpool_walk(): its end queues the pool's work, which sets up every
	 * slab in the background.)
	 */
	for (i = 0; i < FAULT_LAZY_OBJS; i++) {
		h = pmpool_handle_make(pool->tag, i / 16, i % 16);
		o = pmpool_map(pool, h);
		if (!o || *o != h || pmpool_virt_to_handle(pool, o) != h ||
		    pmpool_phys(pool, h) != virt_to_phys(o))
			seen->bad++;
	}
	KUNIT_EXPECT_EQ(test, seen->bad, 0U);
	KUNIT_EXPECT_EQ(test, pool->nr_lazy, slabs);

	/* A free sets up the slab it frees into, and that one only. */
	h = pmpool_handle_make(pool->tag, 1, 4);
	KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, h));
	KUNIT_EXPECT_EQ(test, pool->nr_lazy, slabs - 1);
	KUNIT_EXPECT_NULL(test, pmpool_map(pool, h));
	KUNIT_EXPECT_EQ(test, -EINVAL, pmpool_free(pool, h));

	/* Allocations use every free object of the handed-over slabs first. */
	nr_free = pool->nr_free;
	KUNIT_EXPECT_EQ(test, nr_free, slabs * 16 - FAULT_LAZY_OBJS + 1);
	for (i = 0; i < nr_free; i++) {
		o = pmpool_alloc(pool, GFP_ATOMIC, &h);
		KUNIT_ASSERT_NOT_NULL(test, o);
		*o = h;
	}
	KUNIT_EXPECT_EQ(test, pool->nr_slabs, slabs);
	KUNIT_EXPECT_EQ(test, pool->nr_free, 0UL);
	KUNIT_EXPECT_EQ(test, pool->nr_lazy, 0UL);
	KUNIT_EXPECT_NULL(test, pmpool_alloc(pool, GFP_ATOMIC, &h));
	o = pmpool_alloc(pool, GFP_KERNEL, &h);
	KUNIT_ASSERT_NOT_NULL(test, o);
	*o = h;
	KUNIT_EXPECT_EQ(test, pool->nr_slabs, slabs + 1);
	fault_check_stats(test, pool, FAULT_LAZY_OBJS + nr_free);

	/* Handed-over slabs emptied go back to the page allocator. */
	KUNIT_EXPECT_EQ(test, 0, pmpool_walk(pool, fault_lazy_one, seen));
	KUNIT_EXPECT_EQ(test, seen->bad, 0U);
	KUNIT_ASSERT_EQ(test, seen->n, FAULT_LAZY_OBJS + (unsigned int)nr_free);
	for (i = 0; i < seen->n; i++)
		KUNIT_EXPECT_EQ(test, 0, pmpool_free(pool, seen->handles[i]));
	flush_work(&pool->work);
	/* One of slack, and those CPUs own (one unless the thread moved). */
	KUNIT_EXPECT_LE(test, pool->nr_slabs, 1UL + num_online_cpus());
	fault_check_stats(test, pool, 0);
	pmpool_destroy(pool);
}

/* A pool with FAULT_HO_OBJS patterned objects, object 0 its root. */
static struct pmpool *fault_make_pool(struct kunit *test, const char *name)
{
	struct pmpool *pool = pmpool_create(name, 128, 0);
	unsigned int i;
	u64 h, *o;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	for (i = 0; i < FAULT_HO_OBJS; i++) {
		o = pmpool_alloc(pool, GFP_KERNEL, &h);
		KUNIT_ASSERT_NOT_NULL(test, o);
		o[0] = h;
		o[1] = fault_pattern(h);
		if (!i)
			KUNIT_ASSERT_EQ(test, 0, pmpool_set_root(pool, h));
	}
	return pool;
}

/* Last: the pools the next kernel sweeps (restored ones go on as they are). */
static void pmpool_fault_handover(struct kunit *test)
{
	char name[PMPOOL_ABI_NAME_MAX];
	struct pmpool *pool;
	unsigned int i;
	u64 h, *o;

	for (i = 0; i < FAULT_NR_RESTORE; i++) {
		fault_name(name, "restore", i);
		if (!fault_restore_pools[i])
			fault_restore_pools[i] = fault_make_pool(test, name);
		KUNIT_EXPECT_TRUE(test, pmpool_is_persistent(fault_restore_pools[i]));
	}
	for (i = 0; i < FAULT_NR_DISCARD; i++) {
		fault_name(name, "discard", i);
		fault_discard_pools[i] = fault_make_pool(test, name);
	}
	pool = pmpool_create(FAULT_LAZY_NAME, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pool);
	for (i = 0; i < FAULT_LAZY_OBJS; i++) {
		o = pmpool_alloc(pool, GFP_KERNEL, &h);
		KUNIT_ASSERT_NOT_NULL(test, o);
		*o = h;
	}
}

/*
 * The sweeps above failed KHO's preservation of pool memory too (the
 * fail_kho point where kho_preserve_folio() failures surface), not only
 * slab and page allocations.
 */
static void pmpool_fault_kho(struct kunit *test)
{
	kunit_info(test, "KHO preservation failures injected so far: %lu\n",
		   pmpool_kho_errors());
	KUNIT_EXPECT_GT(test, pmpool_kho_errors(), 0UL);
}

static struct kunit_case pmpool_fault_cases[] = {
	KUNIT_CASE_PARAM(pmpool_fault_create, fault_geo_gen_params),
	KUNIT_CASE_PARAM(pmpool_fault_alloc, fault_geo_gen_params),
	KUNIT_CASE(pmpool_fault_reserve),
	KUNIT_CASE(pmpool_fault_restore),
	KUNIT_CASE(pmpool_fault_discard),
	KUNIT_CASE(pmpool_fault_lazy),
	KUNIT_CASE(pmpool_fault_kho),
	KUNIT_CASE(pmpool_fault_handover),
	{}
};

static struct kunit_suite pmpool_fault_suite = {
	.name = "pmpool_fault",
	.test_cases = pmpool_fault_cases,
};

kunit_test_suite(pmpool_fault_suite);

MODULE_DESCRIPTION("pmpool fault-injection KUnit tests");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
