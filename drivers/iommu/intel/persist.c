// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VT-d part of iommu-persist: DMA translation that survives kexec.
 *
 * Copyright (C) 2026 The pmpool authors
 */

/**
 * DOC: VT-d persistence
 *
 * A persistent domain is an ordinary second-stage paging domain whose
 * page tables come from iommu-persist (a pmpool) instead of iommu-pages.
 * When it is attached, the unit's root table and the context table of the
 * device's bus are preserved with KHO, and the unit is marked to keep
 * translating at kexec (intel_persist_shutdown()).  In the old kernel's last
 * step, the context entries of devices that are not persisted, and the root
 * entries of buses without persisted devices, are cleared.
 *
 * In the next kernel, init_dmars() finds translation enabled and calls
 * intel_persist_adopt() instead of turning it off.  The handed-over state
 * is checked against the hardware (root table address, context entries,
 * domain IDs); if it matches, the preserved root table becomes the unit's
 * root table, entries of devices that were not persisted are cleared, and
 * the domain IDs are reserved.  Translation stays on, so attaching devices
 * is deferred as in a kdump kernel: the persisted device keeps its context
 * entry until its driver calls iommu_persist_restore(), which wraps the
 * preserved tables in a domain with the old domain ID; attaching that
 * domain finds the context entry present and leaves it alone.  Other
 * devices get fresh context entries when their drivers first use DMA.
 *
 * If the state does not match, the DMA of every PCI device behind the unit
 * is blocked (bus mastering off) before translation is turned off.
 *
 * Only legacy (non-scalable) mode is supported: scalable mode would need the
 * PASID directory and tables preserved too.
 */

#define pr_fmt(fmt) "DMAR: persist: " fmt

#include <linux/iommu-persist.h>
#include <linux/kexec.h>
#include <linux/kexec_handover.h>
#include <linux/kho/abi/iommu_persist.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "../iommu-priv.h"
#include "iommu.h"

#define INTEL_PERSIST_MAX_DEVS	64

/*
 * struct intel_persist_unit - persistence state of one VT-d unit
 * @root_refs: persisted devices of the unit (its root table is preserved).
 * @ctx_refs:  persisted devices per bus (the context table is preserved).
 * @persisted: source IDs whose context entries are handed over.
 * @adopted:   source IDs adopted at boot and not yet restored.
 * @refused:   why the unit's handed-over state was refused at boot; the
 *             refusal is reported once translation is off.
 */
struct intel_persist_unit {
	unsigned int root_refs;
	u16 ctx_refs[256];
	DECLARE_BITMAP(persisted, 1 << 16);
	DECLARE_BITMAP(adopted, 1 << 16);
	const char *refused;
};

static DEFINE_XARRAY(intel_persist_units);

static struct intel_persist_unit *intel_persist_unit(struct intel_iommu *iommu,
						     bool create)
{
	struct intel_persist_unit *unit = xa_load(&intel_persist_units,
						  iommu->seq_id);

	if (unit || !create)
		return unit;
	unit = kzalloc_obj(*unit, GFP_KERNEL);
	if (unit && xa_err(xa_store(&intel_persist_units, iommu->seq_id, unit,
				    GFP_KERNEL))) {
		kfree(unit);
		unit = NULL;
	}
	return unit;
}

static void *intel_persist_alloc_table(struct pt_iommu *iommu_table,
				       unsigned int lg2sz, gfp_t gfp)
{
	struct dmar_domain *domain = container_of(iommu_table,
						  struct dmar_domain, iommu);

	return iommu_persist_table_alloc(domain->persist, lg2sz, gfp);
}

static void intel_persist_free_tables(struct pt_iommu *iommu_table,
				      struct iommu_pages_list *list)
{
	struct dmar_domain *domain = container_of(iommu_table,
						  struct dmar_domain, iommu);

	iommu_persist_tables_free(domain->persist, list);
}

const struct pt_iommu_driver_ops intel_persist_pt_ops = {
	.alloc_table = intel_persist_alloc_table,
	.free_tables = intel_persist_free_tables,
};

static struct iommu_domain *intel_persist_domain_alloc(struct device *dev,
						       struct iommu_persist_domain *pd)
{
	if (dev_iommu_ops(dev) != &intel_iommu_ops)
		return ERR_PTR(-EOPNOTSUPP);
	return intel_iommu_domain_alloc_persist(dev, pd);
}

/* The context entry of a source ID, or NULL; caller holds iommu->lock. */
static struct context_entry *intel_persist_context(struct intel_iommu *iommu,
						   u16 sid)
{
	return iommu_context_addr(iommu, PCI_BUS_NUM(sid), sid & 0xff, 0);
}

/* Does @ce translate with @st's domain ID, table and format? */
static bool intel_persist_context_matches(struct context_entry *ce,
					  const struct iommu_persist_dev_state *st)
{
	return ce && context_present(ce) &&
	       ((ce->lo >> 2) & 3) == CONTEXT_TT_MULTI_LEVEL &&
	       context_domain_id(ce) == st->did &&
	       (ce->lo & VTD_PAGE_MASK) == st->top && (ce->hi & 7) == st->format;
}

static struct iommu_domain *
intel_persist_domain_restore(struct device *dev, struct iommu_persist_domain *pd,
			     const struct iommu_persist_dev_state *st)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	struct pt_iommu_vtdss_hw_info pt_info;
	struct iommu_domain_info *did_info;
	struct intel_persist_unit *unit;
	struct dmar_domain *dmar_domain;
	struct iommu_domain *domain;
	u16 sid = PCI_DEVID(info->bus, info->devfn);
	bool ok;

	unit = intel_persist_unit(iommu, false);
	if (dev_iommu_ops(dev) != &intel_iommu_ops || iommu->reg_phys != st->unit ||
	    !unit || !test_bit(sid, unit->adopted))
		return ERR_PTR(-ENOENT);
	spin_lock(&iommu->lock);
	ok = intel_persist_context_matches(intel_persist_context(iommu, sid), st);
	spin_unlock(&iommu->lock);
	if (!ok) {
		dev_err(dev, "persist: context entry changed since boot\n");
		return ERR_PTR(-EINVAL);
	}

	domain = intel_iommu_domain_alloc_persist(dev, pd);
	if (IS_ERR(domain))
		return domain;
	dmar_domain = to_dmar_domain(domain);
	pt_iommu_vtdss_hw_info(&dmar_domain->sspt, &pt_info);
	if (pt_info.ssptptr != st->top || pt_info.aw != st->format) {
		/* Not our table layout: the domain must not free the tables. */
		dev_err(dev, "persist: page-table format %u does not match %u\n",
			pt_info.aw, st->format);
		return ERR_PTR(-EINVAL);
	}

	/* attach (domain_attach_iommu()) takes this reference on the old DID. */
	did_info = kzalloc_obj(*did_info, GFP_KERNEL);
	if (!did_info)
		return ERR_PTR(-ENOMEM);
	did_info->did = st->did;
	did_info->iommu = iommu;
	if (xa_err(xa_store(&dmar_domain->iommu_array, iommu->seq_id, did_info,
			    GFP_KERNEL))) {
		kfree(did_info);
		return ERR_PTR(-ENOMEM);
	}
	clear_bit(sid, unit->adopted);
	return domain;
}

/* Bus mastering off, and a bounded wait for what the device has in flight. */
static void intel_persist_stop_master(struct pci_dev *pdev)
{
	pci_clear_master(pdev);
	if (!pci_wait_for_pending_transaction(pdev))
		pci_warn(pdev, "persist: transactions still pending after the wait\n");
}

/*
 * Tear down the context entry of @sid if it still translates with @did:
 * non-present first; then, if @stop, that device's bus mastering off and
 * its outstanding transactions drained; then the context cache and the
 * IOTLB of @did invalidated (register-based and queued invalidation both
 * complete before returning), then the entry cleared.  As
 * copied_context_tear_down() does for a kdump kernel's copied entries.
 */
static void intel_persist_entry_tear_down(struct intel_iommu *iommu, u16 sid,
					  u16 did, struct pci_dev *stop)
{
	struct context_entry *ce;
	bool present;

	spin_lock(&iommu->lock);
	ce = intel_persist_context(iommu, sid);
	present = ce && context_present(ce) && context_domain_id(ce) == did;
	if (present) {
		context_clear_present(ce);
		__iommu_flush_cache(iommu, ce, sizeof(*ce));
	}
	spin_unlock(&iommu->lock);
	if (stop)
		intel_persist_stop_master(stop);
	if (!present)
		return;
	iommu->flush.flush_context(iommu, did, sid, DMA_CCMD_MASK_NOBIT,
				   DMA_CCMD_DEVICE_INVL);
	iommu->flush.flush_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH);
	spin_lock(&iommu->lock);
	context_clear_entry(ce);
	__iommu_flush_cache(iommu, ce, sizeof(*ce));
	spin_unlock(&iommu->lock);
}

/* Block: new requests fault, then drain, then invalidate and clear. */
static void intel_persist_dev_block(struct device *dev,
				    const struct iommu_persist_dev_state *st)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_persist_unit *unit = intel_persist_unit(info->iommu, false);
	u16 sid = PCI_DEVID(info->bus, info->devfn);

	intel_persist_entry_tear_down(info->iommu, sid, st->did, to_pci_dev(dev));
	if (unit)
		clear_bit(sid, unit->adopted);
}

/**
 * intel_persist_dev_abandon() - a device adopted at boot gets another domain
 * @dev: the device, about to be attached to a domain.
 *
 * Called first thing in device_block_translation(), i.e. before every
 * attach.  A device whose handed-over entry was adopted at boot and not
 * restored keeps that entry (present, not copied) until now, and
 * domain_context_mapping_one() would leave it alone: the new domain would
 * be attached on paper while the hardware kept the old tables.  Tear the
 * entry down (non-present, invalidated) so that the attach really takes
 * effect, and tell iommu-persist, which unpins the old tables.  A restore
 * clears the adopted bit before it attaches and is not affected.
 */
void intel_persist_dev_abandon(struct device *dev)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_persist_unit *unit;
	struct context_entry *ce;
	u16 sid, did = 0;

	if (!info || !dev_is_pci(dev))
		return;
	unit = intel_persist_unit(info->iommu, false);
	sid = PCI_DEVID(info->bus, info->devfn);
	if (!unit || !test_and_clear_bit(sid, unit->adopted))
		return;
	spin_lock(&info->iommu->lock);
	ce = intel_persist_context(info->iommu, sid);
	if (ce && context_present(ce))
		did = context_domain_id(ce);
	spin_unlock(&info->iommu->lock);
	if (did)
		intel_persist_entry_tear_down(info->iommu, sid, did, NULL);
	iommu_persist_abandoned(info->segment << 16 | sid);
}

static int intel_persist_dev_preserve(struct iommu_domain *domain,
				      struct device *dev,
				      struct iommu_persist_dev_state *st)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	u16 sid = PCI_DEVID(info->bus, info->devfn);
	struct intel_persist_unit *unit;
	struct context_entry *ce;
	int err = 0;

	if (sm_supported(iommu) || dev_is_real_dma_subdevice(dev))
		return -EOPNOTSUPP;
	unit = intel_persist_unit(iommu, true);
	if (!unit)
		return -ENOMEM;

	spin_lock(&iommu->lock);
	ce = intel_persist_context(iommu, sid);
	if (ce && context_present(ce)) {
		st->sbdf = info->segment << 16 | sid;
		st->unit = iommu->reg_phys;
		st->did = context_domain_id(ce);
		st->top = ce->lo & VTD_PAGE_MASK;
		st->format = ce->hi & 7;
		st->root = virt_to_phys(iommu->root_entry);
		st->context = virt_to_phys(ce) & PAGE_MASK;
	}
	spin_unlock(&iommu->lock);
	if (!ce || !st->top || st->did != domain_id_iommu(to_dmar_domain(domain), iommu))
		return -EINVAL;

	if (kho_is_enabled()) {
		if (!unit->ctx_refs[info->bus])
			err = kho_preserve_folio(virt_to_folio(phys_to_virt(st->context)));
		if (!err && !unit->root_refs) {
			err = kho_preserve_folio(virt_to_folio(iommu->root_entry));
			if (err && !unit->ctx_refs[info->bus])
				kho_unpreserve_folio(virt_to_folio(phys_to_virt(st->context)));
		}
		if (err)
			return err;
	}
	unit->ctx_refs[info->bus]++;
	unit->root_refs++;
	set_bit(sid, unit->persisted);
	return 0;
}

static void intel_persist_dev_unpreserve(struct device *dev,
					 const struct iommu_persist_dev_state *st)
{
	struct device_domain_info *info = dev_iommu_priv_get(dev);
	struct intel_iommu *iommu = info->iommu;
	struct intel_persist_unit *unit = intel_persist_unit(iommu, false);
	u16 sid = PCI_DEVID(info->bus, info->devfn);

	if (WARN_ON(!unit || !test_and_clear_bit(sid, unit->persisted)))
		return;
	if (!--unit->ctx_refs[info->bus] && kho_is_enabled())
		kho_unpreserve_folio(virt_to_folio(phys_to_virt(st->context)));
	if (!--unit->root_refs && kho_is_enabled())
		kho_unpreserve_folio(virt_to_folio(iommu->root_entry));
}

static const struct iommu_persist_driver intel_persist_driver = {
	.name = IOMMU_PERSIST_ABI_DRIVER_VTD,
	.domain_alloc = intel_persist_domain_alloc,
	.domain_restore = intel_persist_domain_restore,
	.dev_preserve = intel_persist_dev_preserve,
	.dev_unpreserve = intel_persist_dev_unpreserve,
	.dev_block = intel_persist_dev_block,
};

/*
 * Clear what @keep does not hand over: root entries of buses without a
 * kept device and context entries of devices not kept.  The caller
 * invalidates the context cache and IOTLB globally afterwards.
 */
static void intel_persist_scrub(struct intel_iommu *iommu,
				const unsigned long *keep)
{
	struct root_entry *root = iommu->root_entry;
	struct context_entry *ctx;
	unsigned int bus, devfn;
	bool kept;

	for (bus = 0; bus < 256; bus++) {
		if (!(root[bus].lo & 1))
			continue;
		kept = find_next_bit(keep, (bus + 1) << 8, bus << 8) < (bus + 1) << 8;
		if (!kept) {
			root[bus].lo = 0;
			root[bus].hi = 0;
			__iommu_flush_cache(iommu, &root[bus], sizeof(root[bus]));
			continue;
		}
		ctx = phys_to_virt(root[bus].lo & VTD_PAGE_MASK);
		for (devfn = 0; devfn < 256; devfn++) {
			if (!context_present(&ctx[devfn]) ||
			    test_bit(bus << 8 | devfn, keep))
				continue;
			context_clear_entry(&ctx[devfn]);
			__iommu_flush_cache(iommu, &ctx[devfn], sizeof(ctx[devfn]));
		}
	}
}

/**
 * intel_persist_shutdown() - last step before kexec for one unit
 * @iommu: the unit.
 *
 * Called from intel_iommu_shutdown() with the other CPUs stopped, after
 * device shutdown; nothing here sleeps.
 *
 * Return: true if this is a kexec that hands the state over
 * (iommu_persist_handover_armed()) and the unit has persisted devices, so
 * it must keep translating.
 */
bool intel_persist_shutdown(struct intel_iommu *iommu)
{
	struct intel_persist_unit *unit = intel_persist_unit(iommu, false);

	/* Without a handover the devices were blocked in PCI shutdown. */
	if (!unit || !unit->root_refs || !iommu_persist_handover_armed())
		return false;
	intel_persist_scrub(iommu, unit->persisted);
	iommu->flush.flush_context(iommu, 0, 0, 0, DMA_CCMD_GLOBAL_INVL);
	iommu->flush.flush_iotlb(iommu, 0, 0, 0, DMA_TLB_GLOBAL_FLUSH);
	pr_info("%s: translation kept on for %u persisted device(s)\n",
		iommu->name, unit->root_refs);
	return true;
}

/*
 * Turn bus mastering off for every PCI device translated by @iommu and wait
 * for its outstanding transactions, before translation is turned off.
 */
static void intel_persist_block_dma(struct intel_iommu *iommu)
{
	struct dmar_drhd_unit *drhd;
	struct pci_dev *pdev = NULL;
	u16 cmd;

	for_each_pci_dev(pdev) {
		drhd = dmar_find_matched_drhd_unit(pdev);
		if (!drhd || drhd->iommu != iommu)
			continue;
		pci_read_config_word(pdev, PCI_COMMAND, &cmd);
		if (!(cmd & PCI_COMMAND_MASTER))
			continue;
		intel_persist_stop_master(pdev);
		pci_warn(pdev, "persist: DMA blocked (bus mastering turned off, drained)\n");
	}
}

/*
 * A refusal, reported by intel_persist_release() once translation is off
 * (the devices were blocked and drained by the caller).
 */
static void intel_persist_refuse_later(struct intel_iommu *iommu,
				       const char *reason)
{
	struct intel_persist_unit *unit = intel_persist_unit(iommu, true);

	if (unit)
		unit->refused = reason;
	else	/* no memory to remember it: translation is off just after */
		iommu_persist_refuse(iommu->reg_phys, reason);
}

/* Is the bus of @st[@i] also the bus of an earlier entry? */
static bool intel_persist_bus_seen(const struct iommu_persist_dev_state *st,
				   int i)
{
	int j;

	for (j = 0; j < i; j++)
		if (PCI_BUS_NUM(st[j].sbdf) == PCI_BUS_NUM(st[i].sbdf))
			return true;
	return false;
}

/* Check @st (n devices) against the unit's registers and tables. */
static const char *intel_persist_check(struct intel_iommu *iommu,
				       const struct iommu_persist_dev_state *st,
				       int n)
{
	struct root_entry *root;
	struct context_entry *ce;
	u64 rtaddr;
	int i;

	if (sm_supported(iommu))
		return "scalable mode is not supported";
	rtaddr = readq(iommu->reg + DMAR_RTADDR_REG);
	if (rtaddr != st[0].root)
		return "root table is not the one handed over";
	/* Asked without a warning, before anything is read or restored. */
	if (kho_preserved_order(st[0].root) != 0)
		return "root table was not preserved";
	/* The handover against itself first, then against the hardware. */
	for (i = 0; i < n; i++) {
		int j;

		for (j = 0; j < i; j++) {
			if (st[j].did == st[i].did)
				return "two devices with one domain ID";
			if (PCI_BUS_NUM(st[j].sbdf) == PCI_BUS_NUM(st[i].sbdf) &&
			    st[j].context != st[i].context)
				return "two context tables for one bus";
		}
	}
	root = phys_to_virt(st[0].root);
	for (i = 0; i < n; i++) {
		u64 re = root[PCI_BUS_NUM(st[i].sbdf)].lo;

		if (kho_preserved_order(st[i].context) != 0 &&
		    !intel_persist_bus_seen(st, i))
			return "context table was not preserved";

		if (st[i].did < IDA_START_DID || st[i].did >= cap_ndoms(iommu->cap))
			return "domain ID out of range for the unit";
		if (!(re & 1) || (re & VTD_PAGE_MASK) != st[i].context)
			return "context table is not the one handed over";
		if (st[i].sbdf >> 16 != iommu->segment)
			return "device of another PCI segment";
		ce = phys_to_virt(st[i].context);
		if (!intel_persist_context_matches(&ce[st[i].sbdf & 0xff], &st[i]))
			return "context entry does not match the handed-over domain";
	}
	return NULL;
}

/**
 * intel_persist_adopt() - take over a unit that the previous kernel left on
 * @iommu: a unit with translation enabled at boot, outside kdump.
 *
 * Return: true if the unit's tables were adopted (translation stays on and
 * iommu->root_entry is set), false if the caller must turn translation off
 * as usual (the DMA of the unit's devices was blocked first if a handover
 * was received but could not be adopted).
 */
bool intel_persist_adopt(struct intel_iommu *iommu)
{
	struct iommu_persist_dev_state *st;
	struct intel_persist_unit *unit;
	const char *reason;
	int i, n;

	st = kcalloc(INTEL_PERSIST_MAX_DEVS, sizeof(*st), GFP_KERNEL);
	if (!st)
		return false;
	n = iommu_persist_incoming(iommu->reg_phys, st, INTEL_PERSIST_MAX_DEVS);
	if (n == -ENOENT) {
		kfree(st);
		return false;	/* no handover: as without iommu-persist */
	}
	if (n < 0)
		reason = n == -E2BIG ? "too many devices" : "state refused";
	else if (!n)
		reason = "translation is on but no device was handed over";
	else
		reason = intel_persist_check(iommu, st, n);
	unit = reason ? NULL : intel_persist_unit(iommu, true);
	if (!reason && !unit)
		reason = "out of memory";
	/* The domain IDs, all or none, before anything is taken over. */
	for (i = 0; !reason && i < n; i++) {
		if (ida_alloc_range(&iommu->domain_ida, st[i].did, st[i].did,
				    GFP_KERNEL) < 0) {
			while (i--)
				ida_free(&iommu->domain_ida, st[i].did);
			reason = "cannot reserve the domain IDs";
		}
	}
	if (reason) {
		/*
		 * Block and drain now; the caller turns translation off, and
		 * only then intel_persist_release() lets the tables go.
		 */
		intel_persist_block_dma(iommu);
		intel_persist_refuse_later(iommu, reason);
		kfree(st);
		return false;
	}

	/*
	 * Checked: the tables are preserved, in RAM, and the hardware uses
	 * them; kho_preserved_order() said so without taking them.
	 */
	kho_restore_folio(st[0].root);
	iommu->root_entry = phys_to_virt(st[0].root);
	for (i = 0; i < n; i++) {
		/* One context table per bus: restore it with its first device. */
		if (!intel_persist_bus_seen(st, i))
			kho_restore_folio(st[i].context);
		set_bit(st[i].sbdf & 0xffff, unit->adopted);
	}
	intel_persist_scrub(iommu, unit->adopted);
	pr_info("%s: adopted translation of %d persisted device(s) from the previous kernel\n",
		iommu->name, n);
	kfree(st);
	return true;
}

/**
 * intel_persist_release() - report a refusal once translation is off
 * @iommu: a unit whose pre-enabled translation was just turned off.
 *
 * The last step of a refusal: the unit's devices were blocked and drained
 * by intel_persist_adopt(), translation is off now, so their handed-over
 * tables are unreachable and iommu-persist may let them go.
 */
void intel_persist_release(struct intel_iommu *iommu)
{
	struct intel_persist_unit *unit = intel_persist_unit(iommu, false);

	if (unit && unit->refused) {
		iommu_persist_refuse(iommu->reg_phys, unit->refused);
		unit->refused = NULL;
	}
}

/**
 * intel_persist_block_all() - the kernel will not translate (intel_iommu=off)
 *
 * Called before every unit is turned off although the previous kernel may
 * have left some translating for persisted devices: a device still
 * mastering would see its IOVAs become physical addresses.  Block the DMA
 * of the devices of every unit that was handed over while translation is
 * still on, then, once the caller turned the units off, intel_persist_release()
 * lets the state go.
 */
void intel_persist_block_all(void)
{
	struct iommu_persist_dev_state st;
	struct dmar_drhd_unit *drhd;
	struct intel_iommu *iommu;

	for_each_iommu(iommu, drhd) {
		if (!(readl(iommu->reg + DMAR_GSTS_REG) & DMA_GSTS_TES) ||
		    iommu_persist_incoming(iommu->reg_phys, &st, 1) == -ENOENT)
			continue;
		intel_persist_block_dma(iommu);
		intel_persist_refuse_later(iommu, "this kernel does not use the IOMMU");
	}
}

static int __init intel_persist_init(void)
{
	return iommu_persist_register_driver(&intel_persist_driver);
}
subsys_initcall(intel_persist_init);
