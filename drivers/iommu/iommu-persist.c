// SPDX-License-Identifier: GPL-2.0
/*
 * iommu-persist: IOMMU domains whose DMA translation survives kexec.
 *
 * Copyright (C) 2026 The pmpool authors
 */

/**
 * DOC: iommu-persist
 *
 * A driver that owns a paging domain for its device can make it
 * persistent: iommu_persist_domain_alloc() allocates the domain, attaches
 * it to the device and hands it over at every kexec until
 * iommu_persist_domain_free().  After kexec, iommu_persist_restore() gives
 * the driver the domain back, attached, with every mapping in place, and
 * iommu_map()/iommu_unmap() keep working on it.  The device may keep doing
 * DMA through its mappings the whole time, the kexec included.
 *
 * What is preserved: the domain's page-table pages, which come from a
 * pmpool (``"iopt:<name>"``) from the start, so nothing is walked or copied
 * at kexec; the IOMMU unit's root table and the context table of the
 * device's bus; the domain ID.  The IOMMU unit keeps translating and the
 * device keeps bus mastering across the kexec.  The next kernel adopts the
 * preserved tables in place instead of disabling translation, clears the
 * context entries of every device that was not persisted, and keeps the
 * persisted device's context entry untouched until its driver restores it.
 *
 * What is not preserved: IOVA allocators, mappings of non-persistent
 * domains, devices that were not persisted (their DMA is blocked: bus
 * mastering off in the old kernel, context entries cleared in the new one),
 * fault handlers, PASIDs and nested domains.  Only second-stage domains of
 * Intel VT-d units in legacy (non-scalable) mode are supported for now.
 *
 * If the next kernel cannot take the state over (other version, corrupt
 * state), it blocks the DMA of the devices behind the unit (bus mastering
 * off), then reinitialises the unit as without a handover, and discards the
 * page-table pools.  A kernel without iommu-persist cannot do that: see
 * Documentation/driver-api/iommu-persist.rst before kexec'ing into one.
 *
 * Driver interface: an IOMMU driver registers a &struct iommu_persist_driver
 * and allocates the tables of persistent domains with
 * iommu_persist_table_alloc() (via &pt_iommu_driver_ops.alloc_table).  At
 * boot it asks iommu_persist_incoming() which devices of a unit were handed
 * over, and either adopts the unit's tables or calls iommu_persist_refuse().
 */

#define pr_fmt(fmt) "iommu-persist: " fmt

#include <linux/debugfs.h>
#include <linux/iommu.h>
#include <linux/iommu-persist.h>
#include <linux/kexec.h>
#include <linux/kexec_handover.h>
#include <linux/kho/abi/iommu_persist.h>
#include <linux/libfdt.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pmpool.h>
#include <linux/reboot.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "iommu-pages.h"

#define IOMMU_PERSIST_FDT_SIZE		SZ_16K
/* Objects kept free for iommu_map(..., GFP_ATOMIC). */
#define IOMMU_PERSIST_RESERVE		32

static_assert(IOMMU_PERSIST_NAME_MAX + 1 == IOMMU_PERSIST_ABI_NAME_MAX);

/**
 * struct iommu_persist_domain - a persistent domain of this kernel
 * @list:      on iommu_persist_domains.
 * @name:      the key for iommu_persist_restore().
 * @dev:       the device the domain is attached to.
 * @domain:    the domain.
 * @pool:      its page-table pages.
 * @adopt_top: while restoring, the preserved top-level table, returned by
 *             the first table allocation instead of a new table.
 * @st:        what the next kernel gets.
 */
struct iommu_persist_domain {
	struct list_head list;
	char name[IOMMU_PERSIST_NAME_MAX + 1];
	struct device *dev;
	struct iommu_domain *domain;
	struct pmpool *pool;
	void *adopt_top;
	struct iommu_persist_dev_state st;
};

/*
 * A device handed over by the previous kernel, not yet restored.  Its
 * page-table pool is pinned (pmpool_pin()) from the moment the handover is
 * parsed until the device is restored or known to be blocked: until then
 * the IOMMU may be walking those tables for it.
 */
struct iommu_persist_incoming {
	struct list_head list;
	char name[IOMMU_PERSIST_NAME_MAX + 1];
	bool pinned;
	struct iommu_persist_dev_state st;
};

/*
 * iommu_persist_mutex protects the domains of this kernel and is held while
 * attaching them (group->mutex nests inside).  The incoming state has its
 * own lock, taken by IOMMU drivers under their own locks at boot (VT-d:
 * dmar_global_lock); it nests inside iommu_persist_mutex, never around it.
 */
static DEFINE_MUTEX(iommu_persist_mutex);
static DEFINE_MUTEX(iommu_persist_in_mutex);
static LIST_HEAD(iommu_persist_domains);
static LIST_HEAD(iommu_persist_incoming_devs);
/*
 * Domains whose restore failed after their pool was restored: the device
 * was blocked, and the tables are kept until the driver sets the device up
 * afresh under the same name (iommu_persist_domain_alloc()).
 */
static LIST_HEAD(iommu_persist_blocked);
static const struct iommu_persist_driver *iommu_persist_drv;
static void *iommu_persist_fdt_out;
/* Set by the reboot notifier: the handed-over tree is never rewritten again. */
static bool iommu_persist_frozen;

#ifdef CONFIG_IOMMU_PERSIST_TEST_HOOKS
/*
 * Test-only: "iommu_persist.test_fail_restore=<step>" makes every restore
 * fail at that step (pool, root, reserve, domain), to show what the device
 * and its tables go through on each failure path.
 */
static char iommu_persist_test_fail[16];
module_param_string(test_fail_restore, iommu_persist_test_fail,
		    sizeof(iommu_persist_test_fail), 0644);
MODULE_PARM_DESC(test_fail_restore, "fail restores at this step (tests only)");

static bool iommu_persist_fail(const char *step)
{
	if (strcmp(iommu_persist_test_fail, step))
		return false;
	pr_warn("test hook: restore fails at step '%s'\n", step);
	return true;
}
#else
static bool iommu_persist_fail(const char *step)
{
	return false;
}
#endif
static void *iommu_persist_fdt_scratch;
/* The previous kernel handed state over (valid or not). */
static bool iommu_persist_received;
/* The handover was refused as a whole (header or a node is bad). */
static const char *iommu_persist_incoming_error;

/* ---- outgoing state ---------------------------------------------------- */

static int iommu_persist_fdt_add_dev(void *fdt, struct iommu_persist_domain *pd)
{
	const struct iommu_persist_dev_state *st = &pd->st;
	char node[16];
	int err;

	snprintf(node, sizeof(node), "dev@%x", st->sbdf);
	err = fdt_begin_node(fdt, node);
	err |= fdt_property_string(fdt, IOMMU_PERSIST_ABI_PROP_NAME, pd->name);
	err |= fdt_property_string(fdt, IOMMU_PERSIST_ABI_PROP_DRIVER,
				   iommu_persist_drv->name);
	err |= fdt_property_u32(fdt, IOMMU_PERSIST_ABI_PROP_SBDF, st->sbdf);
	err |= fdt_property_u64(fdt, IOMMU_PERSIST_ABI_PROP_UNIT, st->unit);
	err |= fdt_property_u32(fdt, IOMMU_PERSIST_ABI_PROP_DID, st->did);
	err |= fdt_property_u64(fdt, IOMMU_PERSIST_ABI_PROP_TOP, st->top);
	err |= fdt_property_u32(fdt, IOMMU_PERSIST_ABI_PROP_FORMAT, st->format);
	err |= fdt_property_u64(fdt, IOMMU_PERSIST_ABI_PROP_ROOT, st->root);
	err |= fdt_property_u64(fdt, IOMMU_PERSIST_ABI_PROP_CONTEXT, st->context);
	err |= fdt_end_node(fdt);
	return err;
}

/*
 * Rewrite the handed-over tree from the list of persistent domains.  Built
 * aside and copied in one go, like the pmpool directory.
 */
static int iommu_persist_update(void)
{
	void *fdt = iommu_persist_fdt_scratch;
	struct iommu_persist_domain *pd;
	int err;

	lockdep_assert_held(&iommu_persist_mutex);
	if (!iommu_persist_fdt_out)
		return 0;
	if (iommu_persist_frozen)
		return -EBUSY;
	err = fdt_create(fdt, IOMMU_PERSIST_FDT_SIZE);
	err |= fdt_finish_reservemap(fdt);
	err |= fdt_begin_node(fdt, "");
	err |= fdt_property_string(fdt, "compatible",
				   IOMMU_PERSIST_ABI_COMPATIBLE);
	list_for_each_entry(pd, &iommu_persist_domains, list)
		err |= iommu_persist_fdt_add_dev(fdt, pd);
	err |= fdt_end_node(fdt);
	err |= fdt_finish(fdt);
	if (err)
		return -ENOSPC;
	memcpy(iommu_persist_fdt_out, fdt, fdt_totalsize(fdt));
	return 0;
}

/* ---- incoming state ---------------------------------------------------- */

/* One page of System RAM with a struct page: safe to read. */
static bool iommu_persist_page_ok(u64 phys)
{
	return phys && PAGE_ALIGNED(phys) &&
	       pfn_to_online_page(PHYS_PFN(phys)) &&
	       region_intersects(phys, PAGE_SIZE, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) == REGION_INTERSECTS;
}

/* The pmpool holding the page tables of the domain named @name. */
static void iommu_persist_pool_name(char *pool, const char *name)
{
	snprintf(pool, PMPOOL_NAME_MAX + 1, IOMMU_PERSIST_ABI_POOL_PREFIX "%s", name);
}

/* Forget an incoming device whose DMA cannot reach its tables any more. */
static void iommu_persist_incoming_release(struct iommu_persist_incoming *in)
{
	char pool[PMPOOL_NAME_MAX + 1];

	lockdep_assert_held(&iommu_persist_in_mutex);
	if (in->pinned) {
		iommu_persist_pool_name(pool, in->name);
		pmpool_pin(pool, false);
	}
	list_del(&in->list);
	kfree(in);
}

/* A big-endian u32 or u64 property of exactly that size. */
static int iommu_persist_fdt_uint(const void *fdt, int node, const char *name,
				  void *val, int size)
{
	const void *p;
	int len;

	p = fdt_getprop(fdt, node, name, &len);
	if (!p || len != size)
		return -EINVAL;
	if (size == sizeof(u32))
		*(u32 *)val = fdt32_to_cpu(*(const fdt32_t *)p);
	else
		*(u64 *)val = fdt64_to_cpu(*(const fdt64_t *)p);
	return 0;
}

/* Validate one device node into @in; returns the reason it is bad or NULL. */
static const char *iommu_persist_parse_dev(const void *fdt, int node,
					   struct iommu_persist_incoming *in)
{
	struct iommu_persist_dev_state *st = &in->st;
	const struct {
		const char *name;
		void *val;
		int size;
	} props[] = {
		{ IOMMU_PERSIST_ABI_PROP_SBDF, &st->sbdf, sizeof(st->sbdf) },
		{ IOMMU_PERSIST_ABI_PROP_UNIT, &st->unit, sizeof(st->unit) },
		{ IOMMU_PERSIST_ABI_PROP_DID, &st->did, sizeof(st->did) },
		{ IOMMU_PERSIST_ABI_PROP_TOP, &st->top, sizeof(st->top) },
		{ IOMMU_PERSIST_ABI_PROP_FORMAT, &st->format, sizeof(st->format) },
		{ IOMMU_PERSIST_ABI_PROP_ROOT, &st->root, sizeof(st->root) },
		{ IOMMU_PERSIST_ABI_PROP_CONTEXT, &st->context, sizeof(st->context) },
	};
	const char *name, *driver;
	int i, len;

	name = fdt_getprop(fdt, node, IOMMU_PERSIST_ABI_PROP_NAME, &len);
	if (!name || len < 2 || len > IOMMU_PERSIST_ABI_NAME_MAX ||
	    strnlen(name, len) != len - 1)
		return "device name missing, too long or not NUL-terminated";
	strscpy(in->name, name);
	driver = fdt_getprop(fdt, node, IOMMU_PERSIST_ABI_PROP_DRIVER, &len);
	if (!driver || len < 1 || strnlen(driver, len) != len - 1)
		return "driver missing";
	if (!iommu_persist_drv || strcmp(driver, iommu_persist_drv->name))
		return "state of an IOMMU driver this kernel does not have";
	for (i = 0; i < ARRAY_SIZE(props); i++)
		if (iommu_persist_fdt_uint(fdt, node, props[i].name, props[i].val,
					   props[i].size))
			return "property missing or of the wrong size";
	if (st->did > U16_MAX)
		return "domain ID out of range";
	if (!iommu_persist_page_ok(st->top) || !iommu_persist_page_ok(st->root) ||
	    !iommu_persist_page_ok(st->context))
		return "table outside RAM or misaligned";
	return NULL;
}

/* Parse the previous kernel's tree; any bad part refuses all of it. */
static int iommu_persist_parse(const void *fdt, size_t size)
{
	struct iommu_persist_incoming *in, *other;
	const char *compat, *error = NULL;
	int node;

	if (size < sizeof(struct fdt_header) || fdt_check_header(fdt) ||
	    fdt_totalsize(fdt) > size) {
		error = "not a valid FDT";
		goto refuse;
	}
	compat = fdt_getprop(fdt, 0, "compatible", NULL);
	if (!compat || strcmp(compat, IOMMU_PERSIST_ABI_COMPATIBLE)) {
		error = "not compatible with " IOMMU_PERSIST_ABI_COMPATIBLE;
		goto refuse;
	}
	fdt_for_each_subnode(node, fdt, 0) {
		in = kzalloc_obj(*in, GFP_KERNEL);
		if (!in) {
			error = "out of memory";
			goto refuse;
		}
		list_add_tail(&in->list, &iommu_persist_incoming_devs);
		error = iommu_persist_parse_dev(fdt, node, in);
		/* Named, so its tables may be live: pinned even if refused. */
		if (in->name[0]) {
			char pool[PMPOOL_NAME_MAX + 1];

			iommu_persist_pool_name(pool, in->name);
			in->pinned = !pmpool_pin(pool, true);
		}
		if (error)
			goto refuse;
		list_for_each_entry(other, &iommu_persist_incoming_devs, list) {
			if (other == in)
				continue;
			if (other->st.sbdf == in->st.sbdf ||
			    !strcmp(other->name, in->name)) {
				error = "device or name handed over twice";
				goto refuse;
			}
			if (other->st.unit == in->st.unit &&
			    other->st.root != in->st.root) {
				error = "two root tables for one unit";
				goto refuse;
			}
		}
	}
	return 0;

refuse:
	iommu_persist_incoming_error = error;
	pr_err("refusing handover: %s\n", error);
	return -EINVAL;
}

/**
 * iommu_persist_incoming() - devices of an IOMMU unit handed over to us
 * @unit: the unit's register base.
 * @st:   filled with up to @max devices.
 * @max:  room in @st.
 *
 * For IOMMU drivers, at boot, for a unit they find translating.  The states
 * returned were checked for form (fields in range, tables in RAM); the
 * driver checks them against its hardware and either adopts the unit's
 * tables or calls iommu_persist_refuse().
 *
 * Context: process context, before the unit's devices are attached.
 * Return: the number of devices (0 if the handover has none for @unit),
 * -ENOENT if the previous kernel handed nothing over, -EINVAL if its
 * handover was refused, or -E2BIG if @max is too small.
 */
int iommu_persist_incoming(u64 unit, struct iommu_persist_dev_state *st,
			   int max)
{
	struct iommu_persist_incoming *in;
	int n = 0;

	guard(mutex)(&iommu_persist_in_mutex);
	if (iommu_persist_incoming_error)
		return -EINVAL;
	list_for_each_entry(in, &iommu_persist_incoming_devs, list) {
		if (in->st.unit != unit)
			continue;
		if (n == max)
			return -E2BIG;
		st[n++] = in->st;
	}
	return iommu_persist_received ? n : -ENOENT;
}
EXPORT_SYMBOL_GPL(iommu_persist_incoming);

/**
 * iommu_persist_refuse() - the driver cannot adopt a unit's handed-over state
 * @unit:   the unit's register base.
 * @reason: why, for the log.
 *
 * Called only once the unit's devices can no longer reach the handed-over
 * tables: their DMA blocked and drained, and translation turned off or the
 * unit reinitialised.  The unit's devices are forgotten (restoring them
 * fails with -ENOENT) and their page-table pools unpinned; a pool is freed
 * when its driver sets the device up afresh under the same name, or stays
 * reserved, unused, until the next kexec.  Other units are not affected,
 * even when the handover was refused as a whole: each unit refuses itself.
 *
 * Context: process context.
 */
void iommu_persist_refuse(u64 unit, const char *reason)
{
	struct iommu_persist_incoming *in, *tmp;

	pr_err("refusing handover for IOMMU unit %#llx: %s\n", unit, reason);
	guard(mutex)(&iommu_persist_in_mutex);
	list_for_each_entry_safe(in, tmp, &iommu_persist_incoming_devs, list)
		if (in->st.unit == unit)
			iommu_persist_incoming_release(in);
}
EXPORT_SYMBOL_GPL(iommu_persist_refuse);

/**
 * iommu_persist_abandoned() - a handed-over device got other translation
 * @sbdf: the device (segment << 16 | bus << 8 | devfn).
 *
 * For IOMMU drivers: a device adopted at boot and not restored was attached
 * to another domain (a fresh one, the DMA API's, blocking or identity), and
 * the driver tore its handed-over translation entry down and invalidated it
 * first.  The device is forgotten and its page-table pool unpinned.
 *
 * Context: process context.
 */
void iommu_persist_abandoned(u32 sbdf)
{
	struct iommu_persist_incoming *in, *tmp;

	guard(mutex)(&iommu_persist_in_mutex);
	list_for_each_entry_safe(in, tmp, &iommu_persist_incoming_devs, list) {
		if (in->st.sbdf != sbdf)
			continue;
		pr_info("%s: handed-over translation abandoned: the device got another domain\n",
			in->name);
		iommu_persist_incoming_release(in);
	}
}
EXPORT_SYMBOL_GPL(iommu_persist_abandoned);

/* ---- page tables ------------------------------------------------------- */

/**
 * iommu_persist_table_alloc() - allocate a page table of a persistent domain
 * @pd:    the persistent domain.
 * @lg2sz: log2 of the table size; only PAGE_SHIFT is supported.
 * @gfp:   allocation flags; GFP_ATOMIC is served from a reserve.
 *
 * For IOMMU drivers, as &pt_iommu_driver_ops.alloc_table.  While a domain
 * is restored, the first call returns the preserved top-level table.
 *
 * Context: any context allowed by @gfp.
 * Return: a zeroed table, the first page of an order-0 folio, or NULL.
 */
void *iommu_persist_table_alloc(struct iommu_persist_domain *pd,
				unsigned int lg2sz, gfp_t gfp)
{
	void *table;
	u64 handle;

	if (pd->adopt_top) {
		table = pd->adopt_top;
		pd->adopt_top = NULL;
		return table;
	}
	if (lg2sz != PAGE_SHIFT)
		return NULL;
	table = pmpool_alloc(pd->pool, gfp | __GFP_ZERO, &handle);
	if (table)
		virt_to_ioptdesc(table)->incoherent = 0;
	return table;
}
EXPORT_SYMBOL_GPL(iommu_persist_table_alloc);

/**
 * iommu_persist_tables_free() - free page tables of a persistent domain
 * @pd:   the persistent domain.
 * @list: tables from iommu_persist_table_alloc().
 *
 * For IOMMU drivers, as &pt_iommu_driver_ops.free_tables.
 *
 * Context: any context.
 */
void iommu_persist_tables_free(struct iommu_persist_domain *pd,
			       struct iommu_pages_list *list)
{
	struct ioptdesc *iopt, *tmp;
	void *table;
	u64 handle;

	list_for_each_entry_safe(iopt, tmp, &list->pages, iopt_freelist_elm) {
		table = folio_address(ioptdesc_folio(iopt));
		list_del(&iopt->iopt_freelist_elm);
		handle = pmpool_virt_to_handle(pd->pool, table);
		if (WARN_ON_ONCE(!handle) || pmpool_free(pd->pool, handle))
			pr_err("%s: table at %#llx is not from its pool\n", pd->name,
			       (u64)virt_to_phys(table));
	}
}
EXPORT_SYMBOL_GPL(iommu_persist_tables_free);

/* ---- the API ----------------------------------------------------------- */

static struct iommu_persist_domain *iommu_persist_find(struct device *dev,
						       const char *name)
{
	struct iommu_persist_domain *pd;

	list_for_each_entry(pd, &iommu_persist_domains, list)
		if (pd->dev == dev || (name && !strcmp(pd->name, name)))
			return pd;
	return NULL;
}

/* Copy out the incoming state of @name (if @st) and, if @del, forget it. */
static bool iommu_persist_incoming_get(const char *name,
				       struct iommu_persist_dev_state *st,
				       bool del)
{
	struct iommu_persist_incoming *in;

	guard(mutex)(&iommu_persist_in_mutex);
	list_for_each_entry(in, &iommu_persist_incoming_devs, list) {
		if (strcmp(in->name, name))
			continue;
		if (st)
			*st = in->st;
		if (del)
			iommu_persist_incoming_release(in);
		return true;
	}
	return false;
}

static int iommu_persist_check(struct device *dev, const char *name)
{
	if (!name || !*name || strnlen(name, IOMMU_PERSIST_NAME_MAX + 1) >
				       IOMMU_PERSIST_NAME_MAX)
		return -EINVAL;
	if (!dev_is_pci(dev))
		return -EOPNOTSUPP;
	if (!iommu_persist_drv || !device_iommu_mapped(dev))
		return -ENODEV;
	return 0;
}

/* A new persistent domain record; @pool gets the page-table pool's name. */
static struct iommu_persist_domain *iommu_persist_pd_new(struct device *dev,
							 const char *name,
							 char *pool)
{
	struct iommu_persist_domain *pd = kzalloc_obj(*pd, GFP_KERNEL);

	if (pd) {
		strscpy(pd->name, name);
		pd->dev = dev;
	}
	iommu_persist_pool_name(pool, name);
	return pd;
}

/* Attach, preserve and publish @pd; undoes everything it did on error. */
static int iommu_persist_commit(struct iommu_persist_domain *pd)
{
	u64 top;
	int err;

	err = iommu_attach_device(pd->domain, pd->dev);
	if (err)
		return err;
	err = iommu_persist_drv->dev_preserve(pd->domain, pd->dev, &pd->st);
	if (err)
		goto out_detach;
	err = -EINVAL;
	top = pmpool_virt_to_handle(pd->pool, phys_to_virt(pd->st.top));
	if (!top || pmpool_set_root(pd->pool, top))
		goto out_unpreserve;
	list_add_tail(&pd->list, &iommu_persist_domains);
	err = iommu_persist_update();
	if (err)
		goto out_unlist;
	return 0;

out_unlist:
	list_del(&pd->list);
out_unpreserve:
	iommu_persist_drv->dev_unpreserve(pd->dev, &pd->st);
out_detach:
	iommu_detach_device(pd->domain, pd->dev);
	return err;
}

/*
 * Block @dev's DMA through the handed-over state @st: after this, nothing
 * it can reach is the handed-over tables, and they may be freed.
 */
static void iommu_persist_block(struct device *dev,
				const struct iommu_persist_dev_state *st,
				const char *why)
{
	iommu_persist_drv->dev_block(dev, st);
	dev_warn(dev, "iommu-persist: DMA blocked (translation entry cleared and invalidated, bus mastering off): %s\n",
		 why);
}

/*
 * A fresh setup under @name: what the previous kernel handed over for it,
 * or what a failed restore kept, is given up.  The device is blocked first,
 * then the old tables are freed.  Caller holds iommu_persist_mutex.
 */
static int iommu_persist_abandon(struct device *dev, const char *name)
{
	struct iommu_persist_domain *pd, *tmp;
	struct iommu_persist_dev_state in;
	u32 sbdf;

	list_for_each_entry_safe(pd, tmp, &iommu_persist_blocked, list) {
		if (strcmp(pd->name, name))
			continue;
		if (pd->dev != dev)
			return -EEXIST;
		/* Blocked when its restore failed: the tables can go now. */
		list_del(&pd->list);
		if (pd->domain)
			iommu_domain_free(pd->domain);
		pmpool_destroy(pd->pool);
		kfree(pd);
		dev_info(dev, "iommu-persist: '%s': tables of the failed restore freed\n",
			 name);
	}
	if (!iommu_persist_incoming_get(name, &in, false))
		return 0;
	sbdf = pci_domain_nr(to_pci_dev(dev)->bus) << 16 | pci_dev_id(to_pci_dev(dev));
	if (in.sbdf != sbdf)
		return -EEXIST;	/* another device's handed-over domain */
	iommu_persist_block(dev, &in, "set up afresh instead of restored");
	iommu_persist_incoming_get(name, NULL, true);
	return 0;
}

/**
 * iommu_persist_domain_alloc() - allocate a persistent paging domain
 * @dev:  a PCI device behind an IOMMU with persistence support, alone in
 *        its IOMMU group, whose driver is the caller.
 * @name: unique name, at most %IOMMU_PERSIST_NAME_MAX characters; the key
 *        for iommu_persist_restore() in the next kernel.
 *
 * The domain is attached to @dev.  Its mappings, made with iommu_map() and
 * removed with iommu_unmap() as on any paging domain, are handed over at
 * every kexec, and the device keeps bus mastering across it, until
 * iommu_persist_domain_free().  The memory the device accesses through the
 * domain must survive the kexec too (e.g. pmpool objects).  Without KHO
 * (``kho=off``), the domain works but is not handed over.
 *
 * If the previous kernel handed over a domain of this name for @dev and it
 * was not restored (or its restore failed), that state is given up first:
 * the device is blocked (translation entry cleared and invalidated, bus
 * mastering off, drained) and the old tables are freed.  The driver turns
 * bus mastering on again (pci_set_master()) once the new domain is there.
 *
 * Context: process context, may sleep.
 * Return: the domain, or an ERR_PTR(): -EINVAL for a bad name, -EOPNOTSUPP
 * for a device or IOMMU configuration that cannot be persisted, -ENODEV
 * without IOMMU support for @dev, -EEXIST if @dev or @name is taken (also
 * by a domain handed over and not yet restored), -ENOMEM.
 */
struct iommu_domain *iommu_persist_domain_alloc(struct device *dev,
						const char *name)
{
	char pool[PMPOOL_NAME_MAX + 1];
	struct iommu_persist_domain *pd;
	int err;

	err = iommu_persist_check(dev, name);
	if (err)
		return ERR_PTR(err);
	guard(mutex)(&iommu_persist_mutex);
	if (iommu_persist_find(dev, name))
		return ERR_PTR(-EEXIST);
	err = iommu_persist_abandon(dev, name);
	if (err)
		return ERR_PTR(err);
	pd = iommu_persist_pd_new(dev, name, pool);
	if (!pd)
		return ERR_PTR(-ENOMEM);
	pd->pool = pmpool_create(pool, PAGE_SIZE, PMPOOL_F_FOLIO_PER_OBJ);
	if (PTR_ERR(pd->pool) == -EEXIST && !pmpool_discard(pool)) {
		/*
		 * Handed over, but the device that reached it is blocked
		 * (refused or abandoned): nothing translates through it.
		 */
		pr_info("%s: stale page-table pool discarded\n", name);
		pd->pool = pmpool_create(pool, PAGE_SIZE, PMPOOL_F_FOLIO_PER_OBJ);
	}
	if (IS_ERR(pd->pool)) {
		err = PTR_ERR(pd->pool);
		goto out_free;
	}
	err = pmpool_reserve(pd->pool, IOMMU_PERSIST_RESERVE);
	if (err)
		goto out_destroy;
	pd->domain = iommu_persist_drv->domain_alloc(dev, pd);
	if (IS_ERR(pd->domain)) {
		err = PTR_ERR(pd->domain);
		goto out_destroy;
	}
	err = iommu_persist_commit(pd);
	if (err)
		goto out_domain;
	dev_info(dev, "iommu-persist: domain '%s' allocated (did %u, top table %#llx)\n",
		 name, pd->st.did, pd->st.top);
	return pd->domain;

out_domain:
	iommu_domain_free(pd->domain);
out_destroy:
	pmpool_destroy(pd->pool);
out_free:
	kfree(pd);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(iommu_persist_domain_alloc);

/**
 * iommu_persist_restore() - take back a domain handed over by the previous kernel
 * @dev:  the device the domain was attached to (same PCI address).
 * @name: the name given to iommu_persist_domain_alloc().
 *
 * The domain comes back attached to @dev, with every mapping as it was, and
 * is handed over again at the next kexec.  The device's translation was
 * never interrupted: DMA it issued before or during the kexec went through
 * the same tables.
 *
 * If the restore fails after the handed-over state was found, the device
 * is blocked (translation entry cleared and invalidated, bus mastering off,
 * outstanding transactions drained) and the preserved tables are kept; the
 * driver sets the device up afresh with iommu_persist_domain_alloc() under
 * the same name, which frees them.
 *
 * Context: process context, may sleep.
 * Return: the domain, or an ERR_PTR(): -ENOENT if @name was not handed
 * over for @dev (or the handover was refused at boot), -EBUSY if it was
 * restored already, -EINVAL for a bad name or a state that does not match
 * @dev, -ENOMEM.
 */
struct iommu_domain *iommu_persist_restore(struct device *dev, const char *name)
{
	struct iommu_persist_dev_state in;
	char pool[PMPOOL_NAME_MAX + 1];
	struct iommu_persist_domain *pd;
	struct pmpool_stats stats;
	u32 sbdf;
	int err;

	err = iommu_persist_check(dev, name);
	if (err)
		return ERR_PTR(err);
	guard(mutex)(&iommu_persist_mutex);
	if (iommu_persist_find(NULL, name))
		return ERR_PTR(-EBUSY);
	sbdf = pci_domain_nr(to_pci_dev(dev)->bus) << 16 | pci_dev_id(to_pci_dev(dev));
	if (!iommu_persist_incoming_get(name, &in, false) || in.sbdf != sbdf)
		return ERR_PTR(-ENOENT);
	if (iommu_persist_find(dev, NULL))
		return ERR_PTR(-EEXIST);

	pd = iommu_persist_pd_new(dev, name, pool);
	if (!pd)
		return ERR_PTR(-ENOMEM);
	pd->pool = iommu_persist_fail("pool") ? ERR_PTR(-ENOMEM) :
		   pmpool_restore(pool);
	if (IS_ERR(pd->pool)) {
		err = PTR_ERR(pd->pool);
		pr_err("%s: cannot restore page-table pool: %d\n", name, err);
		/* The pool stays incoming, pinned until the device is blocked. */
		kfree(pd);
		goto out_block;
	}
	pd->adopt_top = pmpool_map(pd->pool, pmpool_get_root(pd->pool));
	if (!pd->adopt_top || virt_to_phys(pd->adopt_top) != in.top ||
	    iommu_persist_fail("root")) {
		pr_err("%s: top-level table is not the page-table pool's root\n", name);
		err = -EINVAL;
		goto out_keep;
	}
	err = (iommu_persist_fail("reserve") ? -ENOMEM : 0) ?:
	      pmpool_reserve(pd->pool, IOMMU_PERSIST_RESERVE);
	if (err)
		goto out_keep;
	pd->domain = iommu_persist_fail("domain") ? ERR_PTR(-EINVAL) :
		     iommu_persist_drv->domain_restore(dev, pd, &in);
	if (IS_ERR(pd->domain)) {
		err = PTR_ERR(pd->domain);
		pd->domain = NULL;
		goto out_keep;
	}
	err = iommu_persist_commit(pd);
	if (err)
		goto out_keep;
	if (pd->st.did != in.did || pd->st.top != in.top)
		dev_warn(dev, "iommu-persist: '%s' changed did %u->%u top %#llx->%#llx\n",
			 name, in.did, pd->st.did, in.top, pd->st.top);
	iommu_persist_incoming_get(name, NULL, true);
	pmpool_get_stats(pd->pool, &stats);
	dev_info(dev, "iommu-persist: domain '%s' restored (did %u, %lu table pages)\n",
		 name, pd->st.did, stats.nr_inuse);
	return pd->domain;

out_keep:
	/*
	 * The device may still be translating through the tables: block it,
	 * and keep them until the driver sets the device up afresh.
	 */
	pd->adopt_top = NULL;
	list_add_tail(&pd->list, &iommu_persist_blocked);
out_block:
	dev_err(dev, "iommu-persist: cannot restore '%s': %d\n", name, err);
	iommu_persist_block(dev, &in, "its restore failed");
	iommu_persist_incoming_get(name, NULL, true);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(iommu_persist_restore);

/**
 * iommu_persist_domain_free() - stop persisting a domain and free it
 * @domain: from iommu_persist_domain_alloc() or iommu_persist_restore().
 *
 * The domain is detached from its device (which returns to its default
 * domain), is no longer handed over, and is freed with its page tables.
 * The driver must have stopped the device's DMA through it.
 *
 * Context: process context, may sleep.
 */
void iommu_persist_domain_free(struct iommu_domain *domain)
{
	struct iommu_persist_domain *pd;

	if (IS_ERR_OR_NULL(domain))
		return;
	mutex_lock(&iommu_persist_mutex);
	list_for_each_entry(pd, &iommu_persist_domains, list)
		if (pd->domain == domain)
			break;
	if (WARN_ON(list_entry_is_head(pd, &iommu_persist_domains, list))) {
		mutex_unlock(&iommu_persist_mutex);
		return;
	}
	if (iommu_persist_frozen) {
		/*
		 * A kexec has begun and the handed-over tree names this domain:
		 * its tables stay as they are for the next kernel, which finds
		 * the device detached and refuses its unit's state.
		 */
		mutex_unlock(&iommu_persist_mutex);
		iommu_detach_device(domain, pd->dev);
		dev_warn(pd->dev, "iommu-persist: '%s' freed during kexec: its tables are kept\n",
			 pd->name);
		return;
	}
	list_del(&pd->list);
	iommu_persist_update();
	iommu_persist_drv->dev_unpreserve(pd->dev, &pd->st);
	mutex_unlock(&iommu_persist_mutex);

	iommu_detach_device(domain, pd->dev);
	iommu_domain_free(domain);
	pmpool_destroy(pd->pool);
	kfree(pd);
}
EXPORT_SYMBOL_GPL(iommu_persist_domain_free);

/**
 * iommu_persist_dev_is_persisted() - is a device's translation handed over?
 * @dev: a device.
 *
 * Context: process context.
 * Return: true if @dev has a persistent domain that is handed over at kexec.
 */
bool iommu_persist_dev_is_persisted(struct device *dev)
{
	struct iommu_persist_domain *pd;

	guard(mutex)(&iommu_persist_mutex);
	pd = iommu_persist_find(dev, NULL);
	return pd && pmpool_is_persistent(pd->pool);
}
EXPORT_SYMBOL_GPL(iommu_persist_dev_is_persisted);

/**
 * iommu_persist_handover_armed() - will the kernel being jumped to get it?
 *
 * True only during a kexec into an image loaded with kexec_file_load()
 * while KHO is enabled (only that path hands KHO state over, see
 * kho_fill_kimage()), with iommu-persist's state registered with KHO.  A
 * kexec_load() image, a reboot, or a failed registration get nothing: the
 * persisted devices must then be stopped, not left translating.
 *
 * Context: any context.
 * Return: true if persisted devices may keep their translation on.
 */
bool iommu_persist_handover_armed(void)
{
	return kexec_in_progress && kho_is_enabled() && iommu_persist_fdt_out &&
	       kexec_image && kexec_image->file_mode && kexec_image->kho.fdt;
}
EXPORT_SYMBOL_GPL(iommu_persist_handover_armed);

/**
 * iommu_persist_dev_shutdown() - a device's part of the kexec shutdown
 * @dev: a device being shut down while a kexec is in progress.
 *
 * For the PCI core.  A persisted device keeps bus mastering if its
 * translation is handed over.  If it is not (see
 * iommu_persist_handover_armed(); or its table pool is volatile), it is
 * blocked here, while sleeping is
 * still allowed: bus mastering off and its outstanding transactions waited
 * for, before the IOMMU is turned off under it.  pci_wait_for_pending_transaction()
 * waits up to about a second (PCIe Transactions Pending) and returns at
 * once for conventional PCI; on timeout the device is left stopped anyway.
 *
 * Context: process context, may sleep.
 * Return: true if @dev must keep bus mastering on.
 */
bool iommu_persist_dev_shutdown(struct device *dev)
{
	struct iommu_persist_domain *pd;
	bool handed_over;
	struct pci_dev *pdev;

	scoped_guard(mutex, &iommu_persist_mutex) {
		pd = iommu_persist_find(dev, NULL);
		handed_over = pd && pmpool_is_persistent(pd->pool);
	}
	if (!pd)
		return false;
	/* A volatile table pool (pmpool not registered) is not handed over. */
	if (handed_over && iommu_persist_handover_armed())
		return true;
	pdev = to_pci_dev(dev);
	pci_clear_master(pdev);
	if (!pci_wait_for_pending_transaction(pdev))
		pci_warn(pdev, "iommu-persist: transactions still pending after the wait\n");
	pci_warn(pdev, "iommu-persist: the next kernel does not receive the handover: DMA blocked (bus mastering off, drained)\n");
	return false;
}
EXPORT_SYMBOL_GPL(iommu_persist_dev_shutdown);

/**
 * iommu_persist_register_driver() - register an IOMMU driver's persistence
 * @drv: its operations.
 *
 * Context: boot, before the driver initialises its units.
 * Return: 0, or -EBUSY if another driver is registered.
 */
int iommu_persist_register_driver(const struct iommu_persist_driver *drv)
{
	guard(mutex)(&iommu_persist_mutex);
	if (iommu_persist_drv)
		return -EBUSY;
	iommu_persist_drv = drv;
	return 0;
}
EXPORT_SYMBOL_GPL(iommu_persist_register_driver);

/* ---- boot -------------------------------------------------------------- */

#ifdef CONFIG_IOMMU_PERSIST_TEST_HOOKS
/*
 * Test-only: damage the outgoing state just before kexec.  "compat" makes
 * the tree another version, "did" changes the first device's domain ID,
 * "dup-did" adds a second device of the same unit with the first one's
 * domain ID, "root-unpreserved" unpreserves the unit's root table (the
 * hardware keeps using it), "other-unit" adds a device of a second IOMMU
 * unit (QEMU emulates one: the state of a unit this machine does not have).
 */
static int iommu_persist_test_damage(void *fdt, const char *what)
{
	struct iommu_persist_domain *pd;
	bool other;
	int node;

	pd = list_first_entry_or_null(&iommu_persist_domains,
				      struct iommu_persist_domain, list);
	if (!pd)
		return -ENOENT;
	if (!strcmp(what, "root-unpreserved")) {
		kho_unpreserve_folio(virt_to_folio(phys_to_virt(pd->st.root)));
		return 0;
	}
	if (strcmp(what, "dup-did") && strcmp(what, "other-unit"))
		return -EINVAL;
	other = !strcmp(what, "other-unit");
	if (fdt_open_into(fdt, fdt, IOMMU_PERSIST_FDT_SIZE))
		return -EIO;
	node = fdt_add_subnode(fdt, 0, other ? "dev@fe00" : "dev@ffff");
	if (node < 0 ||
	    fdt_setprop_string(fdt, node, IOMMU_PERSIST_ABI_PROP_NAME, what) ||
	    fdt_setprop_string(fdt, node, IOMMU_PERSIST_ABI_PROP_DRIVER,
			       iommu_persist_drv->name) ||
	    fdt_setprop_u32(fdt, node, IOMMU_PERSIST_ABI_PROP_SBDF,
			    other ? 0xfe00 : (pd->st.sbdf & ~0xffU) | 0xff) ||
	    fdt_setprop_u64(fdt, node, IOMMU_PERSIST_ABI_PROP_UNIT,
			    other ? pd->st.unit - SZ_64K : pd->st.unit) ||
	    fdt_setprop_u32(fdt, node, IOMMU_PERSIST_ABI_PROP_DID, pd->st.did) ||
	    fdt_setprop_u64(fdt, node, IOMMU_PERSIST_ABI_PROP_TOP, pd->st.top) ||
	    fdt_setprop_u32(fdt, node, IOMMU_PERSIST_ABI_PROP_FORMAT, pd->st.format) ||
	    fdt_setprop_u64(fdt, node, IOMMU_PERSIST_ABI_PROP_ROOT, pd->st.root) ||
	    fdt_setprop_u64(fdt, node, IOMMU_PERSIST_ABI_PROP_CONTEXT, pd->st.context))
		return -EIO;
	return 0;
}

static ssize_t iommu_persist_corrupt_write(struct file *file,
					   const char __user *ubuf,
					   size_t count, loff_t *ppos)
{
	void *fdt = iommu_persist_fdt_out;
	char buf[24];
	int node, err = -EINVAL;
	const fdt32_t *did;
	char *compat;

	if (count >= sizeof(buf) || copy_from_user(buf, ubuf, count))
		return -EINVAL;
	buf[count] = '\0';
	strim(buf);
	guard(mutex)(&iommu_persist_mutex);
	if (!fdt)
		return -ENOENT;
	if (!strcmp(buf, "compat")) {
		compat = (char *)fdt_getprop(fdt, 0, "compatible", NULL);
		if (compat) {
			compat[strlen(compat) - 1] = '0';
			err = 0;
		}
	} else if (!strcmp(buf, "did")) {
		node = fdt_first_subnode(fdt, 0);
		did = node < 0 ? NULL :
		      fdt_getprop(fdt, node, IOMMU_PERSIST_ABI_PROP_DID, NULL);
		if (did)
			err = fdt_setprop_inplace_u32(fdt, node,
						      IOMMU_PERSIST_ABI_PROP_DID,
						      fdt32_to_cpu(*did) + 1);
	} else {
		err = iommu_persist_test_damage(fdt, buf);
	}
	if (err)
		return -EINVAL;
	pr_warn("test hook: outgoing state damaged (%s)\n", buf);
	return count;
}

static const struct file_operations iommu_persist_corrupt_fops = {
	.write = iommu_persist_corrupt_write,
};

static void iommu_persist_debugfs_hooks(struct dentry *dir)
{
	debugfs_create_file("corrupt", 0200, dir, NULL,
			    &iommu_persist_corrupt_fops);
}
#else
static void iommu_persist_debugfs_hooks(struct dentry *dir) { }
#endif

/*
 * /sys/kernel/debug/iommu-persist/incoming: the devices handed over by the
 * previous kernel and not yet restored, refused or abandoned, one per line:
 * "<name> <sbdf> <unit> <did> pinned|unpinned".
 */
static int iommu_persist_incoming_show(struct seq_file *m, void *v)
{
	struct iommu_persist_incoming *in;

	guard(mutex)(&iommu_persist_in_mutex);
	list_for_each_entry(in, &iommu_persist_incoming_devs, list)
		seq_printf(m, "%s %04x:%02x:%02x.%u %#llx %u %s\n", in->name,
			   in->st.sbdf >> 16, PCI_BUS_NUM(in->st.sbdf),
			   PCI_SLOT(in->st.sbdf & 0xff), PCI_FUNC(in->st.sbdf & 0xff),
			   in->st.unit, in->st.did,
			   in->pinned ? "pinned" : "unpinned");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(iommu_persist_incoming);

static void iommu_persist_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("iommu-persist", NULL);

	debugfs_create_file("incoming", 0400, dir, NULL,
			    &iommu_persist_incoming_fops);
	iommu_persist_debugfs_hooks(dir);
}

/*
 * At the start of a kexec (or any reboot): the tree is never rewritten
 * again, so the next kernel gets it whole, never a mix of two versions.
 */
static int iommu_persist_reboot_notify(struct notifier_block *nb,
				       unsigned long action, void *data)
{
	mutex_lock(&iommu_persist_mutex);
	iommu_persist_frozen = true;
	mutex_unlock(&iommu_persist_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block iommu_persist_reboot_nb = {
	.notifier_call = iommu_persist_reboot_notify,
};

/*
 * Before rootfs_initcall, where x86 IOMMU drivers initialise (pci_iommu_init)
 * and ask what was handed over.  pmpool parses its own handover at the same
 * level; nothing here needs it before the IOMMU drivers run.
 */
static int __init iommu_persist_init(void)
{
	phys_addr_t phys;
	size_t size;
	int err;

	err = kho_retrieve_subtree(IOMMU_PERSIST_ABI_FDT_NAME, &phys, &size);
	mutex_lock(&iommu_persist_in_mutex);
	if (!err) {
		iommu_persist_received = true;
		if (size > SZ_1M || !iommu_persist_page_ok(phys)) {
			iommu_persist_incoming_error = "state outside RAM";
			pr_err("refusing handover: state at %pa is not in RAM\n", &phys);
		} else if (!iommu_persist_parse(phys_to_virt(phys), size)) {
			pr_info("received state of %zu device(s) from the previous kernel\n",
				list_count_nodes(&iommu_persist_incoming_devs));
		}
	} else if (err != -ENOENT && err != -EOPNOTSUPP) {
		iommu_persist_received = true;
		iommu_persist_incoming_error = "cannot retrieve state";
		pr_err("refusing handover: cannot retrieve state: %d\n", err);
	}
	mutex_unlock(&iommu_persist_in_mutex);

	iommu_persist_debugfs_init();
	if (!kho_is_enabled())
		return 0;
	iommu_persist_fdt_scratch = kvmalloc(IOMMU_PERSIST_FDT_SIZE, GFP_KERNEL);
	iommu_persist_fdt_out = kho_alloc_preserve(IOMMU_PERSIST_FDT_SIZE);
	if (IS_ERR(iommu_persist_fdt_out) || !iommu_persist_fdt_scratch)
		goto fail;
	mutex_lock(&iommu_persist_mutex);
	err = iommu_persist_update();
	mutex_unlock(&iommu_persist_mutex);
	if (!err)
		err = kho_add_subtree(IOMMU_PERSIST_ABI_FDT_NAME,
				      iommu_persist_fdt_out,
				      IOMMU_PERSIST_FDT_SIZE);
	if (!err) {
		register_reboot_notifier(&iommu_persist_reboot_nb);
		return 0;
	}
fail:
	pr_err("cannot register with KHO: domains will not be handed over\n");
	if (!IS_ERR_OR_NULL(iommu_persist_fdt_out))
		kho_unpreserve_free(iommu_persist_fdt_out);
	iommu_persist_fdt_out = NULL;
	return 0;
}
fs_initcall_sync(iommu_persist_init);
