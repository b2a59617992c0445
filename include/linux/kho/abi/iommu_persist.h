/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommu-persist: the state one kernel hands to the next.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#ifndef _LINUX_KHO_ABI_IOMMU_PERSIST_H
#define _LINUX_KHO_ABI_IOMMU_PERSIST_H

/**
 * DOC: iommu-persist KHO ABI
 *
 * iommu-persist registers one KHO subtree, named ``"iommu-persist"``.  It is
 * a flattened device tree built with libfdt whose root node carries
 * ``compatible = "iommu-persist-v1"``.  Every device whose DMA translation
 * is handed over is one child node named ``dev@<sbdf>`` (lower-case hex of
 * the segment/bus/devfn triple below) with these properties:
 *
 *  - ``name``          (string, NUL-terminated, at most
 *    %IOMMU_PERSIST_ABI_NAME_MAX bytes including the NUL): the name the
 *    driver gave to iommu_persist_domain_alloc().  The page-table pages of
 *    the domain are the objects of the pmpool named ``"iopt:" name``, whose
 *    root object is the top-level table.
 *  - ``driver``        (string): the IOMMU driver that wrote the node,
 *    ``"intel-vtd"`` for now.  A kernel refuses a node of a driver it does
 *    not have.
 *  - ``sbdf``          (u32): PCI segment << 16 | bus << 8 | devfn.
 *  - ``unit``          (u64): physical address of the register set of the
 *    IOMMU unit translating the device (VT-d: DRHD register base).
 *  - ``did``           (u32): the domain ID in the device's context entry.
 *  - ``top-table``     (u64): physical address of the top-level page table.
 *  - ``format``        (u32): driver-specific page-table format (VT-d: the
 *    context entry's address width field).
 *  - ``root-table``    (u64): physical address of the unit's root table, a
 *    preserved order-0 folio (the same for every device of a unit).
 *  - ``context-table`` (u64): physical address of the context table of the
 *    device's bus, a preserved order-0 folio.
 *
 * The tree changes only when a persistent domain is allocated, restored or
 * freed, never at kexec time: the hardware tables it points to are kept
 * consistent by the running kernel at every instant.  A node's device keeps
 * bus mastering on across the kexec and its IOMMU unit keeps translating,
 * so the device may have DMA in flight while the next kernel boots.
 *
 * All integers are big-endian (FDT cells).  Any change to this layout or to
 * the meaning of a property requires a new compatible string.
 */

/* IOMMU_PERSIST_ABI_FDT_NAME - name of the subtree in the KHO root FDT */
#define IOMMU_PERSIST_ABI_FDT_NAME		"iommu-persist"
/* IOMMU_PERSIST_ABI_COMPATIBLE - compatible string of the subtree */
#define IOMMU_PERSIST_ABI_COMPATIBLE		"iommu-persist-v1"

#define IOMMU_PERSIST_ABI_PROP_NAME		"name"
#define IOMMU_PERSIST_ABI_PROP_DRIVER		"driver"
#define IOMMU_PERSIST_ABI_PROP_SBDF		"sbdf"
#define IOMMU_PERSIST_ABI_PROP_UNIT		"unit"
#define IOMMU_PERSIST_ABI_PROP_DID		"did"
#define IOMMU_PERSIST_ABI_PROP_TOP		"top-table"
#define IOMMU_PERSIST_ABI_PROP_FORMAT		"format"
#define IOMMU_PERSIST_ABI_PROP_ROOT		"root-table"
#define IOMMU_PERSIST_ABI_PROP_CONTEXT		"context-table"

/* IOMMU_PERSIST_ABI_NAME_MAX - longest name, counting the NUL */
#define IOMMU_PERSIST_ABI_NAME_MAX		24
/* IOMMU_PERSIST_ABI_POOL_PREFIX - prefix of the page-table pool's name */
#define IOMMU_PERSIST_ABI_POOL_PREFIX		"iopt:"
/* IOMMU_PERSIST_ABI_DRIVER_VTD - ``driver`` of Intel VT-d nodes */
#define IOMMU_PERSIST_ABI_DRIVER_VTD		"intel-vtd"

#endif /* _LINUX_KHO_ABI_IOMMU_PERSIST_H */
