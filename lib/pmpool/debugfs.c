// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool debugfs: /sys/kernel/debug/pmpool/
 *
 *   pools    one line per pool of this kernel and per pool received from the
 *            previous kernel that was not restored yet, with its memory
 *   discard  write a received pool's name to give its memory back
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) "pmpool: " fmt

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pmpool_internal.h"

static unsigned long pmpool_incoming_meta_bytes(const struct pmpool_incoming *in)
{
	return PMPOOL_ABI_DESC_SIZE + (unsigned long)in->nr_tables * PMPOOL_ABI_TABLE_SIZE +
	       (unsigned long)in->nr_chunks * PMPOOL_CHUNK_SIZE;
}

static int pmpool_pools_show(struct seq_file *m, void *v)
{
	struct pmpool_incoming *in;
	struct pmpool *pool;

	seq_puts(m, "# name state obj_size slab_order slabs objects slab_bytes meta_bytes\n");
	mutex_lock(&pmpool_mutex);
	list_for_each_entry(pool, &pmpool_pools, list) {
		struct pmpool_stats st;

		pmpool_get_stats(pool, &st);
		seq_printf(m, "%s %s%s %u %u %lu %lu %llu %llu\n", pool->name,
			   pool->persistent ? "persistent" : "volatile",
			   pool->restored ? ",restored" : "",
			   pool->geo.obj_size, pool->geo.slab_order, st.nr_slabs,
			   st.nr_inuse, st.slab_bytes, st.meta_bytes);
	}
	list_for_each_entry(in, &pmpool_incoming_pools, list) {
		if (in->error) {
			seq_printf(m, "%s refused 0 0 0 0 0 0 # %s\n", in->name,
				   in->error);
			continue;
		}
		seq_printf(m, "%s incoming %u %u %lu %lu %lu %lu\n", in->name,
			   in->geo.obj_size, in->geo.slab_order, in->nr_slabs,
			   in->nr_inuse,
			   in->nr_slabs << (PAGE_SHIFT + in->geo.slab_order),
			   pmpool_incoming_meta_bytes(in));
	}
	mutex_unlock(&pmpool_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmpool_pools);

static ssize_t pmpool_discard_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char name[PMPOOL_ABI_NAME_MAX + 1];
	int err;

	if (len > PMPOOL_ABI_NAME_MAX)
		return -EINVAL;
	if (copy_from_user(name, ubuf, len))
		return -EFAULT;
	name[len] = '\0';
	err = pmpool_discard(strim(name));
	return err ? err : len;
}

static const struct file_operations pmpool_discard_fops = {
	.owner = THIS_MODULE,
	.write = pmpool_discard_write,
};

/* The handover formats: the one written, the ones read. */
static int pmpool_abi_show(struct seq_file *m, void *v)
{
	seq_printf(m, "writes %s\nreads %s\n", pmpool_abi_compat,
		   pmpool_abi_reads());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmpool_abi);

struct dentry *pmpool_debugfs_dir;

void __init pmpool_debugfs_init(void)
{
	/* Without debugfs pmpool works the same, only less visibly. */
	pmpool_debugfs_dir = debugfs_create_dir("pmpool", NULL);
	debugfs_create_file("pools", 0400, pmpool_debugfs_dir, NULL,
			    &pmpool_pools_fops);
	debugfs_create_file("discard", 0200, pmpool_debugfs_dir, NULL,
			    &pmpool_discard_fops);
	debugfs_create_file("abi", 0444, pmpool_debugfs_dir, NULL,
			    &pmpool_abi_fops);
	pmpool_fault_debugfs_init(pmpool_debugfs_dir);
}
