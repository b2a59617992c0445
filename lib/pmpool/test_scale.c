// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool scale test: a pool far larger than the v2 format could hand over,
 * filled, kexec'd, restored and checked object by object.
 *
 *   insmod pmpool_test_scale.ko mode=fill obj=8 mib=512
 *	creates pool "scale-<obj>", fills <mib> MiB of slabs with objects
 *	(pmpool_alloc_bulk()), writes every object, frees one in sixteen,
 *	sets the root, and says how long each step took.
 *   insmod pmpool_test_scale.ko mode=verify obj=8 mib=512
 *	after kexec: restores the pool (timed), walks it and checks that
 *	the live objects are exactly the ones fill left live, each with its
 *	content, then allocates the holes again without growing the pool.
 *	With every=N it looks up (pmpool_map()) each object of every Nth
 *	slab and of the last one instead of walking them all: a quicker
 *	check, exact for those slabs, and the pool's live count for all.
 *
 * Fill takes slabs in order, so handle, content and whether an object was
 * freed all follow from the slab and object numbers: verify needs nothing
 * but the parameters.  "pmpool_test_scale: PASS: ..." or "... FAIL: ...".
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pmpool.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *mode = "fill";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "fill or verify");
static uint obj = 8;
module_param(obj, uint, 0444);
MODULE_PARM_DESC(obj, "object size in bytes (a multiple of 8)");
static uint mib = 512;
module_param(mib, uint, 0444);
MODULE_PARM_DESC(mib, "MiB of slabs to fill");
static uint every = 1;
module_param(every, uint, 0444);
MODULE_PARM_DESC(every, "verify: check every object of every <every>th slab (and the last) instead of walking all");

/* Handles per pmpool_alloc_bulk() call. */
#define SCALE_BATCH	4096

struct scale_state {
	struct pmpool *pool;
	unsigned long per;	/* objects per slab */
	unsigned long live;
	unsigned long bad;
	u64 first_bad;
};

/* What an object holds: its handle, mixed, at both ends. */
static u64 scale_pattern(u64 handle)
{
	return handle * 0x9e3779b97f4a7c15ULL;
}

/* Fill frees one object in sixteen, chosen by its handle. */
static bool scale_freed(u64 handle)
{
	return (scale_pattern(handle) >> 60) == 5;
}

static void scale_write(void *p, u64 handle)
{
	u64 v = scale_pattern(handle);

	memcpy(p, &v, sizeof(v));
	if (obj >= 2 * sizeof(v))
		memcpy(p + obj - sizeof(v), &v, sizeof(v));
}

static bool scale_check(const void *p, u64 handle)
{
	u64 v = scale_pattern(handle), a, b = v;

	memcpy(&a, p, sizeof(a));
	if (obj >= 2 * sizeof(v))
		memcpy(&b, p + obj - sizeof(v), sizeof(b));
	return a == v && b == v;
}

static void scale_name(char *buf, size_t size)
{
	snprintf(buf, size, "scale-%u", obj);
}

/* The object a handle names: the slab's first, found once, plus an offset. */
static void *scale_obj(struct scale_state *s, u64 handle, u64 *slab_h, void **base)
{
	u64 first = handle & ~0xffffffULL;

	if (first != *slab_h) {
		*base = pmpool_map(s->pool, handle) -
			(size_t)(handle & 0xffffff) * pmpool_obj_size(s->pool);
		*slab_h = first;
	}
	return *base + (size_t)(handle & 0xffffff) * pmpool_obj_size(s->pool);
}

static int scale_fill(void)
{
	unsigned long target, done, k, freed = 0;
	struct scale_state s = { };
	u64 *h, root = 0, tag, want, slab_h = 0;
	ktime_t t0, t1;
	struct pmpool_stats st;
	void *base = NULL;
	char name[32];
	int err;

	scale_name(name, sizeof(name));
	h = kvmalloc_array(SCALE_BATCH, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	s.pool = pmpool_create(name, obj, 0);
	if (IS_ERR(s.pool)) {
		kvfree(h);
		pr_err("FAIL: cannot create %s: %ld\n", name, PTR_ERR(s.pool));
		return PTR_ERR(s.pool);
	}
	/* The first object tells the geometry and the tag. */
	err = pmpool_alloc_bulk(s.pool, GFP_KERNEL, 1, h);
	if (err)
		goto fail;
	pmpool_get_stats(s.pool, &st);
	s.per = st.nr_inuse + st.nr_free;
	target = ((u64)mib << 20) / (st.slab_bytes / st.nr_slabs) * s.per;
	tag = h[0] >> 48;
	pmpool_free(s.pool, h[0]);

	t0 = ktime_get();
	for (done = 0; done < target; done += k) {
		unsigned long nr = min_t(unsigned long, SCALE_BATCH, target - done);

		err = pmpool_alloc_bulk(s.pool, GFP_KERNEL, nr, h);
		if (err)
			goto fail;
		for (k = 0; k < nr; k++) {
			/* A fresh pool fills its slabs in order. */
			want = tag << 48 | (u64)((done + k) / s.per) << 24 |
			       (done + k) % s.per;
			if (h[k] != want) {
				pr_err("FAIL: %s: object %lu is %#llx, expected %#llx\n",
				       name, done + k, h[k], want);
				err = -EIO;
				goto fail;
			}
			scale_write(scale_obj(&s, h[k], &slab_h, &base), h[k]);
		}
		cond_resched();
	}
	/* Then the frees: during the fill, bulk allocation would refill them. */
	for (done = 0; done < target; done++) {
		want = tag << 48 | (u64)(done / s.per) << 24 | done % s.per;
		if (scale_freed(want)) {
			err = pmpool_free(s.pool, want);
			if (err)
				goto fail;
			freed++;
		} else if (!root) {
			root = want;
		}
		if (!(done & 0xffff))
			cond_resched();
	}
	t1 = ktime_get();
	err = pmpool_set_root(s.pool, root);
	if (err)
		goto fail;
	pmpool_get_stats(s.pool, &st);
	pr_info("PASS: filled %s: %lu objects of %u bytes in %lu slabs (%llu MiB, %llu KiB of metadata), freed %lu, %lu live, in %lld ms\n",
		name, target, obj, st.nr_slabs, st.slab_bytes >> 20,
		st.meta_bytes >> 10, freed, st.nr_inuse, ktime_ms_delta(t1, t0));
	kvfree(h);
	return 0;

fail:
	pr_err("FAIL: filling %s: %d\n", name, err);
	pmpool_destroy(s.pool);
	kvfree(h);
	return err;
}

/* Every @every-th slab, then the last one. */
static unsigned long scale_next_slab(unsigned long n, unsigned long slabs)
{
	if (n + every < slabs)
		return n + every;
	return n == slabs - 1 ? slabs : slabs - 1;
}

static int scale_walk_fn(struct pmpool *pool, u64 handle, void *p, void *arg)
{
	struct scale_state *s = arg;

	if (scale_freed(handle) || !scale_check(p, handle)) {
		if (!s->bad++)
			s->first_bad = handle;
	}
	s->live++;
	if (!(s->live & 0xfffff))
		cond_resched();
	return 0;
}

static int scale_verify(void)
{
	struct scale_state s = { };
	struct pmpool_stats st;
	unsigned long expect = 0, n, i, slabs;
	ktime_t t0, t_restore, t_walk;
	char name[32];
	u64 tag, *h;
	int err = 0;

	scale_name(name, sizeof(name));
	t0 = ktime_get();
	s.pool = pmpool_restore(name);
	t_restore = ktime_get();
	if (IS_ERR(s.pool)) {
		pr_err("FAIL: cannot restore %s: %ld\n", name, PTR_ERR(s.pool));
		return PTR_ERR(s.pool);
	}
	pmpool_get_stats(s.pool, &st);
	slabs = st.nr_slabs;
	s.per = (st.nr_inuse + st.nr_free) / slabs;
	tag = pmpool_get_root(s.pool) >> 48;
	/* Every object of every slab was allocated, then one in 16 freed. */
	for (n = 0; n < slabs; n++)
		for (i = 0; i < s.per; i++)
			expect += !scale_freed(tag << 48 | (u64)n << 24 | i);
	if (every > 1) {
		/* Live exactly where fill left objects live, and only there. */
		for (n = 0; n < slabs; n = scale_next_slab(n, slabs)) {
			for (i = 0; i < s.per; i++) {
				u64 hd = tag << 48 | (u64)n << 24 | i;
				void *p = pmpool_map(s.pool, hd);

				if (!p != scale_freed(hd) || (p && !scale_check(p, hd))) {
					if (!s.bad++)
						s.first_bad = hd;
				}
				s.live += !!p;
			}
			cond_resched();
		}
		/* The count of all slabs is the pool's. */
		s.live = s.bad ? s.live : expect;
	} else {
		err = pmpool_walk(s.pool, scale_walk_fn, &s);
	}
	t_walk = ktime_get();
	if (err || s.bad || s.live != expect || st.nr_inuse != expect) {
		pr_err("FAIL: %s after restore: walk %d, %lu live (expected %lu, stats %lu), %lu wrong (first %#llx)\n",
		       name, err, s.live, expect, st.nr_inuse, s.bad, s.first_bad);
		return -EIO;
	}
	pr_info("PASS: verified %s: %lu objects live in %lu slabs (%llu MiB), %s; restored in %lld us, checked in %lld ms\n",
		name, s.live, slabs, st.slab_bytes >> 20,
		every > 1 ? "those of the slabs looked up where fill left them" :
		"every one where fill left it",
		ktime_us_delta(t_restore, t0), ktime_ms_delta(t_walk, t_restore));

	/* The holes are allocatable again, without a new slab. */
	h = kvmalloc_array(SCALE_BATCH, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	n = min_t(unsigned long, st.nr_free, SCALE_BATCH);
	err = pmpool_alloc_bulk(s.pool, GFP_KERNEL, n, h);
	for (i = 0; !err && i < n; i++) {
		if (!scale_freed(h[i])) {
			pr_err("FAIL: %s handed out %#llx, which was live\n", name, h[i]);
			err = -EIO;
		}
		scale_write(pmpool_map(s.pool, h[i]), h[i]);
		pmpool_free(s.pool, h[i]);
	}
	pmpool_get_stats(s.pool, &st);
	kvfree(h);
	if (err || st.nr_slabs != slabs) {
		pr_err("FAIL: %s: allocating %lu holes: %d, slabs %lu -> %lu\n",
		       name, n, err, slabs, st.nr_slabs);
		return err ?: -EIO;
	}
	pr_info("PASS: %s: %lu freed objects allocated again from the restored slabs\n",
		name, n);
	return 0;
}

static int __init scale_init(void)
{
	if (!obj || obj % 8 || !mib)
		return -EINVAL;
	if (!strcmp(mode, "fill"))
		return scale_fill();
	if (!strcmp(mode, "verify"))
		return scale_verify();
	return -EINVAL;
}
module_init(scale_init);

static void __exit scale_exit(void)
{
}
module_exit(scale_exit);

MODULE_DESCRIPTION("pmpool scale test: a pool beyond the v2 cap across kexec");
MODULE_LICENSE("GPL");
