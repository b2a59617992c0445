// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool benchmarks, run by `make bench`.  Every figure is printed with a
 * baseline measured in the same boot, as one line:
 *
 *   BENCH: name=<row> unit=<unit> value=<v> baseline=<b> target=<t>
 *
 *   insmod pmpool_bench.ko stage=micro
 *	alloc+free throughput against kmem_cache_alloc/free (one CPU and
 *	all CPUs), metadata overhead per object size.
 *   insmod pmpool_bench.ko stage=fill set=<all|q64|r512|none>
 *	fills pools (and, as the baseline, raw KHO-preserved folios of the
 *	same total size) to be handed over at the next kexec: all is
 *	BENCH_REPS copies of a 64 MiB pool of 64 B objects, of one of 4 KiB
 *	objects and of its baseline, plus 512 MiB of 4 KiB objects and its
 *	baseline (1 GiB in pools); q64 one 64 MiB pool alone (for the kexec
 *	path figure); r512 the 512 MiB pool of 4 KiB objects, its
 *	baseline, and a 512 MiB pool of 8 B objects (67 M of them).
 *   insmod pmpool_bench.ko stage=restore [reverse=1]
 *	restores what the previous kernel filled, interleaved with restoring
 *	(and preserving again) the raw folios, then frees it all; prints the
 *	sums.  reverse=1 times the 512 MiB baseline before its pool.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pmpool.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/kho/abi/kexec_handover.h>

static char *stage = "micro";
module_param(stage, charp, 0444);
MODULE_PARM_DESC(stage, "micro, fill or restore");
static char *set = "all";
module_param(set, charp, 0444);
MODULE_PARM_DESC(set, "what stage=fill fills: all, q64, r512 or none");
static bool reverse;
module_param(reverse, bool, 0444);
MODULE_PARM_DESC(reverse, "stage=restore: raw folios first, pools in reverse order");

static void bench_row(const char *name, const char *unit, u64 value,
		      u64 baseline, const char *target)
{
	pr_info("BENCH: name=%s unit=%s value=%llu baseline=%llu target=%s\n",
		name, unit, value, baseline, target);
}

/* ---- alloc+free throughput ------------------------------------------ */

#define BATCH	256
#define ROUNDS	200

struct bench_thread {
	struct pmpool *pool;
	struct kmem_cache *cache;
	struct completion start, done;
	u64 ns;
};

/* BATCH allocations then BATCH frees, ROUNDS times; returns elapsed ns. */
static u64 bench_loop(struct pmpool *pool, struct kmem_cache *cache)
{
	u64 *handles = kmalloc_array(BATCH, sizeof(*handles), GFP_KERNEL);
	void **objs = kmalloc_array(BATCH, sizeof(*objs), GFP_KERNEL);
	u64 t0, ns;
	int r, i;

	if (!handles || !objs) {
		ns = U64_MAX;
		goto out;
	}
	t0 = ktime_get_ns();

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < BATCH; i++) {
			if (pool)
				objs[i] = pmpool_alloc(pool, GFP_KERNEL, &handles[i]);
			else
				objs[i] = kmem_cache_alloc(cache, GFP_KERNEL);
			if (objs[i])
				*(u64 *)objs[i] = i;
		}
		for (i = 0; i < BATCH; i++) {
			if (!objs[i])
				continue;
			if (pool)
				pmpool_free(pool, handles[i]);
			else
				kmem_cache_free(cache, objs[i]);
		}
		cond_resched();
	}
	ns = ktime_get_ns() - t0;
out:
	kfree(handles);
	kfree(objs);
	return ns;
}

static int bench_thread_fn(void *arg)
{
	struct bench_thread *t = arg;

	wait_for_completion(&t->start);
	t->ns = bench_loop(t->pool, t->cache);
	complete(&t->done);
	return 0;
}

/* Ops (alloc+free pairs) per second over all online CPUs at once. */
static u64 bench_parallel(struct pmpool *pool, struct kmem_cache *cache)
{
	unsigned int nr = num_online_cpus(), i = 0, cpu;
	struct bench_thread *t;
	u64 max_ns = 0;

	t = kcalloc(nr, sizeof(*t), GFP_KERNEL);
	if (!t)
		return 0;
	for_each_online_cpu(cpu) {
		struct task_struct *k;

		t[i].pool = pool;
		t[i].cache = cache;
		init_completion(&t[i].start);
		init_completion(&t[i].done);
		k = kthread_create_on_cpu(bench_thread_fn, &t[i], cpu, "pmpool_bench/%u");
		if (IS_ERR(k)) {
			kfree(t);
			return 0;
		}
		wake_up_process(k);
		i++;
	}
	for (i = 0; i < nr; i++)
		complete(&t[i].start);
	for (i = 0; i < nr; i++) {
		wait_for_completion(&t[i].done);
		max_ns = max(max_ns, t[i].ns);
	}
	kfree(t);
	return div64_u64((u64)nr * BATCH * ROUNDS * NSEC_PER_SEC, max_ns ?: 1);
}

static void bench_throughput(size_t size)
{
	struct kmem_cache *cache;
	struct pmpool *pool;
	char name[48];
	u64 p_ns, s_ns;

	pool = pmpool_create("bench-tput", size, 0);
	cache = kmem_cache_create("bench_tput", size, 0, 0, NULL);
	if (IS_ERR(pool) || !cache) {
		pr_err("FAIL: cannot create pool or cache for %zu\n", size);
		goto out;
	}
	/* Warm both up so neither pays for its first slabs in the timing. */
	bench_loop(pool, NULL);
	bench_loop(NULL, cache);
	p_ns = bench_loop(pool, NULL);
	s_ns = bench_loop(NULL, cache);
	snprintf(name, sizeof(name), "alloc_free_%zuB_1cpu", size);
	bench_row(name, "kops/s", div64_u64((u64)BATCH * ROUNDS * USEC_PER_SEC, p_ns),
		  div64_u64((u64)BATCH * ROUNDS * USEC_PER_SEC, s_ns), "ratio>=0.8");
	snprintf(name, sizeof(name), "alloc_free_%zuB_%ucpu", size, num_online_cpus());
	bench_row(name, "kops/s", bench_parallel(pool, NULL) / 1000,
		  bench_parallel(NULL, cache) / 1000, "ratio>=0.8");
out:
	if (!IS_ERR(pool))
		pmpool_destroy(pool);
	kmem_cache_destroy(cache);
}

/* ---- metadata overhead ---------------------------------------------- */

static void bench_overhead(size_t size, size_t total)
{
	struct pmpool *pool = pmpool_create("bench-overhead", size, 0);
	struct pmpool_stats st;
	char name[48];
	u64 n, i, h;

	if (IS_ERR(pool))
		return;
	n = total / pmpool_obj_size(pool);
	for (i = 0; i < n; i++)
		if (!pmpool_alloc(pool, GFP_KERNEL, &h))
			break;
	pmpool_get_stats(pool, &st);
	snprintf(name, sizeof(name), "metadata_%zuB", size);
	/* Parts per million of object memory; the baseline is the target. */
	bench_row(name, "ppm", div64_u64(st.meta_bytes * 1000000, st.slab_bytes ?: 1),
		  size == 64 ? 5000 : 0, size == 64 ? "value<=baseline" : "report");
	pmpool_destroy(pool);
}

/* ---- restore against raw KHO folios ---------------------------------- */

#define RAW_ORDER	4	/* the slab order of 64 B and 4 KiB pools */

/*
 * A restore of 64 MiB takes about a millisecond, which under TCG is within
 * the noise of a single measurement: set=all hands over BENCH_REPS copies
 * of each 64 MiB set, and the restore stage times them interleaved with
 * their baselines and reports sums.
 */
#define BENCH_REPS	4

struct bench_set {
	const char *pool;	/* pool name, ".<replica>" appended */
	size_t obj_size;
	unsigned int mib;
	const char *raw;	/* KHO subtree of the raw baseline, or NULL */
	unsigned int reps;	/* copies in set=all */
};

/* Sets timed in round 0, once: the 4 KiB pool and raw pair, the 8 B pool. */
#define BENCH_SET_512M		2
#define BENCH_SET_8B_512M	3

static const struct bench_set bench_sets[] = {
	{ "bench-64B-64M",  64,    64,  NULL,             BENCH_REPS },
	{ "bench-4K-64M",   SZ_4K, 64,  "bench-raw-64M",  BENCH_REPS },
	{ "bench-4K-512M",  SZ_4K, 512, "bench-raw-512M", 1 },
	/*
	 * 67 M objects in the same 8192 slabs, in 547 chunks (beyond what
	 * pmpool-v2 could hand over); set r512 only (memory).
	 */
	{ "bench-8B-512M",  8,     512, NULL,             0 },
};

/* Copies of set @i that stage=fill fills, 0 if none. */
static unsigned int bench_set_reps(int i)
{
	if (!strcmp(set, "all"))
		return bench_sets[i].reps;
	if (!strcmp(set, "q64"))
		return i == 1;
	if (!strcmp(set, "r512"))
		return i == BENCH_SET_512M || i == BENCH_SET_8B_512M;
	return 0;
}

static void bench_name(char *buf, size_t len, const char *base, unsigned int rep)
{
	snprintf(buf, len, "%s.%u", base, rep);
}

#define BENCH_FILL_BATCH	64

static int bench_fill_pool(const char *name, size_t obj_size, unsigned int mib)
{
	struct pmpool *pool = pmpool_create(name, obj_size, 0);
	u64 n = ((u64)mib << 20) / obj_size, i, h[BENCH_FILL_BATCH];
	unsigned int k, nr;

	if (IS_ERR(pool))
		return PTR_ERR(pool);
	for (i = 0; i < n; i += nr) {
		nr = min_t(u64, BENCH_FILL_BATCH, n - i);
		if (pmpool_alloc_bulk(pool, GFP_KERNEL, nr, h))
			return -ENOMEM;
		for (k = 0; k < nr; k++)
			*(u64 *)pmpool_map(pool, h[k]) = h[k];
		cond_resched();
	}
	return 0;
}

/* The baseline's blob (bench-private, not an ABI anyone else reads). */
struct bench_raw_blob {
	u64 nr;
	struct kho_vmalloc list;
};

/* The baseline: the same memory as raw preserved folios. */
static int bench_fill_raw(const char *name, unsigned int mib)
{
	unsigned long n = ((unsigned long)mib << 20) >> (PAGE_SHIFT + RAW_ORDER), i;
	struct bench_raw_blob *blob;
	phys_addr_t *list;
	int err;

	list = vmalloc_array(n, sizeof(*list));
	blob = kho_alloc_preserve(PAGE_SIZE);
	if (!list || IS_ERR(blob))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct folio *folio = folio_alloc(GFP_KERNEL, RAW_ORDER);

		if (!folio)
			return -ENOMEM;
		err = kho_preserve_folio(folio);
		if (err)
			return err;
		list[i] = PFN_PHYS(folio_pfn(folio));
	}
	blob->nr = n;
	err = kho_preserve_vmalloc(list, &blob->list);
	if (err)
		return err;
	return kho_add_subtree(name, blob, sizeof(*blob));
}

/*
 * Restored first and not timed, so that the one-time costs of a boot's
 * first restore (cold caches, first allocations of their sizes) are charged
 * to neither the first timed pool nor the first timed raw baseline.
 */
#define BENCH_WARMUP_POOL	"bench-warmup"
#define BENCH_WARMUP_RAW	"bench-raw-warmup"

static int bench_fill(void)
{
	char name[PMPOOL_NAME_MAX + 1];
	unsigned int r, reps, mib = 0;
	int i, err;

	err = bench_fill_pool(BENCH_WARMUP_POOL, SZ_4K, 1);
	if (!err)
		err = bench_fill_raw(BENCH_WARMUP_RAW, 1);
	for (i = 0; i < ARRAY_SIZE(bench_sets) && !err; i++) {
		const struct bench_set *s = &bench_sets[i];

		reps = bench_set_reps(i);
		for (r = 0; r < reps && !err; r++) {
			bench_name(name, sizeof(name), s->pool, r);
			err = bench_fill_pool(name, s->obj_size, s->mib);
			/* set=q64 is there for the kexec path: no baseline. */
			if (!err && s->raw && strcmp(set, "q64")) {
				bench_name(name, sizeof(name), s->raw, r);
				err = bench_fill_raw(name, s->mib);
			}
		}
		mib += reps * s->mib;
	}
	if (err) {
		pr_err("FAIL: filling set %s: %d\n", set, err);
		return err;
	}
	pr_info("filled set %s: %u MiB in pools\n", set, mib);
	return 0;
}

/*
 * Restore and preserve again the raw folios; returns ns, 0 if absent.
 * Timed like pmpool_restore(): from finding the handed-over metadata (here
 * the subtree and its list of folios) to the memory preserved again.
 */
static u64 bench_restore_raw(const char *name)
{
	const struct bench_raw_blob *blob;
	u64 t0 = ktime_get_ns(), ns;
	struct folio **folios;
	phys_addr_t phys, *list;
	unsigned long i, n;

	if (kho_retrieve_subtree(name, &phys, NULL))
		return 0;
	blob = phys_to_virt(phys);
	n = blob->nr;
	list = kho_restore_vmalloc(&blob->list);
	folios = kvmalloc_array(n, sizeof(*folios), GFP_KERNEL);
	if (!list || !folios)
		return 0;

	for (i = 0; i < n; i++)
		folios[i] = kho_restore_folio(list[i]);
	for (i = 0; i < n; i++)
		if (folios[i] && kho_is_enabled())
			kho_preserve_folio(folios[i]);
	ns = ktime_get_ns() - t0;

	for (i = 0; i < n; i++) {
		if (!folios[i])
			continue;
		if (kho_is_enabled())
			kho_unpreserve_folio(folios[i]);
		folio_put(folios[i]);
	}
	kvfree(folios);
	vfree(list);
	return ns;
}

/* Restore and destroy a pool; returns ns, 0 if absent. */
static u64 bench_restore_pool(const char *name)
{
	u64 t0 = ktime_get_ns(), ns;
	struct pmpool *pool;

	pool = pmpool_restore(name);
	if (IS_ERR(pool))
		return 0;
	ns = ktime_get_ns() - t0;
	pmpool_destroy(pool);
	return ns;
}

/* Time taken, summed over the copies that were there. */
struct bench_sum {
	u64 ns;
	unsigned int n;
};

/* Time copy @r of set @i, its pool (@raw false) or its baseline. */
static void bench_time_one(struct bench_sum *sum, int i, unsigned int r, bool raw)
{
	const char *base = raw ? bench_sets[i].raw : bench_sets[i].pool;
	char name[PMPOOL_NAME_MAX + 1];
	u64 ns;

	if (!base)
		return;
	bench_name(name, sizeof(name), base, r);
	ns = raw ? bench_restore_raw(name) : bench_restore_pool(name);
	if (ns) {
		sum->ns += ns;
		sum->n++;
	}
}

/*
 * Round @r restores copy @r of the 64 MiB sets, the 4 KiB pool, its raw
 * baseline and the 64 B pool one after the other; the order changes from
 * round to round so that each goes first, and before the other, about as
 * often: drift and a cache left warm by the previous restore favour none.
 * The one 512 MiB pair goes in round 0, in the order @reverse sets (make
 * bench alternates it from run to run).
 */
static void bench_round(struct bench_sum *pool, struct bench_sum *raw,
			unsigned int r)
{
	static const struct { int set; bool raw; } job[] = {
		{ 1, false }, { 1, true }, { 0, false },
	};
	static const u8 order[BENCH_REPS][ARRAY_SIZE(job)] = {
		{ 0, 1, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 1, 0, 2 },
	};
	unsigned int k;

	if (!r) {
		const int b = BENCH_SET_512M, e = BENCH_SET_8B_512M;

		if (reverse)
			bench_time_one(&pool[e], e, 0, false);
		bench_time_one(reverse ? &raw[b] : &pool[b], b, 0, reverse);
		bench_time_one(reverse ? &pool[b] : &raw[b], b, 0, !reverse);
		if (!reverse)
			bench_time_one(&pool[e], e, 0, false);
	}
	for (k = 0; k < ARRAY_SIZE(job); k++) {
		int i = job[order[r][k]].set;
		bool is_raw = job[order[r][k]].raw;

		bench_time_one(is_raw ? &raw[i] : &pool[i], i, r, is_raw);
	}
}

static int bench_restore(void)
{
	struct bench_sum pool[ARRAY_SIZE(bench_sets)] = {};
	struct bench_sum raw[ARRAY_SIZE(bench_sets)] = {};
	char row[48];
	unsigned int r;
	int i;

	if (!bench_restore_pool(BENCH_WARMUP_POOL) ||
	    !bench_restore_raw(BENCH_WARMUP_RAW))
		pr_warn("nothing to warm up with\n");
	for (r = 0; r < BENCH_REPS; r++)
		bench_round(pool, raw, r);
	for (i = 0; i < ARRAY_SIZE(bench_sets); i++) {
		if (!pool[i].n || pool[i].n != raw[i].n)
			continue;
		snprintf(row, sizeof(row), "restore_%s", bench_sets[i].pool + 6);
		bench_row(row, "us", div_u64(pool[i].ns, 1000 * pool[i].n),
			  div_u64(raw[i].ns, 1000 * raw[i].n), "ratio<=1.1");
	}
	/* Flat across object sizes: 64 B against 4 KiB objects, same 64 MiB. */
	if (pool[0].n && pool[0].n == pool[1].n)
		bench_row("restore_64M_64B_vs_4K", "us",
			  div_u64(pool[0].ns, 1000 * pool[0].n),
			  div_u64(pool[1].ns, 1000 * pool[1].n), "ratio<=1.1");
	/* The 8 B pool against raw KHO of the same 512 MiB, and against 4 KiB. */
	i = BENCH_SET_8B_512M;
	if (pool[i].n && raw[BENCH_SET_512M].n)
		bench_row("restore_8B-512M", "us", div_u64(pool[i].ns, 1000),
			  div_u64(raw[BENCH_SET_512M].ns, 1000), "ratio<=1.1");
	if (pool[i].n && pool[BENCH_SET_512M].n)
		bench_row("restore_512M_8B_vs_4K", "us", div_u64(pool[i].ns, 1000),
			  div_u64(pool[BENCH_SET_512M].ns, 1000), "ratio<=1.1");
	return 0;
}

static int __init pmpool_bench_init(void)
{
	if (!strcmp(stage, "micro")) {
		static const size_t sizes[] = { 64, 512, SZ_4K };
		static const size_t ovh[] = { 64, 512, SZ_4K, SZ_2M };
		int i;

		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			bench_throughput(sizes[i]);
		for (i = 0; i < ARRAY_SIZE(ovh); i++)
			bench_overhead(ovh[i], ovh[i] == SZ_2M ? SZ_64M : SZ_16M);
		return 0;
	}
	if (!strcmp(stage, "fill"))
		return bench_fill();
	if (!strcmp(stage, "restore"))
		return bench_restore();
	return -EINVAL;
}
module_init(pmpool_bench_init);

static void __exit pmpool_bench_exit(void)
{
}
module_exit(pmpool_bench_exit);

MODULE_DESCRIPTION("pmpool benchmarks");
MODULE_LICENSE("GPL");
