// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool test hooks: damage this kernel's outgoing handover on purpose, so
 * that a test can check that the next kernel refuses it cleanly.  Built only
 * into test kernels (CONFIG_PMPOOL_TEST_HOOKS); never enable in production.
 *
 *   echo "<case> [<pool>]" > /sys/kernel/debug/pmpool/corrupt
 *
 * Cases damaging the whole directory: compat, truncate.
 * Cases damaging one pool: magic, slab-outside, overlap, count (the chunk
 * count understated by one: the last chunk's slabs would be lost), busy
 * (a slab with objects named as being added), root-free, name-nul, and
 * these that name memory KHO did not preserve as described:
 * desc-unpreserved, table-unpreserved, chunk-unpreserved, slab-unpreserved
 * (the block moved to a copy that is not preserved), slab-order (the slab
 * moved to a preserved block of a larger order), dup-name (an impostor
 * pool of the same name, listed first, with a valid preserved descriptor).  The damage is done in
 * place, in preserved memory; the caller kexecs right after (this kernel's
 * own view of the pool is not updated).
 *
 * /sys/kernel/debug/pmpool/slabs lists "<pool> <slab> <phys> <order>" for
 * every slab of every pool, so that a test can follow pool memory into a
 * kernel that knows nothing of pmpool.
 *
 * With "pmpool.test_abi_bump=1" on the command line the kernel writes and
 * accepts the directory as a build with the next ABI version would
 * ("pmpool-v<N+1>"): version skew in both directions, without a second
 * build.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) "pmpool: " fmt

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kexec_handover.h>
#include <linux/kstrtox.h>
#include <linux/libfdt.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pmpool_internal.h"

/* Built in: pmpool.<param> on the command line, parsed before initcalls. */
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "pmpool."

static struct pmpool *pmpool_test_find(const char *name)
{
	struct pmpool *pool;

	list_for_each_entry(pool, &pmpool_pools, list)
		if (!strcmp(pool->name, name))
			return pool;
	return NULL;
}

/* The record of the @nth slab of @pool in slab-number order, or NULL. */
static struct pmpool_slab_ser *pmpool_test_rec(struct pmpool *pool, int nth)
{
	struct pmpool_slab_ser *rec;
	unsigned long s;

	for (s = 0; (rec = pmpool_rec_next(pool, &s)); s++)
		if (!nth--)
			return rec;
	return NULL;
}

/* The node of @pool in the outgoing directory, or a negative FDT error. */
static int pmpool_test_node(struct pmpool *pool, void **fdt)
{
	char node_name[16];
	phys_addr_t phys;
	size_t size;

	if (pmpool_fdt_out_get(&phys, &size))
		return -FDT_ERR_NOTFOUND;
	*fdt = phys_to_virt(phys);
	snprintf(node_name, sizeof(node_name), "pool@%x", pool->tag);
	return fdt_subnode_offset(*fdt, 0, node_name);
}

/* A copy of the block at @phys, in memory that is not preserved. */
static phys_addr_t pmpool_test_copy(phys_addr_t phys, unsigned int order)
{
	struct folio *folio = folio_alloc(GFP_KERNEL, order);

	if (!folio)
		return 0;
	memcpy(folio_address(folio), phys_to_virt(phys), PAGE_SIZE << order);
	return PFN_PHYS(folio_pfn(folio));	/* leaked on purpose: kexec next */
}

static int pmpool_test_unpreserved(const char *what, struct pmpool *pool)
{
	struct pmpool_slab_ser *s0 = pmpool_test_rec(pool, 0);
	unsigned int order = pool->geo.slab_order;
	phys_addr_t phys;
	void *fdt, *blk;
	int node;

	if (!strcmp(what, "desc-unpreserved")) {
		node = pmpool_test_node(pool, &fdt);
		phys = pmpool_test_copy(virt_to_phys(pool->desc), 0);
		if (node < 0 || !phys)
			return -ENOENT;
		return fdt_setprop_inplace_u64(fdt, node, PMPOOL_ABI_PROP_DESC,
					       phys) ? -EIO : 0;
	}
	if (!pool->desc->nr_chunks)
		return -ENOENT;
	if (!strcmp(what, "table-unpreserved")) {
		phys = pmpool_test_copy(pool->desc->table, 0);
		if (!phys)
			return -ENOMEM;
		pool->desc->table = phys;
		return 0;
	}
	if (!strcmp(what, "chunk-unpreserved")) {
		struct pmpool_table_ser *table = phys_to_virt(pool->desc->table);

		phys = pmpool_test_copy(table->chunks[0], PMPOOL_ABI_CHUNK_ORDER);
		if (!phys)
			return -ENOMEM;
		table->chunks[0] = phys;
		return 0;
	}
	if (!s0)
		return -ENOENT;
	if (!strcmp(what, "slab-unpreserved")) {
		phys = pmpool_test_copy(s0->phys, order);
		if (!phys)
			return -ENOMEM;
		s0->phys = phys;
		return 0;
	}
	/* slab-order: a preserved block, but of twice the slab's size. */
	if (order >= MAX_PAGE_ORDER)
		return -EINVAL;
	blk = kho_alloc_preserve(PAGE_SIZE << (order + 1));
	if (IS_ERR(blk))
		return PTR_ERR(blk);
	memcpy(blk, phys_to_virt(s0->phys), PAGE_SIZE << order);
	s0->phys = virt_to_phys(blk);
	return 0;
}

/*
 * An impostor of @pool: same name and geometry, another tag, an empty but
 * valid descriptor in a preserved page, listed before the genuine pool
 * (libfdt adds a node as its parent's first child).
 */
static int pmpool_test_impostor(struct pmpool *pool)
{
	struct pmpool_desc_ser *desc;
	phys_addr_t phys;
	size_t size;
	void *fdt;
	int node;

	if (pmpool_fdt_out_get(&phys, &size))
		return -ENOENT;
	fdt = phys_to_virt(phys);
	desc = kho_alloc_preserve(PMPOOL_ABI_DESC_SIZE);
	if (IS_ERR(desc))
		return PTR_ERR(desc);
	memcpy(desc, pool->desc, sizeof(*desc));
	desc->nr_chunks = 0;
	desc->root = 0;
	desc->nr_slabs = 0;
	desc->busy_slab = 0;
	desc->table = 0;
	if (fdt_open_into(fdt, fdt, size))
		return -EIO;
	node = fdt_add_subnode(fdt, 0, "pool@ffff");
	if (node < 0 ||
	    fdt_setprop_string(fdt, node, PMPOOL_ABI_PROP_NAME, pool->name) ||
	    fdt_setprop_u32(fdt, node, PMPOOL_ABI_PROP_TAG, PMPOOL_ABI_TAG_MAX) ||
	    fdt_setprop_u32(fdt, node, PMPOOL_ABI_PROP_OBJ_SIZE, pool->geo.obj_size) ||
	    fdt_setprop_u32(fdt, node, PMPOOL_ABI_PROP_SLAB_ORDER, pool->geo.slab_order) ||
	    fdt_setprop_u32(fdt, node, PMPOOL_ABI_PROP_FLAGS, pool->geo.flags) ||
	    fdt_setprop_u32(fdt, node, PMPOOL_ABI_PROP_NODE, (u32)NUMA_NO_NODE) ||
	    fdt_setprop_u64(fdt, node, PMPOOL_ABI_PROP_DESC, virt_to_phys(desc)))
		return -EIO;
	return 0;
}

/*
 * "slab-outside" and "overlap" rewrite records that this kernel reads too
 * (a slab's address is its record's): the tests kexec right after.
 */
static int pmpool_test_damage_pool(const char *what, struct pmpool *pool)
{
	struct pmpool_slab_ser *s0 = pmpool_test_rec(pool, 0);
	struct pmpool_slab_ser *s1 = pmpool_test_rec(pool, 1);
	phys_addr_t fdt_phys;
	size_t fdt_size;
	int node;

	if (!strcmp(what, "magic")) {
		pool->desc->magic ^= 1;
	} else if (!strcmp(what, "slab-outside") && s0) {
		s0->phys = 1ULL << 51;
	} else if (!strcmp(what, "overlap") && s0 && s1) {
		s1->phys = s0->phys;
	} else if (!strcmp(what, "count")) {
		if (!pool->desc->nr_chunks)
			return -ENOENT;
		pool->desc->nr_chunks--;
	} else if (!strcmp(what, "busy")) {
		unsigned long index = 0;

		/* The first slab, which holds objects: not being added. */
		if (!s0 || bitmap_empty((unsigned long *)s0->bitmap,
					pool->geo.objs_per_slab) ||
		    !pmpool_rec_next(pool, &index))
			return -ENOENT;
		pool->desc->busy_slab = index + 1;
		pool->desc->nr_slabs--;
	} else if (!strcmp(what, "root-free")) {
		struct pmpool_slab_ser *rec;
		unsigned long index;
		unsigned int i;

		/* A free object in a slab that exists: the subtlest bad root. */
		for (index = 0; (rec = pmpool_rec_next(pool, &index)); index++) {
			i = find_first_zero_bit((unsigned long *)rec->bitmap,
						pool->geo.objs_per_slab);
			if (i < pool->geo.objs_per_slab) {
				pool->desc->root = pmpool_handle_make(pool->tag,
								      index, i);
				return 0;
			}
		}
		return -ENOSPC;
	} else if (!strcmp(what, "desc-unpreserved") ||
		   !strcmp(what, "chunk-unpreserved") ||
		   !strcmp(what, "table-unpreserved") ||
		   !strcmp(what, "slab-unpreserved") || !strcmp(what, "slab-order")) {
		return pmpool_test_unpreserved(what, pool);
	} else if (!strcmp(what, "dup-name")) {
		return pmpool_test_impostor(pool);
	} else if (!strcmp(what, "name-nul")) {
		void *fdt;
		char node_name[16];
		const char *p;
		int len;

		if (pmpool_fdt_out_get(&fdt_phys, &fdt_size))
			return -ENOENT;
		fdt = phys_to_virt(fdt_phys);
		snprintf(node_name, sizeof(node_name), "pool@%x", pool->tag);
		node = fdt_subnode_offset(fdt, 0, node_name);
		if (node < 0)
			return -ENOENT;
		p = fdt_getprop(fdt, node, PMPOOL_ABI_PROP_NAME, &len);
		if (!p || len < 1)
			return -ENOENT;
		((char *)p)[len - 1] = 'X';
	} else {
		return -EINVAL;
	}
	return 0;
}

static int pmpool_test_damage_dir(const char *what)
{
	phys_addr_t fdt_phys;
	size_t fdt_size;
	void *fdt;
	char *compat;
	int len;

	if (pmpool_fdt_out_get(&fdt_phys, &fdt_size))
		return -ENOENT;
	fdt = phys_to_virt(fdt_phys);
	if (!strcmp(what, "compat")) {
		compat = (char *)fdt_getprop(fdt, 0, "compatible", &len);
		if (!compat || len < 2)
			return -ENOENT;
		compat[len - 2] = '0';	/* "pmpool-vN" -> "pmpool-v0" */
	} else if (!strcmp(what, "truncate")) {
		fdt_set_totalsize(fdt, fdt_size + PAGE_SIZE);
	} else {
		return -EINVAL;
	}
	return 0;
}

static ssize_t pmpool_corrupt_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char buf[64], *what, *name;
	struct pmpool *pool;
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	name = strim(buf);
	what = strsep(&name, " ");
	mutex_lock(&pmpool_mutex);
	if (!name) {
		err = pmpool_test_damage_dir(what);
	} else {
		pool = pmpool_test_find(strim(name));
		err = -ENOENT;
		if (pool) {
			/* No slab comes or goes while we pick one. */
			mutex_lock(&pool->grow_lock);
			err = pmpool_test_damage_pool(what, pool);
			mutex_unlock(&pool->grow_lock);
		}
	}
	mutex_unlock(&pmpool_mutex);
	if (!err)
		pr_warn("test hook: outgoing handover damaged (%s%s%s)\n", what,
			name ? " " : "", name ?: "");
	return err ?: len;
}

static const struct file_operations pmpool_corrupt_fops = {
	.owner = THIS_MODULE,
	.write = pmpool_corrupt_write,
};

static int pmpool_slabs_show(struct seq_file *m, void *v)
{
	struct pmpool_slab_ser *rec;
	struct pmpool *pool;
	unsigned long index;

	mutex_lock(&pmpool_mutex);
	list_for_each_entry(pool, &pmpool_pools, list) {
		mutex_lock(&pool->grow_lock);
		for (index = 0; (rec = pmpool_rec_next(pool, &index)); index++)
			seq_printf(m, "%s %lu %#llx %u\n", pool->name, index,
				   (u64)rec->phys, pool->geo.slab_order);
		mutex_unlock(&pool->grow_lock);
	}
	mutex_unlock(&pmpool_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmpool_slabs);

static char pmpool_test_compat[16];

static int pmpool_test_abi_bump_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	bool bump;
	int err;

	err = kstrtobool(val, &bump);
	if (err || !bump)
		return err;
	if (sscanf(PMPOOL_ABI_COMPATIBLE, "pmpool-v%u", &v) != 1)
		return -EINVAL;
	snprintf(pmpool_test_compat, sizeof(pmpool_test_compat), "pmpool-v%u",
		 v + 1);
	pmpool_abi_compat = pmpool_test_compat;
	pr_warn("test hook: this kernel speaks %s\n", pmpool_abi_compat);
	return 0;
}

static const struct kernel_param_ops pmpool_test_abi_bump_ops = {
	.set = pmpool_test_abi_bump_set,
};

module_param_cb(test_abi_bump, &pmpool_test_abi_bump_ops, NULL, 0);
MODULE_PARM_DESC(test_abi_bump, "write and accept the next ABI version (tests only)");

static int __init pmpool_test_hooks_init(void)
{
	debugfs_create_file("corrupt", 0200, pmpool_debugfs_dir, NULL,
			    &pmpool_corrupt_fops);
	debugfs_create_file("slabs", 0400, pmpool_debugfs_dir, NULL,
			    &pmpool_slabs_fops);
	return 0;
}
late_initcall(pmpool_test_hooks_init);
