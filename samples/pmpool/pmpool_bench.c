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
 *	same total size) to be handed over at the next kexec.
 *   insmod pmpool_bench.ko stage=restore [reverse=1]
 *	restores what the previous kernel filled and times it against
 *	restoring (and preserving again) the raw folios, then frees it all.
 *	Pools first, smallest objects first; reverse=1 times the raw folios
 *	first and the pools in the opposite order (make bench alternates).
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

struct bench_set {
	const char *pool;	/* pool name */
	size_t obj_size;
	unsigned int mib;
	const char *raw;	/* KHO subtree of the raw baseline, or NULL */
};

static const struct bench_set bench_sets[] = {
	{ "bench-64B-64M",  64,    64,  NULL },
	{ "bench-4K-64M",   SZ_4K, 64,  "bench-raw-64M" },
	{ "bench-4K-512M",  SZ_4K, 512, "bench-raw-512M" },
};

static bool bench_in_set(int i)
{
	if (!strcmp(set, "all"))
		return true;
	if (!strcmp(set, "q64"))
		return i == 1;
	if (!strcmp(set, "r512"))
		return i == 2;
	return false;
}

static int bench_fill_pool(const struct bench_set *s)
{
	struct pmpool *pool = pmpool_create(s->pool, s->obj_size, 0);
	u64 n = ((u64)s->mib << 20) / s->obj_size, i, h;
	void *obj;

	if (IS_ERR(pool))
		return PTR_ERR(pool);
	for (i = 0; i < n; i++) {
		obj = pmpool_alloc(pool, GFP_KERNEL, &h);
		if (!obj)
			return -ENOMEM;
		*(u64 *)obj = h;
		if (!(i % 4096))
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
static int bench_fill_raw(const struct bench_set *s)
{
	unsigned long n = ((unsigned long)s->mib << 20) >> (PAGE_SHIFT + RAW_ORDER), i;
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
	return kho_add_subtree(s->raw, blob, sizeof(*blob));
}

/*
 * Restored first and not timed, so that the one-time costs of a boot's
 * first restore (cold caches, first allocations of their sizes) are charged
 * to neither the first timed pool nor the first timed raw baseline.
 */
static const struct bench_set bench_warmup = {
	"bench-warmup", SZ_4K, 1, "bench-raw-warmup"
};

static int bench_fill(void)
{
	int i, err;

	err = bench_fill_pool(&bench_warmup);
	if (!err)
		err = bench_fill_raw(&bench_warmup);
	if (err) {
		pr_err("FAIL: filling %s: %d\n", bench_warmup.pool, err);
		return err;
	}
	for (i = 0; i < ARRAY_SIZE(bench_sets); i++) {
		if (!bench_in_set(i))
			continue;
		err = bench_fill_pool(&bench_sets[i]);
		if (!err && bench_sets[i].raw)
			err = bench_fill_raw(&bench_sets[i]);
		if (err) {
			pr_err("FAIL: filling %s: %d\n", bench_sets[i].pool, err);
			return err;
		}
		pr_info("filled %s: %u MiB of %zu-byte objects%s\n",
			bench_sets[i].pool, bench_sets[i].mib, bench_sets[i].obj_size,
			bench_sets[i].raw ? " (and the raw baseline)" : "");
	}
	return 0;
}

/* Restore and preserve again the raw folios; returns ns, 0 if absent. */
static u64 bench_restore_raw(const char *name)
{
	const struct bench_raw_blob *blob;
	struct folio **folios;
	phys_addr_t phys, *list;
	unsigned long i, n;
	u64 t0, ns;

	if (kho_retrieve_subtree(name, &phys, NULL))
		return 0;
	blob = phys_to_virt(phys);
	n = blob->nr;
	list = kho_restore_vmalloc(&blob->list);
	folios = kvmalloc_array(n, sizeof(*folios), GFP_KERNEL);
	if (!list || !folios)
		return 0;

	t0 = ktime_get_ns();
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

static void bench_restore_pools(u64 *ns)
{
	int i, j, n = ARRAY_SIZE(bench_sets);

	for (i = 0; i < n; i++) {
		j = reverse ? n - 1 - i : i;
		ns[j] = bench_restore_pool(bench_sets[j].pool);
	}
}

static void bench_restore_raws(u64 *raw)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(bench_sets); i++)
		if (bench_sets[i].raw)
			raw[i] = bench_restore_raw(bench_sets[i].raw);
}

/*
 * Which goes first, the pools or the raw folios, and the order of the pools
 * (one boot's first restore of a kind runs on colder caches) is set by
 * @reverse: make bench alternates it so that neither side always goes first.
 */
static int bench_restore(void)
{
	u64 ns[ARRAY_SIZE(bench_sets)] = {}, raw[ARRAY_SIZE(bench_sets)] = {};
	char row[48];
	int i;

	if (!bench_restore_pool(bench_warmup.pool) ||
	    !bench_restore_raw(bench_warmup.raw))
		pr_warn("nothing to warm up with\n");
	if (reverse) {
		bench_restore_raws(raw);
		bench_restore_pools(ns);
	} else {
		bench_restore_pools(ns);
		bench_restore_raws(raw);
	}
	for (i = 0; i < ARRAY_SIZE(bench_sets); i++) {
		if (!ns[i] || !raw[i])
			continue;
		snprintf(row, sizeof(row), "restore_%s", bench_sets[i].pool + 6);
		bench_row(row, "us", ns[i] / 1000, raw[i] / 1000, "ratio<=1.1");
	}
	/* Flat across object sizes: 64 B against 4 KiB objects, same 64 MiB. */
	if (ns[0] && ns[1])
		bench_row("restore_64M_64B_vs_4K", "us", ns[0] / 1000, ns[1] / 1000,
			  "ratio<=1.1");
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
