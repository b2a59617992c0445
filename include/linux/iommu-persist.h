/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu-persist: IOMMU domains whose DMA translation survives kexec.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#ifndef _LINUX_IOMMU_PERSIST_H
#define _LINUX_IOMMU_PERSIST_H

#include <linux/err.h>
#include <linux/gfp_types.h>
#include <linux/types.h>

struct device;
struct iommu_domain;
struct iommu_pages_list;
struct iommu_persist_domain;

/*
 * Longest name of a persistent domain, not counting the NUL.  The name is
 * the key for iommu_persist_restore() in the next kernel.
 */
#define IOMMU_PERSIST_NAME_MAX	23

#ifdef CONFIG_IOMMU_PERSIST

struct iommu_domain *iommu_persist_domain_alloc(struct device *dev,
						const char *name);
struct iommu_domain *iommu_persist_restore(struct device *dev,
					   const char *name);
void iommu_persist_domain_free(struct iommu_domain *domain);
bool iommu_persist_dev_is_persisted(struct device *dev);

/* For IOMMU drivers: see "Driver interface" in iommu-persist.c. */

/**
 * struct iommu_persist_dev_state - what the next kernel needs about a device
 * @sbdf:    PCI segment << 16 | bus << 8 | devfn.
 * @unit:    register base of the IOMMU unit translating the device.
 * @did:     domain ID in the device's context entry.
 * @top:     physical address of the top-level page table.
 * @format:  driver-specific page-table format.
 * @root:    physical address of the unit's root table.
 * @context: physical address of the context table of the device's bus.
 */
struct iommu_persist_dev_state {
	u32 sbdf;
	u64 unit;
	u32 did;
	u64 top;
	u32 format;
	u64 root;
	u64 context;
};

/**
 * struct iommu_persist_driver - an IOMMU driver's part of iommu-persist
 * @name:           the ``driver`` string of its nodes in the handover.
 * @domain_alloc:   allocate a paging domain for @dev whose page tables come
 *                  from iommu_persist_table_alloc() and go back through
 *                  iommu_persist_tables_free() (the domain is not attached).
 * @domain_restore: wrap the preserved tables described by @st in a domain
 *                  for @dev, with @st's domain ID, ready for
 *                  iommu_attach_device() to adopt without touching the
 *                  device's context entry.
 * @dev_preserve:   after attach: fill @st and preserve the unit's tables
 *                  that translate @dev (root and context tables).
 * @dev_unpreserve: undo @dev_preserve.
 * @dev_block:      stop @dev's DMA through the handed-over state @st for
 *                  good: its translation entry non-present, bus mastering
 *                  off, outstanding transactions drained, then the unit's
 *                  caches for the entry invalidated.  After it returns,
 *                  nothing @dev can reach is the handed-over tables.
 */
struct iommu_persist_driver {
	const char *name;
	struct iommu_domain *(*domain_alloc)(struct device *dev,
					     struct iommu_persist_domain *pd);
	struct iommu_domain *(*domain_restore)(struct device *dev,
					       struct iommu_persist_domain *pd,
					       const struct iommu_persist_dev_state *st);
	int (*dev_preserve)(struct iommu_domain *domain, struct device *dev,
			    struct iommu_persist_dev_state *st);
	void (*dev_unpreserve)(struct device *dev,
			       const struct iommu_persist_dev_state *st);
	void (*dev_block)(struct device *dev,
			  const struct iommu_persist_dev_state *st);
};

int iommu_persist_register_driver(const struct iommu_persist_driver *drv);
void *iommu_persist_table_alloc(struct iommu_persist_domain *pd,
				unsigned int lg2sz, gfp_t gfp);
void iommu_persist_tables_free(struct iommu_persist_domain *pd,
			       struct iommu_pages_list *list);
int iommu_persist_incoming(u64 unit, struct iommu_persist_dev_state *st,
			   int max);
void iommu_persist_refuse(u64 unit, const char *reason);
void iommu_persist_abandoned(u32 sbdf);
bool iommu_persist_handover_armed(void);
bool iommu_persist_dev_shutdown(struct device *dev);

#else /* !CONFIG_IOMMU_PERSIST */

static inline struct iommu_domain *
iommu_persist_domain_alloc(struct device *dev, const char *name)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct iommu_domain *
iommu_persist_restore(struct device *dev, const char *name)
{
	return ERR_PTR(-ENOENT);
}

static inline void iommu_persist_domain_free(struct iommu_domain *domain) { }

static inline bool iommu_persist_dev_is_persisted(struct device *dev)
{
	return false;
}

static inline bool iommu_persist_dev_shutdown(struct device *dev)
{
	return false;
}

#endif /* CONFIG_IOMMU_PERSIST */

#endif /* _LINUX_IOMMU_PERSIST_H */
