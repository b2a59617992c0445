// SPDX-License-Identifier: GPL-2.0
/*
 * iommu-persist sample: DMA that keeps working across kexec, on QEMU's
 * "edu" PCI device (vendor 0x1234, device 0x11e8).
 *
 * Copyright (C) 2026 The pmpool authors
 *
 * Two edu devices are expected: the one in slot @persist_slot gets a
 * persistent domain (iommu_persist_domain_alloc()) with buffers from a
 * pmpool mapped at fixed IOVAs; any other gets an ordinary domain.
 *
 * mode=setup (first kernel): build both, DMA a pattern through each IOMMU
 * domain (RAM -> device -> RAM) and compare.
 * mode=verify (after kexec): before binding any device, check that the DMA
 * started just before the kexec landed in its preserved buffer; then take
 * the persistent domain back (iommu_persist_restore()), check every
 * mapping, DMA through the old IOVAs, add and remove mappings; show that
 * the other device lost its old mappings (its DMA faults) and works once
 * set up afresh.
 * In both modes the persistent device starts a device-to-RAM DMA in its
 * .shutdown callback, i.e. during kexec; edu performs it 100 ms later,
 * while the next kernel boots.
 *
 * Lines starting with "PMTEST:" are read by the test scripts.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/iommu-persist.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pmpool.h>
#include <linux/random.h>
#include <linux/syscore_ops.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_START		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)
#define EDU_DEV_BUF		0x40000	/* edu's own 4 KiB buffer */
/* QEMU's edu refuses a transfer that ends at the end of its buffer. */
#define EDU_DMA_SIZE		2048
#define EDU_DMA_TIMEOUT_MS	3000

#define EDU_DOMAIN_NAME		"edu-a"
#define EDU_POOL_NAME		"edu-buf"
#define EDU_STATE_MAGIC		0x6564755f70657273ULL	/* "edu_pers" */
#define EDU_MAX_MAPS		32
/* IOVAs of the persistent domain: buffer i at EDU_IOVA_BASE + i pages. */
#define EDU_IOVA_BASE		0x100000UL
/* IOVA of the ordinary domain of the other device. */
#define EDU_PLAIN_IOVA		0x1000000UL

/* Buffers of the persistent device, by role (slots of edu_state.map). */
enum { EDU_BUF_SRC, EDU_BUF_DST, EDU_BUF_FLIGHT, EDU_BUF_FIXED };

/* The root object of the "edu-buf" pool: found again after kexec. */
struct edu_state {
	u64 magic;
	u32 generation;		/* kernels that used the state */
	u32 nr_maps;
	u32 flight_seed;	/* pattern of the DMA started at kexec, 0 if none */
	u32 pad;
	struct {
		u64 iova;
		u64 handle;	/* buffer object in the pool */
	} map[EDU_MAX_MAPS];
};

static char *mode = "setup";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "setup | verify | canary");
/*
 * A page of reserved RAM (memmap=) at the physical address equal to the
 * in-flight DMA's IOVA: setup writes a pattern there, mode=canary checks
 * it in the next kernel.  A DMA that went out untranslated would land in it.
 */
static unsigned long canary;
module_param(canary, ulong, 0444);
MODULE_PARM_DESC(canary, "physical address of the canary page (reserved with memmap=)");
#define EDU_CANARY_SEED		0xca7a11e5
/*
 * churn=1: the device that is not persisted then allocates and frees a
 * persistent domain ("edu-churn") in a loop until the kexec stops the CPUs,
 * so that the kexec races with the handover tree changing.
 */
static char *skip_restore = "";
module_param(skip_restore, charp, 0444);
MODULE_PARM_DESC(skip_restore, "verify: do not restore; \"fresh\" persistent or \"plain\" ordinary domain instead");
static bool churn;
module_param(churn, bool, 0444);
MODULE_PARM_DESC(churn, "allocate and free a persistent domain in a loop on the other device");
#define EDU_CHURN_NAME		"edu-churn"
static int persist_slot = 4;
module_param(persist_slot, int, 0444);
MODULE_PARM_DESC(persist_slot, "PCI slot of the edu device to persist");

static struct pmpool *edu_pool;
static struct edu_state *edu_state;

struct edu_dev {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct iommu_domain *domain;
	bool persistent;
	struct page *plain_page;	/* ordinary domain: its buffer */
};

static struct edu_dev *edu_persisted;
static unsigned int edu_fails;

#define edu_pass(fmt, ...) pr_info("PMTEST: PASS: " fmt "\n", ##__VA_ARGS__)
#define edu_fail(fmt, ...) \
	do { edu_fails++; pr_err("PMTEST: FAIL: " fmt "\n", ##__VA_ARGS__); } while (0)
#define edu_info(fmt, ...) pr_info("PMTEST: INFO: " fmt "\n", ##__VA_ARGS__)

static void edu_fill(void *buf, u32 seed)
{
	u32 *p = buf;
	int i;

	for (i = 0; i < EDU_DMA_SIZE / sizeof(*p); i++)
		p[i] = seed ^ (i * 0x9e3779b9);
}

static bool edu_check(const void *buf, u32 seed)
{
	const u32 *p = buf;
	int i;

	for (i = 0; i < EDU_DMA_SIZE / sizeof(*p); i++)
		if (p[i] != (seed ^ (i * 0x9e3779b9)))
			return false;
	return true;
}

static void edu_dma_start(struct edu_dev *edu, u64 src, u64 dst, bool to_ram)
{
	writeq(src, edu->bar + EDU_REG_DMA_SRC);
	writeq(dst, edu->bar + EDU_REG_DMA_DST);
	writeq(EDU_DMA_SIZE, edu->bar + EDU_REG_DMA_CNT);
	writeq(EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0),
	       edu->bar + EDU_REG_DMA_CMD);
}

static int edu_dma_wait(struct edu_dev *edu)
{
	int ms;

	for (ms = 0; ms < EDU_DMA_TIMEOUT_MS; ms += 10) {
		if (!(readq(edu->bar + EDU_REG_DMA_CMD) & EDU_CMD_START))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

/* RAM at @src_iova -> edu -> RAM at @dst_iova, both through the IOMMU. */
static int edu_dma_roundtrip(struct edu_dev *edu, u64 src_iova, u64 dst_iova)
{
	edu_dma_start(edu, src_iova, EDU_DEV_BUF, false);
	if (edu_dma_wait(edu))
		return -ETIMEDOUT;
	edu_dma_start(edu, EDU_DEV_BUF, dst_iova, true);
	return edu_dma_wait(edu);
}

static void *edu_buf(int slot)
{
	return pmpool_map(edu_pool, edu_state->map[slot].handle);
}

/* Add a pool buffer mapped at the next free IOVA of the persistent domain. */
static int edu_map_new(struct edu_dev *edu)
{
	u32 slot = edu_state->nr_maps;
	u64 iova = EDU_IOVA_BASE, handle;
	int i, err;

	if (slot >= EDU_MAX_MAPS)
		return -ENOSPC;
	for (i = 0; i < slot; i++)
		iova = max(iova, edu_state->map[i].iova + PAGE_SIZE);
	if (!pmpool_alloc(edu_pool, GFP_KERNEL | __GFP_ZERO, &handle))
		return -ENOMEM;
	err = iommu_map(edu->domain, iova, pmpool_phys(edu_pool, handle),
			PAGE_SIZE, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (err) {
		pmpool_free(edu_pool, handle);
		return err;
	}
	edu_state->map[slot].iova = iova;
	edu_state->map[slot].handle = handle;
	edu_state->nr_maps = slot + 1;
	return 0;
}

/* Every mapping of the state translates to its buffer. */
static int edu_check_maps(struct edu_dev *edu)
{
	phys_addr_t want, got;
	int i, bad = 0;

	for (i = 0; i < edu_state->nr_maps; i++) {
		want = pmpool_phys(edu_pool, edu_state->map[i].handle);
		got = iommu_iova_to_phys(edu->domain, edu_state->map[i].iova);
		if (!want || got != want) {
			pr_err("map %d: IOVA %#llx -> %pa, want %pa\n", i,
			       edu_state->map[i].iova, &got, &want);
			bad++;
		}
	}
	return bad;
}

/* DMA a fresh pattern through the persistent domain's first two buffers. */
static void edu_test_persistent_dma(struct edu_dev *edu, const char *what)
{
	u32 seed = get_random_u32() | 1;

	edu_fill(edu_buf(EDU_BUF_SRC), seed);
	memset(edu_buf(EDU_BUF_DST), 0, PAGE_SIZE);
	if (edu_dma_roundtrip(edu, edu_state->map[EDU_BUF_SRC].iova,
			      edu_state->map[EDU_BUF_DST].iova))
		edu_fail("%s: edu DMA timed out", what);
	else if (!edu_check(edu_buf(EDU_BUF_DST), seed))
		edu_fail("%s: pattern did not come back through IOVA %#llx",
			 what, edu_state->map[EDU_BUF_DST].iova);
	else
		edu_pass("%s: DMA through the persistent domain, IOVA %#llx -> %#llx intact",
			 what, edu_state->map[EDU_BUF_SRC].iova,
			 edu_state->map[EDU_BUF_DST].iova);
}

/*
 * After a failed restore the device must be blocked: a DMA to the old IOVA
 * of a preserved buffer must not land there (nor anywhere: translation is
 * on, and the entry is gone).  The buffer keeps a known pattern.
 */
static void edu_check_blocked(struct edu_dev *edu, int err)
{
	void *dst = edu_buf(EDU_BUF_DST);
	u16 cmd;

	pci_read_config_word(edu->pdev, PCI_COMMAND, &cmd);
	edu_fill(dst, 0xb10cced);
	edu_dma_start(edu, EDU_DEV_BUF, edu_state->map[EDU_BUF_DST].iova, true);
	edu_dma_wait(edu);
	msleep(100);
	if (cmd & PCI_COMMAND_MASTER)
		edu_fail("restore failed (%d) but bus mastering is still on", err);
	else if (!edu_check(dst, 0xb10cced))
		edu_fail("restore failed (%d) but a DMA to IOVA %#llx landed in its buffer",
			 err, edu_state->map[EDU_BUF_DST].iova);
	else
		edu_pass("restore failed (%d): device blocked, a DMA to IOVA %#llx did not land",
			 err, edu_state->map[EDU_BUF_DST].iova);
}

/* Write (@set) or check the canary page; true if it holds the pattern. */
static bool edu_canary(bool set)
{
	void *p = memremap(canary, PAGE_SIZE, MEMREMAP_WB);
	bool ok;

	if (!p)
		return false;
	if (set)
		edu_fill(p, EDU_CANARY_SEED);
	ok = edu_check(p, EDU_CANARY_SEED);
	memunmap(p);
	return ok;
}

/*
 * The next kernel did not receive (or does not use) the handover: the old
 * or this kernel must have blocked the persisted device before translation
 * went off.  Its bus mastering is found off, and a DMA it is asked to do to
 * the in-flight IOVA, without this driver turning mastering on, does not
 * reach the canary at that address read as physical.
 */
static void edu_canary_probe(struct edu_dev *edu)
{
	u16 cmd;

	pci_read_config_word(edu->pdev, PCI_COMMAND, &cmd);
	if (cmd & PCI_COMMAND_MASTER)
		edu_fail("%s: bus mastering still on after the kexec", pci_name(edu->pdev));
	else
		edu_pass("%s: bus mastering found off: blocked before translation went off",
			 pci_name(edu->pdev));
	if (!edu_canary(false)) {
		edu_fail("canary at %#lx overwritten: a DMA landed at its IOVA read as physical",
			 canary);
		return;
	}
	edu_dma_start(edu, EDU_DEV_BUF, canary, true);
	edu_dma_wait(edu);
	msleep(100);
	if (edu_canary(false))
		edu_pass("canary intact at %#lx: no DMA landed at its IOVA read as physical",
			 canary);
	else
		edu_fail("canary at %#lx overwritten by the device's DMA", canary);
}

/* Arm the in-flight DMA: the edu buffer holds the pattern from now on. */
static void edu_arm_flight(struct edu_dev *edu)
{
	u32 seed = get_random_u32() | 1;

	edu_fill(edu_buf(EDU_BUF_SRC), seed);
	edu_dma_start(edu, edu_state->map[EDU_BUF_SRC].iova, EDU_DEV_BUF, false);
	if (edu_dma_wait(edu)) {
		edu_fail("cannot load the in-flight pattern into edu");
		return;
	}
	memset(edu_buf(EDU_BUF_FLIGHT), 0, PAGE_SIZE);
	WRITE_ONCE(edu_state->flight_seed, seed);
	edu_info("in-flight DMA armed: pattern %#x goes to IOVA %#llx during the next kexec",
		 seed, edu_state->map[EDU_BUF_FLIGHT].iova);
}

static int edu_setup_persistent(struct edu_dev *edu)
{
	u64 root;
	int i, err;

	edu_pool = pmpool_create(EDU_POOL_NAME, PAGE_SIZE, 0);
	if (IS_ERR(edu_pool))
		return PTR_ERR(edu_pool);
	edu_state = pmpool_alloc(edu_pool, GFP_KERNEL | __GFP_ZERO, &root);
	if (!edu_state)
		return -ENOMEM;
	edu_state->magic = EDU_STATE_MAGIC;
	edu_state->generation = 1;
	pmpool_set_root(edu_pool, root);

	edu->domain = iommu_persist_domain_alloc(&edu->pdev->dev, EDU_DOMAIN_NAME);
	if (IS_ERR(edu->domain)) {
		err = PTR_ERR(edu->domain);
		edu->domain = NULL;
		edu_fail("iommu_persist_domain_alloc: %d", err);
		return err;
	}
	for (i = 0; i <= EDU_BUF_FIXED; i++) {
		err = edu_map_new(edu);
		if (err) {
			edu_fail("map buffer %d: %d", i, err);
			return err;
		}
	}
	edu_pass("persistent domain '%s' with %u mappings at IOVA %#lx..",
		 EDU_DOMAIN_NAME, edu_state->nr_maps, EDU_IOVA_BASE);
	edu_test_persistent_dma(edu, "setup");
	edu_arm_flight(edu);
	return 0;
}

static int edu_restore_persistent(struct edu_dev *edu)
{
	int bad, err, i;
	size_t unmapped;
	u64 iova;

	if (!edu_pool)
		return -ENODEV;

	edu->domain = iommu_persist_restore(&edu->pdev->dev, EDU_DOMAIN_NAME);
	if (IS_ERR(edu->domain)) {
		err = PTR_ERR(edu->domain);
		edu->domain = NULL;
		return err;
	}
	bad = edu_check_maps(edu);
	if (bad)
		edu_fail("%d of %u mappings lost across kexec", bad, edu_state->nr_maps);
	else
		edu_pass("restored domain '%s': all %u mappings translate to their buffers",
			 EDU_DOMAIN_NAME, edu_state->nr_maps);
	edu_test_persistent_dma(edu, "restored");

	/* Grow: one new mapping per kernel, used for DMA right away. */
	err = edu_map_new(edu);
	if (err) {
		edu_fail("new mapping after restore: %d", err);
	} else {
		i = edu_state->nr_maps - 1;
		edu_fill(edu_buf(EDU_BUF_SRC), 0x5eed0000 | i);
		memset(edu_buf(i), 0, PAGE_SIZE);
		if (edu_dma_roundtrip(edu, edu_state->map[EDU_BUF_SRC].iova,
				      edu_state->map[i].iova) ||
		    !edu_check(edu_buf(i), 0x5eed0000 | i))
			edu_fail("DMA to the new mapping at IOVA %#llx", edu_state->map[i].iova);
		else
			edu_pass("new mapping at IOVA %#llx added after restore, DMA intact",
				 edu_state->map[i].iova);
	}

	/* Remove: map a scratch page, unmap it, and check it is gone. */
	iova = EDU_IOVA_BASE + EDU_MAX_MAPS * PAGE_SIZE;
	err = iommu_map(edu->domain, iova, pmpool_phys(edu_pool, edu_state->map[0].handle),
			PAGE_SIZE, IOMMU_READ, GFP_ATOMIC);
	unmapped = err ? 0 : iommu_unmap(edu->domain, iova, PAGE_SIZE);
	if (err || unmapped != PAGE_SIZE || iommu_iova_to_phys(edu->domain, iova))
		edu_fail("map (GFP_ATOMIC) and unmap at IOVA %#llx: err %d unmapped %zu",
			 iova, err, unmapped);
	else
		edu_pass("mapping at IOVA %#llx added (GFP_ATOMIC) and removed", iova);
	edu_arm_flight(edu);
	return 0;
}

/* The other device: an ordinary paging domain, not persisted. */
static void edu_test_plain(struct edu_dev *edu, bool after_kexec)
{
	struct iommu_domain *domain;
	void *buf;
	u32 seed;
	int err;

	if (after_kexec) {
		/*
		 * Its context entry was cleared when the unit was adopted: the
		 * old IOVA must fault, not reach memory.
		 */
		edu_dma_start(edu, EDU_DEV_BUF, EDU_PLAIN_IOVA, true);
		edu_dma_wait(edu);
		msleep(100);
		edu_info("non-persisted %s: DMA to its old IOVA %#lx issued (must fault)",
			 pci_name(edu->pdev), EDU_PLAIN_IOVA);
	}

	edu->plain_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	domain = iommu_paging_domain_alloc(&edu->pdev->dev);
	if (!edu->plain_page || IS_ERR(domain)) {
		edu_fail("%s: no page or domain", pci_name(edu->pdev));
		return;
	}
	err = iommu_attach_device(domain, &edu->pdev->dev);
	if (!err)
		err = iommu_map(domain, EDU_PLAIN_IOVA, page_to_phys(edu->plain_page),
				PAGE_SIZE, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (err) {
		edu_fail("%s: ordinary domain: %d", pci_name(edu->pdev), err);
		return;
	}
	edu->domain = domain;
	buf = page_address(edu->plain_page);
	seed = get_random_u32() | 1;
	edu_fill(buf, seed);
	edu_dma_start(edu, EDU_PLAIN_IOVA, EDU_DEV_BUF, false);
	if (!edu_dma_wait(edu)) {
		memset(buf, 0, PAGE_SIZE);
		edu_dma_start(edu, EDU_DEV_BUF, EDU_PLAIN_IOVA, true);
	}
	if (edu_dma_wait(edu) || !edu_check(buf, seed))
		edu_fail("%s: DMA through an ordinary domain", pci_name(edu->pdev));
	else
		edu_pass("%s (not persisted): DMA through a fresh ordinary domain intact",
			 pci_name(edu->pdev));
}

static int edu_churn_fn(void *arg)
{
	struct edu_dev *edu = arg;
	struct iommu_domain *d;
	unsigned long n = 0, failed = 0;

	while (!kthread_should_stop()) {
		d = iommu_persist_domain_alloc(&edu->pdev->dev, EDU_CHURN_NAME);
		if (IS_ERR(d)) {
			/* After the tree froze at the kexec: expected. */
			if (!failed++)
				edu_info("churn: allocation %lu failed: %ld", n, PTR_ERR(d));
		} else {
			usleep_range(500, 2000);
			iommu_persist_domain_free(d);
			n++;
		}
		usleep_range(500, 2000);
	}
	return 0;
}

/* Free the device's ordinary domain and churn persistent ones. */
static void edu_churn_start(struct edu_dev *edu)
{
	struct task_struct *t;

	if (edu->domain) {
		iommu_detach_device(edu->domain, &edu->pdev->dev);
		iommu_domain_free(edu->domain);
		edu->domain = NULL;
	}
	t = kthread_run(edu_churn_fn, edu, "edu_churn");
	if (IS_ERR(t))
		edu_fail("churn thread: %ld", PTR_ERR(t));
	else
		edu_info("%s: churning persistent domains until the kexec",
			 pci_name(edu->pdev));
}

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_dev *edu;
	int err;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	edu->bar = pcim_iomap(pdev, 0, 0);
	if (!edu->bar)
		return -ENOMEM;
	if ((readl(edu->bar + EDU_REG_ID) & 0xff) != 0xed)
		return -ENODEV;
	if (!strcmp(mode, "canary")) {
		if (PCI_SLOT(pdev->devfn) == persist_slot)
			edu_canary_probe(edu);
		return 0;
	}
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);

	edu->persistent = PCI_SLOT(pdev->devfn) == persist_slot;
	if (!edu->persistent) {
		edu_test_plain(edu, !strcmp(mode, "verify"));
		if (churn)
			edu_churn_start(edu);
		return 0;
	}
	if (!strcmp(mode, "setup")) {
		err = edu_setup_persistent(edu);
	} else if (!strcmp(skip_restore, "plain")) {
		/*
		 * The handed-over entry must be replaced, not kept: DMA through
		 * an IOVA that only the new domain maps proves it.
		 */
		edu_info("%s: not restoring: attaching an ordinary domain instead",
			 pci_name(pdev));
		edu_test_plain(edu, false);
		return 0;
	} else if (!strcmp(skip_restore, "fresh")) {
		err = -ECANCELED;
	} else {
		err = edu_restore_persistent(edu);
	}
	if (err && err != -ENOENT && err != -ECANCELED && strcmp(mode, "setup"))
		edu_check_blocked(edu, err);
	if (err && strcmp(mode, "setup")) {
		if (err == -ENOENT)
			edu_info("%s: no domain handed over (-ENOENT): setting up afresh",
				 pci_name(pdev));
		else if (err == -ECANCELED)
			edu_info("%s: not restoring: setting up afresh", pci_name(pdev));
		else
			edu_info("%s: restore failed (%d): setting up afresh",
				 pci_name(pdev), err);
		edu_state->nr_maps = 0;
		edu->domain = iommu_persist_domain_alloc(&pdev->dev, EDU_DOMAIN_NAME);
		err = PTR_ERR_OR_ZERO(edu->domain);
		/* A blocked device has bus mastering off: on again, new domain. */
		if (!err)
			pci_set_master(pdev);
		while (!err && edu_state->nr_maps <= EDU_BUF_FIXED)
			err = edu_map_new(edu);
		if (!err) {
			edu_pass("%s works again with a fresh persistent domain",
				 pci_name(pdev));
			edu_test_persistent_dma(edu, "fresh");
			edu_arm_flight(edu);
		}
	}
	if (err) {
		edu_fail("%s: %d", pci_name(pdev), err);
		if (IS_ERR(edu->domain))
			edu->domain = NULL;
		return err;
	}
	edu_persisted = edu;
	return 0;
}

/*
 * Called during kexec, before bus mastering is turned off for devices that
 * are not persisted: start the in-flight DMA.
 */
static void edu_shutdown(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);

	if (!edu || !edu->persistent || !edu_state || !edu_state->flight_seed)
		return;
	edu_dma_start(edu, EDU_DEV_BUF, edu_state->map[EDU_BUF_FLIGHT].iova, true);
	pr_info("kexec: DMA to IOVA %#llx started (lands 100 ms later)\n",
		edu_state->map[EDU_BUF_FLIGHT].iova);
}

/* The last hook this driver gets before the jump to the next kernel. */
static void edu_syscore_shutdown(void *data)
{
	u64 cmd;

	if (!edu_persisted || !edu_state || !edu_state->flight_seed)
		return;
	cmd = readq(edu_persisted->bar + EDU_REG_DMA_CMD);
	if (cmd & EDU_CMD_START)
		pr_info("PMTEST: INFO: in-flight DMA still pending at the last hook before the jump (cmd %#llx)\n",
			cmd);
	else
		pr_err("PMTEST: INCONCLUSIVE: the DMA completed before the jump (cmd %#llx)\n",
		       cmd);
}

static const struct syscore_ops edu_syscore_ops = {
	.shutdown = edu_syscore_shutdown,
};

static struct syscore edu_syscore = {
	.ops = &edu_syscore_ops,
};

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_dev *edu = pci_get_drvdata(pdev);

	edu_dma_wait(edu);
	if (edu->persistent) {
		/* No longer handed over; the buffers stay in the pool. */
		iommu_persist_domain_free(edu->domain);
		if (edu_persisted == edu)
			edu_persisted = NULL;
	} else if (edu->domain) {
		iommu_detach_device(edu->domain, &pdev->dev);
		iommu_domain_free(edu->domain);
	}
	if (edu->plain_page)
		__free_page(edu->plain_page);
}

static struct pci_driver edu_driver = {
	.name = "iommu_persist_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
	.shutdown = edu_shutdown,
};

/* After kexec, before any device is bound: did the in-flight DMA land? */
static int edu_verify_flight(void)
{
	void *buf;

	edu_pool = pmpool_restore(EDU_POOL_NAME);
	if (IS_ERR(edu_pool)) {
		edu_fail("buffer pool not handed over: %ld", PTR_ERR(edu_pool));
		edu_pool = NULL;
		return -ENOENT;
	}
	edu_state = pmpool_map(edu_pool, pmpool_get_root(edu_pool));
	if (!edu_state || edu_state->magic != EDU_STATE_MAGIC ||
	    edu_state->nr_maps <= EDU_BUF_FIXED || edu_state->nr_maps > EDU_MAX_MAPS) {
		edu_fail("buffer pool state is not valid");
		return -EINVAL;
	}
	edu_state->generation++;
	buf = edu_buf(EDU_BUF_FLIGHT);
	edu_info("checking the in-flight DMA before any edu device is bound");
	if (!edu_state->flight_seed)
		edu_info("no DMA was in flight at the kexec");
	else if (buf && edu_check(buf, edu_state->flight_seed))
		edu_pass("in-flight DMA landed in the preserved buffer at IOVA %#llx across kexec",
			 edu_state->map[EDU_BUF_FLIGHT].iova);
	else
		edu_fail("in-flight DMA did not land at IOVA %#llx (pattern %#x)",
			 edu_state->map[EDU_BUF_FLIGHT].iova, edu_state->flight_seed);
	edu_state->flight_seed = 0;
	return 0;
}

static int __init edu_init(void)
{
	int err;

	if (canary && canary != EDU_IOVA_BASE + EDU_BUF_FLIGHT * PAGE_SIZE)
		return -EINVAL;	/* the canary is where the in-flight DMA would go */
	if (!strcmp(mode, "verify")) {
		err = edu_verify_flight();
		if (err)
			return err;
	} else if (!strcmp(mode, "setup")) {
		if (canary && !edu_canary(true))
			return -EIO;
	} else if (strcmp(mode, "canary") || !canary) {
		return -EINVAL;
	}
	err = pci_register_driver(&edu_driver);
	if (err)
		return err;
	register_syscore(&edu_syscore);
	pr_info("PMTEST: edu %s done, %u failure(s)\n", mode, edu_fails);
	return 0;
}
module_init(edu_init);

static void __exit edu_exit(void)
{
	unregister_syscore(&edu_syscore);
	pci_unregister_driver(&edu_driver);
	if (edu_pool)
		pmpool_destroy(edu_pool);
}
module_exit(edu_exit);

MODULE_DESCRIPTION("iommu-persist sample: edu DMA across kexec");
MODULE_LICENSE("GPL");
