// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool kexec-under-load test: one thread per online CPU allocates, frees
 * and rewrites objects of a pool, and one of them keeps replacing the root,
 * while the test kexecs.  The CPUs are stopped wherever they are; the next
 * kernel restores the pool and checks that nothing was lost or half done.
 *
 *   insmod pmpool_test_load.ko mode=start
 *	creates the pool and starts the threads; they run until the kexec.
 *   insmod pmpool_test_load.ko mode=verify [restart=1]
 *	after kexec: restores the pool, checks it, repairs what callers
 *	repair (objects allocated but not yet linked, a torn object) and,
 *	with restart=1, starts the threads again for the next kexec.
 *
 * Layout: the root is a top object naming one directory per CPU; a
 * directory has NR_SLOTS slots of data object handles and the handle of
 * the object its CPU is writing.  A data object carries its own handle, a
 * sequence number, its CPU and a checksum over all of it.  Each thread
 * links an object only after writing it, and unlinks one before freeing
 * it.  What the next kernel may find, and what it must not:
 *  - every linked handle is a live object (never a freed one);
 *  - a linked object's checksum holds, except for the one its CPU was
 *    writing, which may be torn (reported as such);
 *  - objects allocated but linked nowhere: at most one per CPU (a thread
 *    stopped between pmpool_alloc() and the link, or between the unlink
 *    and pmpool_free(), or while replacing the root);
 *  - the pool's counters agree with a walk of its objects.
 * "pmpool_test_load: PASS: ..." or "... FAIL: ..." says how it went.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/crc32.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pmpool.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/bsearch.h>

static char *mode = "start";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "start or verify");
static bool restart;
module_param(restart, bool, 0444);
MODULE_PARM_DESC(restart, "verify: start the threads again afterwards");

#define LOAD_POOL	"test-load"
#define LOAD_MAGIC	0x4c4f4144u	/* "LOAD" */
#define NR_SLOTS	96
#define MAX_CPUS	64
#define PAYLOAD_WORDS	24

struct load_top {
	u32 magic;
	u32 nr_cpus;
	u64 generation;		/* root replacements so far */
	u64 dirs[MAX_CPUS];
};

struct load_dir {
	u32 magic;
	u32 cpu;
	u64 writing;
	u64 ops;		/* operations since the threads last started */
	u64 slots[NR_SLOTS];
};

struct load_obj {
	u64 handle;
	u64 seq;
	u32 cpu;
	u32 csum;
	u64 payload[PAYLOAD_WORDS];
};

#define LOAD_OBJ_SIZE	max3(sizeof(struct load_top), sizeof(struct load_dir), \
			     sizeof(struct load_obj))

static struct pmpool *load_pool;
static struct task_struct *load_threads[MAX_CPUS];
static unsigned int load_nr_cpus;

static u32 load_csum(const struct load_obj *o)
{
	return crc32_le(~0, (const u8 *)o, offsetof(struct load_obj, csum)) ^
	       crc32_le(0, (const u8 *)o->payload, sizeof(o->payload));
}

static void load_fill(struct load_obj *o, u64 handle, u64 seq, u32 cpu)
{
	unsigned int i;

	o->handle = handle;
	o->seq = seq;
	o->cpu = cpu;
	for (i = 0; i < PAYLOAD_WORDS; i++)
		o->payload[i] = seq * 0x9e3779b97f4a7c15ULL + i;
	o->csum = load_csum(o);
}

static bool load_obj_ok(const struct load_obj *o, u64 handle)
{
	return o->handle == handle && o->csum == load_csum(o);
}

/*
 * Write @o under its CPU's "writing" mark: a kexec can stop the CPU
 * anywhere in between, and only the marked object may then be torn.
 */
static void load_write(struct load_dir *dir, struct load_obj *o, u64 h, u64 seq)
{
	WRITE_ONCE(dir->writing, h);
	/* The mark is in memory before the first byte of the object changes. */
	smp_wmb();
	load_fill(o, h, seq, dir->cpu);
	/* The whole object is in memory before the mark goes. */
	smp_wmb();
	WRITE_ONCE(dir->writing, 0);
}

/* Only the thread of CPU 0 replaces the top object: root updates race kexec. */
static void load_swap_root(void)
{
	u64 old = pmpool_get_root(load_pool), h;
	struct load_top *top = pmpool_map(load_pool, old), *new;

	new = pmpool_alloc(load_pool, GFP_KERNEL, &h);
	if (!new || !top) {
		if (new)
			pmpool_free(load_pool, h);
		return;
	}
	*new = *top;	/* the directories never move: the copy is stable */
	new->generation++;
	pmpool_set_root(load_pool, h);
	pmpool_free(load_pool, old);
}

static int load_thread(void *arg)
{
	struct load_dir *dir = arg;
	unsigned long ops = 0;
	struct load_obj *o;
	u64 h, seq = 0;
	u32 i;

	while (!kthread_should_stop()) {
		i = get_random_u32_below(NR_SLOTS);
		h = READ_ONCE(dir->slots[i]);
		if (!h) {
			o = pmpool_alloc(load_pool, GFP_KERNEL, &h);
			if (o) {
				load_write(dir, o, h, ++seq);
				WRITE_ONCE(dir->slots[i], h);
			}
		} else if (get_random_u32_below(2)) {
			load_write(dir, pmpool_map(load_pool, h), h, ++seq);
		} else {
			WRITE_ONCE(dir->slots[i], 0);
			/* Unlinked in memory before the object can be reused. */
			smp_wmb();
			pmpool_free(load_pool, h);
		}
		WRITE_ONCE(dir->ops, dir->ops + 1);
		if (!dir->cpu && !(++ops % 64))
			load_swap_root();
		cond_resched();
	}
	return 0;
}

static int load_start_threads(struct load_top *top)
{
	unsigned int c;

	for (c = 0; c < top->nr_cpus; c++) {
		struct load_dir *dir = pmpool_map(load_pool, top->dirs[c]);
		struct task_struct *t;

		dir->ops = 0;
		t = kthread_create(load_thread, dir, "pmpool_load/%u", c);
		if (IS_ERR(t))
			return PTR_ERR(t);
		kthread_bind(t, c);
		load_threads[c] = t;
	}
	for (c = 0; c < top->nr_cpus; c++)
		wake_up_process(load_threads[c]);
	pr_info("load running on %u CPUs\n", top->nr_cpus);
	return 0;
}

static int load_start(void)
{
	struct load_top *top;
	struct load_dir *dir;
	unsigned int c;
	u64 h;

	load_nr_cpus = num_online_cpus();
	if (load_nr_cpus > MAX_CPUS || !cpumask_full(cpu_online_mask))
		return -EINVAL;
	load_pool = pmpool_create(LOAD_POOL, LOAD_OBJ_SIZE, 0);
	if (IS_ERR(load_pool))
		return PTR_ERR(load_pool);
	top = pmpool_alloc(load_pool, GFP_KERNEL | __GFP_ZERO, &h);
	if (!top)
		return -ENOMEM;
	top->magic = LOAD_MAGIC;
	top->nr_cpus = load_nr_cpus;
	for (c = 0; c < load_nr_cpus; c++) {
		dir = pmpool_alloc(load_pool, GFP_KERNEL | __GFP_ZERO,
				   &top->dirs[c]);
		if (!dir)
			return -ENOMEM;
		dir->magic = LOAD_MAGIC;
		dir->cpu = c;
	}
	pmpool_set_root(load_pool, h);
	return load_start_threads(top);
}

/* Handles that belong somewhere: top, directories, linked data objects. */
struct load_known {
	u64 *h;
	unsigned long n;
};

/* What verification found. */
struct load_census {
	struct load_known known;
	unsigned long objs;	/* live objects found by the walk */
	unsigned long linked;	/* of them, in a directory slot */
	unsigned long torn;	/* linked but half written: their CPU's "writing" */
	unsigned long unlinked;	/* live, but neither top, directory nor linked */
	unsigned long bad;	/* anything that must not happen */
	u64 stray[MAX_CPUS];	/* the first unlinked handles, for the repair */
};

static int load_handle_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int load_walk_fn(struct pmpool *pool, u64 handle, void *obj, void *arg)
{
	struct load_census *c = arg;

	c->objs++;
	if (bsearch(&handle, c->known.h, c->known.n, sizeof(u64),
		    load_handle_cmp))
		return 0;
	if (c->unlinked < MAX_CPUS)
		c->stray[c->unlinked] = handle;
	c->unlinked++;
	return 0;
}

/* Checks one CPU's directory and its linked objects; repairs a torn one. */
static void load_check_dir(struct load_census *census, struct load_top *top,
			   unsigned int c)
{
	struct load_dir *dir = pmpool_map(load_pool, top->dirs[c]);
	struct load_obj *o;
	unsigned int i;
	u64 h;

	if (!dir || dir->magic != LOAD_MAGIC || dir->cpu != c) {
		pr_err("FAIL: directory of CPU %u (%#llx) lost\n", c, top->dirs[c]);
		census->bad++;
		return;
	}
	pr_info("CPU %u: %llu operations before the kexec stopped it\n", c, dir->ops);
	if (!dir->ops) {
		pr_err("FAIL: CPU %u ran no operation: no load at kexec\n", c);
		census->bad++;
	}
	census->known.h[census->known.n++] = top->dirs[c];
	for (i = 0; i < NR_SLOTS; i++) {
		h = dir->slots[i];
		if (!h)
			continue;
		o = pmpool_map(load_pool, h);
		if (!o) {
			pr_err("FAIL: CPU %u slot %u links %#llx, not a live object\n",
			       c, i, h);
			census->bad++;
			continue;
		}
		census->known.h[census->known.n++] = h;
		census->linked++;
		if (load_obj_ok(o, h))
			continue;
		if (h == dir->writing) {
			pr_info("CPU %u was writing %#llx at kexec: torn, rewritten\n",
				c, h);
			census->torn++;
			load_fill(o, h, 0, c);	/* the caller's repair */
		} else {
			pr_err("FAIL: CPU %u slot %u object %#llx is corrupt\n",
			       c, i, h);
			census->bad++;
		}
	}
	dir->writing = 0;
}

static int load_verify(void)
{
	struct load_census *census;
	struct pmpool_stats st;
	struct load_top *top;
	unsigned int c;
	u64 root;
	int err;

	load_pool = pmpool_restore(LOAD_POOL);
	if (IS_ERR(load_pool)) {
		pr_err("FAIL: restore: %ld\n", PTR_ERR(load_pool));
		return PTR_ERR(load_pool);
	}
	root = pmpool_get_root(load_pool);
	top = pmpool_map(load_pool, root);
	if (!top || top->magic != LOAD_MAGIC || !top->nr_cpus ||
	    top->nr_cpus > MAX_CPUS) {
		pr_err("FAIL: root %#llx is not a load top object\n", root);
		return -EINVAL;
	}
	load_nr_cpus = top->nr_cpus;
	census = kzalloc_obj(*census, GFP_KERNEL);
	if (!census)
		return -ENOMEM;
	census->known.h = kcalloc(1 + load_nr_cpus * (1 + NR_SLOTS), sizeof(u64),
				  GFP_KERNEL);
	err = -ENOMEM;
	if (!census->known.h)
		goto out;
	census->known.h[census->known.n++] = root;
	for (c = 0; c < load_nr_cpus; c++)
		load_check_dir(census, top, c);
	sort(census->known.h, census->known.n, sizeof(u64), load_handle_cmp, NULL);
	err = pmpool_walk(load_pool, load_walk_fn, census);
	if (err)
		goto out;
	pmpool_get_stats(load_pool, &st);
	if (st.nr_inuse != census->objs) {
		pr_err("FAIL: pool counts %lu live objects, the walk found %lu\n",
		       st.nr_inuse, census->objs);
		census->bad++;
	}
	if (census->unlinked > load_nr_cpus) {
		pr_err("FAIL: %lu objects allocated but linked nowhere, more than one per CPU (%u)\n",
		       census->unlinked, load_nr_cpus);
		census->bad++;
	}
	pr_info("restored %lu objects: %lu linked, %lu torn (each its CPU's object in writing), %lu allocated but linked nowhere (bound %u), root generation %llu\n",
		census->objs, census->linked, census->torn, census->unlinked,
		load_nr_cpus, top->generation);
	err = -EINVAL;
	if (census->bad) {
		pr_err("FAIL: %lu inconsistencies after kexec under load\n",
		       census->bad);
		goto out;
	}
	pr_info("PASS: allocator state consistent after kexec under load\n");

	/* The caller's repair: free what it allocated but never linked. */
	for (c = 0; c < census->unlinked; c++)
		pmpool_free(load_pool, census->stray[c]);
	err = restart ? load_start_threads(top) : 0;
out:
	kfree(census->known.h);
	kfree(census);
	return err;
}

static int __init pmpool_test_load_init(void)
{
	if (!strcmp(mode, "start"))
		return load_start();
	if (!strcmp(mode, "verify"))
		return load_verify();
	pr_err("FAIL: unknown mode '%s'\n", mode);
	return -EINVAL;
}
module_init(pmpool_test_load_init);

MODULE_DESCRIPTION("pmpool kexec-under-load test");
MODULE_LICENSE("GPL");
