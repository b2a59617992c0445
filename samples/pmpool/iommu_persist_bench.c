// SPDX-License-Identifier: GPL-2.0
/*
 * iommu-persist benchmarks, run by `make bench` on QEMU edu devices behind
 * an emulated VT-d (slots 4 to 9).  Figures are printed like pmpool_bench's:
 *
 *   BENCH: name=<row> unit=<unit> value=<v> baseline=<b> target=<t>
 *
 *   insmod iommu_persist_bench.ko mode=fill
 *	gives the edu devices in slots 4 to 8 persistent domains with 1 (a
 *	warm-up), 1, 10k, 100k and 1M 4 KiB mappings, timing iommu_map() on
 *	the 100k one against the same mappings on an ordinary domain (slot 9).
 *   insmod iommu_persist_bench.ko mode=restore
 *	after kexec: times iommu_persist_restore() of each, against the one
 *	with a single mapping, and checks the first and last translation.
 *	The warm-up domain is restored first and not reported: it pays the
 *	one-time costs of the first restore.
 *
 * No DMA is issued: every IOVA maps one page of a pmpool (preserved, so
 * the translations stay valid across the kexec).
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/iommu-persist.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pmpool.h>
#include <linux/sizes.h>

static char *mode = "fill";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "fill or restore");

#define BENCH_IOVA	SZ_4G		/* first IOVA of every domain */
#define FIRST_SLOT	4
#define NR_SLOTS	6		/* 4 to 8 persistent, 9 ordinary */
#define PAGE_POOL	"iobench-page"

static const struct {
	const char *name;
	const char *row;
	unsigned long nr_maps;
} bench_domains[NR_SLOTS - 1] = {
	{ "iobench-warm", NULL,                     1 },
	{ "iobench-1",    "iommu_restore_1map",     1 },
	{ "iobench-10k",  "iommu_restore_10k_maps", 10000 },
	{ "iobench-100k", "iommu_restore_100k_maps", 100000 },
	{ "iobench-1m",   "iommu_restore_1m_maps",  1000000 },
};

static struct pci_dev *bench_pdev[NR_SLOTS];
static struct iommu_domain *bench_domain[NR_SLOTS];
static struct pmpool *bench_pool;
static phys_addr_t bench_phys;

static void bench_row(const char *name, const char *unit, u64 value,
		      u64 baseline, const char *target)
{
	pr_info("BENCH: name=%s unit=%s value=%llu baseline=%llu target=%s\n",
		name, unit, value, baseline, target);
}

/* Maps @nr pages from BENCH_IOVA on; returns the time taken in ns, or < 0. */
static s64 bench_map(struct iommu_domain *domain, unsigned long nr)
{
	unsigned long i;
	u64 t0 = ktime_get_ns();
	int err;

	for (i = 0; i < nr; i++) {
		err = iommu_map(domain, BENCH_IOVA + i * PAGE_SIZE, bench_phys,
				PAGE_SIZE, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
		if (err) {
			pr_err("FAIL: iommu_map #%lu: %d\n", i, err);
			return err;
		}
		cond_resched();
	}
	return ktime_get_ns() - t0;
}

static bool bench_translates(struct iommu_domain *domain, unsigned long nr)
{
	return iommu_iova_to_phys(domain, BENCH_IOVA) == bench_phys &&
	       iommu_iova_to_phys(domain, BENCH_IOVA + (nr - 1) * PAGE_SIZE) ==
	       bench_phys &&
	       !iommu_iova_to_phys(domain, BENCH_IOVA + nr * PAGE_SIZE);
}

static int bench_fill(void)
{
	struct device *dev;
	s64 t_persist = 0, t_plain;
	u64 handle;
	int i, err;

	bench_pool = pmpool_create(PAGE_POOL, PAGE_SIZE, 0);
	if (IS_ERR(bench_pool))
		return PTR_ERR(bench_pool);
	if (!pmpool_alloc(bench_pool, GFP_KERNEL | __GFP_ZERO, &handle))
		return -ENOMEM;
	pmpool_set_root(bench_pool, handle);
	bench_phys = pmpool_phys(bench_pool, handle);

	for (i = 0; i < NR_SLOTS - 1; i++) {
		s64 t;

		dev = &bench_pdev[i]->dev;
		bench_domain[i] = iommu_persist_domain_alloc(dev, bench_domains[i].name);
		if (IS_ERR(bench_domain[i])) {
			pr_err("FAIL: %s: %ld\n", bench_domains[i].name,
			       PTR_ERR(bench_domain[i]));
			return PTR_ERR(bench_domain[i]);
		}
		t = bench_map(bench_domain[i], bench_domains[i].nr_maps);
		if (t < 0)
			return t;
		pr_info("%s: %lu mappings in %lld us\n", bench_domains[i].name,
			bench_domains[i].nr_maps, t / NSEC_PER_USEC);
		if (bench_domains[i].nr_maps == 100000)
			t_persist = t;
	}

	/* The baseline: the same 100k mappings on an ordinary domain. */
	dev = &bench_pdev[NR_SLOTS - 1]->dev;
	bench_domain[NR_SLOTS - 1] = iommu_paging_domain_alloc(dev);
	if (IS_ERR(bench_domain[NR_SLOTS - 1]))
		return PTR_ERR(bench_domain[NR_SLOTS - 1]);
	err = iommu_attach_device(bench_domain[NR_SLOTS - 1], dev);
	if (err)
		return err;
	t_plain = bench_map(bench_domain[NR_SLOTS - 1], 100000);
	if (t_plain < 0)
		return t_plain;
	bench_row("iommu_map_4K_persistent", "ns/map", t_persist / 100000,
		  t_plain / 100000, "ratio<=1.25");
	pr_info("PASS: %d persistent domains filled\n", NR_SLOTS - 1);
	return 0;
}

static int bench_restore(void)
{
	u64 t[NR_SLOTS - 1];
	u64 handle;
	int i;

	bench_pool = pmpool_restore(PAGE_POOL);
	if (IS_ERR(bench_pool))
		return PTR_ERR(bench_pool);
	handle = pmpool_get_root(bench_pool);
	bench_phys = pmpool_phys(bench_pool, handle);

	for (i = 0; i < NR_SLOTS - 1; i++) {
		struct device *dev = &bench_pdev[i]->dev;
		u64 t0 = ktime_get_ns();

		bench_domain[i] = iommu_persist_restore(dev, bench_domains[i].name);
		t[i] = ktime_get_ns() - t0;
		if (IS_ERR(bench_domain[i])) {
			pr_err("FAIL: restore %s: %ld\n", bench_domains[i].name,
			       PTR_ERR(bench_domain[i]));
			return PTR_ERR(bench_domain[i]);
		}
		if (!bench_translates(bench_domain[i], bench_domains[i].nr_maps)) {
			pr_err("FAIL: %s: mappings lost\n", bench_domains[i].name);
			return -EINVAL;
		}
	}
	for (i = 1; i < NR_SLOTS - 1; i++)
		bench_row(bench_domains[i].row, "us", t[i] / NSEC_PER_USEC,
			  t[1] / NSEC_PER_USEC, "report");
	pr_info("PASS: %d persistent domains restored, every mapping translates\n",
		NR_SLOTS - 1);
	return 0;
}

static int bench_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	unsigned int slot = PCI_SLOT(pdev->devfn);

	if (slot < FIRST_SLOT || slot >= FIRST_SLOT + NR_SLOTS)
		return -ENODEV;
	bench_pdev[slot - FIRST_SLOT] = pdev;
	return 0;
}

static void bench_remove(struct pci_dev *pdev)
{
	unsigned int i = PCI_SLOT(pdev->devfn) - FIRST_SLOT;

	if (IS_ERR_OR_NULL(bench_domain[i]))
		return;
	if (i == NR_SLOTS - 1) {
		iommu_detach_device(bench_domain[i], &pdev->dev);
		iommu_domain_free(bench_domain[i]);
	} else {
		iommu_persist_domain_free(bench_domain[i]);
	}
}

static const struct pci_device_id bench_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },	/* QEMU edu */
	{ }
};
MODULE_DEVICE_TABLE(pci, bench_ids);

static struct pci_driver bench_driver = {
	.name = "iommu_persist_bench",
	.id_table = bench_ids,
	.probe = bench_probe,
	.remove = bench_remove,
};

static int __init iommu_persist_bench_init(void)
{
	int err, i;

	err = pci_register_driver(&bench_driver);
	if (err)
		return err;
	for (i = 0; i < NR_SLOTS; i++) {
		if (!bench_pdev[i]) {
			pr_err("FAIL: no edu device in slot %d\n", FIRST_SLOT + i);
			err = -ENODEV;
			goto out;
		}
	}
	if (!strcmp(mode, "fill"))
		err = bench_fill();
	else if (!strcmp(mode, "restore"))
		err = bench_restore();
	else
		err = -EINVAL;
out:
	if (err) {
		pr_err("FAIL: mode %s: %d\n", mode, err);
		pci_unregister_driver(&bench_driver);
	}
	return err;
}
module_init(iommu_persist_bench_init);

static void __exit iommu_persist_bench_exit(void)
{
	pci_unregister_driver(&bench_driver);
}
module_exit(iommu_persist_bench_exit);

MODULE_DESCRIPTION("iommu-persist benchmarks on QEMU's edu device");
MODULE_LICENSE("GPL");
