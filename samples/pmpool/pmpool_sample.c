// SPDX-License-Identifier: GPL-2.0
/*
 * pmpool sample: a linked structure whose links are pmpool handles, spread
 * over four pools of different object sizes, that survives kexec.
 *
 *   insmod pmpool_sample.ko mode=create [records=N]
 *	creates the pools and a list of N records; stays loaded.
 *   insmod pmpool_sample.ko mode=verify [records=N] [drop=M]
 *	after kexec: restores the pools, walks the list from the root,
 *	checks every record and payload, frees the first M records, then
 *	appends N more.
 *   insmod pmpool_sample.ko mode=absent
 *	checks that none of the pools was handed over.
 *   insmod pmpool_sample.ko mode=destroy
 *	creates the pools, fills them, destroys them (nothing to hand over).
 *   insmod pmpool_sample.ko mode=uaf
 *	reads a freed pool object on purpose: a debug kernel's KASAN must
 *	report it (a test of the debug kernel, never for production).
 *
 * One line "pmpool_sample: PASS: ..." or "pmpool_sample: FAIL: ..." says
 * how it went.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pmpool.h>
#include <linux/sizes.h>
#include <linux/string.h>

static char *mode = "create";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "create, verify, absent, destroy or uaf");
static char *skip = "";
module_param(skip, charp, 0444);
MODULE_PARM_DESC(skip, "verify: a pool that must have been refused; its payloads are not checked");
static unsigned int records = 256;
module_param(records, uint, 0444);
MODULE_PARM_DESC(records, "records to add");
static unsigned int drop;
module_param(drop, uint, 0444);
MODULE_PARM_DESC(drop, "verify: records to free from the head before adding");

#define SAMPLE_MAGIC	0x53504d50u	/* "PMPS" */
#define HUGE_EVERY	64		/* one 2 MiB payload every N records */

/* Four pools: records (24 B), header and small payloads, pages, huge. */
enum { P_REC, P_SMALL, P_PAGE, P_HUGE, NR_POOLS };
static const struct {
	const char *name;
	size_t size;
} sample_pools[NR_POOLS] = {
	[P_REC]   = { "sample-rec",   24 },
	[P_SMALL] = { "sample-small", 512 },
	[P_PAGE]  = { "sample-page",  SZ_4K },
	[P_HUGE]  = { "sample-huge",  SZ_2M },
};

static struct pmpool *pools[NR_POOLS];

/* The root object, in the small pool. */
struct sample_header {
	u32 magic;
	u32 generation;
	u64 nr_records;
	u64 head;	/* first record, P_REC handle */
	u64 tail;	/* last record, P_REC handle */
	u64 csum;	/* over every record's seq and payload checksum */
	u64 first_seq;	/* seq of the head record */
};

/* 24 bytes: exactly the P_REC object size. */
struct sample_record {
	u64 next;	/* P_REC handle or 0 */
	u64 payload;	/* handle in pool (seq % 3) + 1, or P_HUGE */
	u32 seq;
	u32 payload_csum;
};

static u64 sample_mix(u64 h, u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static int sample_payload_pool(u32 seq)
{
	if (seq % HUGE_EVERY == HUGE_EVERY - 1)
		return P_HUGE;
	return P_SMALL + seq % 2;
}

static void sample_fill(void *obj, size_t size, u32 seq)
{
	u64 *w = obj;
	size_t i;

	for (i = 0; i < size / 8; i++)
		w[i] = sample_mix(seq, i);
}

static u32 sample_csum(const void *obj, size_t size)
{
	const u64 *w = obj;
	u64 h = 0;
	size_t i;

	for (i = 0; i < size / 8; i++)
		h = sample_mix(h, w[i]);
	return (u32)(h ^ h >> 32);
}

static int sample_append(struct sample_header *hdr, u32 n)
{
	struct sample_record *rec, *tail;
	u64 h, ph;
	u32 i;

	for (i = 0; i < n; i++) {
		u32 seq = hdr->first_seq + hdr->nr_records;
		int p = sample_payload_pool(seq);
		void *payload;

		payload = pmpool_alloc(pools[p], GFP_KERNEL, &ph);
		if (!payload)
			return -ENOMEM;
		sample_fill(payload, pmpool_obj_size(pools[p]), seq);
		rec = pmpool_alloc(pools[P_REC], GFP_KERNEL | __GFP_ZERO, &h);
		if (!rec) {
			pmpool_free(pools[p], ph);
			return -ENOMEM;
		}
		rec->seq = seq;
		rec->payload = ph;
		rec->payload_csum = sample_csum(payload, pmpool_obj_size(pools[p]));
		/* Link last: a kexec before this leaves a valid shorter list. */
		tail = hdr->tail ? pmpool_map(pools[P_REC], hdr->tail) : NULL;
		if (tail)
			WRITE_ONCE(tail->next, h);
		else
			WRITE_ONCE(hdr->head, h);
		hdr->tail = h;
		hdr->csum = sample_mix(hdr->csum, (u64)seq << 32 | rec->payload_csum);
		hdr->nr_records++;
	}
	return 0;
}

/* Free the first @n records and their payloads; the list stays valid. */
static int sample_drop(struct sample_header *hdr, u32 n)
{
	struct sample_record *rec;
	u64 h, csum = 0;

	while (n-- && hdr->head) {
		h = hdr->head;
		rec = pmpool_map(pools[P_REC], h);
		if (!rec)
			return -EINVAL;
		/* Unlink first: a kexec in between only leaks this record. */
		WRITE_ONCE(hdr->head, rec->next);
		if (!rec->next)
			hdr->tail = 0;
		hdr->nr_records--;
		hdr->first_seq++;
		if (pmpool_free(pools[sample_payload_pool(rec->seq)], rec->payload) ||
		    pmpool_free(pools[P_REC], h))
			return -EINVAL;
	}
	for (h = hdr->head; h; h = rec->next) {
		rec = pmpool_map(pools[P_REC], h);
		if (!rec)
			return -EINVAL;
		csum = sample_mix(csum, (u64)rec->seq << 32 | rec->payload_csum);
	}
	hdr->csum = csum;
	return 0;
}

static int sample_create(void)
{
	struct sample_header *hdr;
	u64 hh;
	int i, err;

	for (i = 0; i < NR_POOLS; i++) {
		pools[i] = pmpool_create(sample_pools[i].name,
					 sample_pools[i].size, 0);
		if (IS_ERR(pools[i])) {
			err = PTR_ERR(pools[i]);
			pools[i] = NULL;
			pr_err("FAIL: create %s: %d\n", sample_pools[i].name, err);
			return err;
		}
	}
	hdr = pmpool_alloc(pools[P_SMALL], GFP_KERNEL | __GFP_ZERO, &hh);
	if (!hdr)
		return -ENOMEM;
	hdr->magic = SAMPLE_MAGIC;
	err = sample_append(hdr, records);
	if (!err)
		err = pmpool_set_root(pools[P_SMALL], hh);
	if (err) {
		pr_err("FAIL: building the structure: %d\n", err);
		return err;
	}
	pr_info("PASS: created %llu records in %d pools (persistent: %s)\n",
		hdr->nr_records, NR_POOLS,
		pmpool_is_persistent(pools[P_REC]) ? "yes" : "no");
	return 0;
}

struct sample_count {
	unsigned long objs;
	unsigned long bytes;
};

static int sample_count_fn(struct pmpool *pool, u64 handle, void *obj,
			   void *arg)
{
	struct sample_count *c = arg;

	c->objs++;
	c->bytes += pmpool_obj_size(pool);
	return 0;
}

static int sample_verify(void)
{
	struct sample_count count = {};
	struct sample_header *hdr;
	struct sample_record *rec;
	u64 h, csum = 0, n = 0, skipped = 0;
	u64 t0, restore_ns;
	int i, err;

	t0 = ktime_get_ns();
	for (i = 0; i < NR_POOLS; i++) {
		pools[i] = pmpool_restore(sample_pools[i].name);
		err = PTR_ERR_OR_ZERO(pools[i]);
		if (!strcmp(sample_pools[i].name, skip)) {
			/* Refused by validation, or not even parsed as a pool. */
			if (err != -EINVAL && err != -ENOENT) {
				pr_err("FAIL: %s was not refused: %d\n", skip, err);
				return err ?: -EINVAL;
			}
			pools[i] = NULL;
			continue;
		}
		if (err) {
			pools[i] = NULL;
			pr_err("FAIL: restore %s: %d\n", sample_pools[i].name, err);
			return err;
		}
	}
	restore_ns = ktime_get_ns() - t0;
	/* The header and the links are the structure itself. */
	if (!pools[P_SMALL] || !pools[P_REC]) {
		pr_err("FAIL: skip=%s: only a payload pool (sample-page, sample-huge) can be refused\n",
		       skip);
		return -EINVAL;
	}
	if (pools[P_REC] &&
	    PTR_ERR_OR_ZERO(pmpool_restore(sample_pools[P_REC].name)) != -EBUSY) {
		pr_err("FAIL: restoring %s twice did not give -EBUSY\n",
		       sample_pools[P_REC].name);
		return -EINVAL;
	}

	hdr = pmpool_map(pools[P_SMALL], pmpool_get_root(pools[P_SMALL]));
	if (!hdr || hdr->magic != SAMPLE_MAGIC) {
		pr_err("FAIL: root header missing or corrupt\n");
		return -EINVAL;
	}
	for (h = hdr->head; h; h = rec->next) {
		void *payload;
		int p;

		rec = pmpool_map(pools[P_REC], h);
		if (!rec || rec->seq != hdr->first_seq + n) {
			pr_err("FAIL: record %llu: bad link %#llx\n", n, h);
			return -EINVAL;
		}
		p = sample_payload_pool(rec->seq);
		payload = pools[p] ? pmpool_map(pools[p], rec->payload) : NULL;
		if (!pools[p]) {
			skipped++;
		} else if (!payload ||
			   sample_csum(payload, pmpool_obj_size(pools[p])) !=
			   rec->payload_csum) {
			pr_err("FAIL: record %llu: payload lost or corrupt\n", n);
			return -EINVAL;
		}
		csum = sample_mix(csum, (u64)rec->seq << 32 | rec->payload_csum);
		n++;
		if (n > hdr->nr_records)
			break;
	}
	if (n != hdr->nr_records || csum != hdr->csum) {
		pr_err("FAIL: %llu records found, %llu expected; checksum %s\n",
		       n, hdr->nr_records, csum == hdr->csum ? "ok" : "mismatch");
		return -EINVAL;
	}
	for (i = 0; i < NR_POOLS; i++)
		if (pools[i])
			pmpool_walk(pools[i], sample_count_fn, &count);
	if (count.objs != 2 * n + 1 - skipped) {
		pr_err("FAIL: %lu live objects, %llu expected\n", count.objs,
		       2 * n + 1 - skipped);
		return -EINVAL;
	}
	if (*skip) {
		pr_info("PASS: verified %llu records in the pools that were not refused (%s refused)\n",
			n, skip);
		return 0;
	}
	pr_info("PASS: verified %llu records, generation %u: %lu objects, %lu bytes, restored in %llu us\n",
		n, hdr->generation, count.objs, count.bytes, restore_ns / 1000);

	hdr->generation++;
	err = sample_drop(hdr, drop);
	if (!err)
		err = sample_append(hdr, records);
	if (err) {
		pr_err("FAIL: growing the structure: %d\n", err);
		return err;
	}
	pr_info("PASS: %llu records after dropping %u and adding %u, generation %u (persistent: %s)\n",
		hdr->nr_records, drop, records, hdr->generation,
		pmpool_is_persistent(pools[P_REC]) ? "yes" : "no");
	return 0;
}

static int sample_absent(void)
{
	struct pmpool *pool;
	int i;

	for (i = 0; i < NR_POOLS; i++) {
		pool = pmpool_restore(sample_pools[i].name);
		if (PTR_ERR_OR_ZERO(pool) != -ENOENT) {
			pr_err("FAIL: %s: restore gave %d, expected -ENOENT\n",
			       sample_pools[i].name, PTR_ERR_OR_ZERO(pool));
			return -EINVAL;
		}
	}
	pr_info("PASS: none of the sample pools was handed over\n");
	return 0;
}

static void sample_destroy_all(void)
{
	int i;

	for (i = 0; i < NR_POOLS; i++) {
		pmpool_destroy(pools[i]);
		pools[i] = NULL;
	}
}

/* Read a freed object: KASAN reports a use-after-free inside the pool. */
static int sample_uaf(void)
{
	struct pmpool *pool;
	u64 *obj, handle;
	u64 val;

	pool = pmpool_create("sample-uaf", 64, 0);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	obj = pmpool_alloc(pool, GFP_KERNEL | __GFP_ZERO, &handle);
	if (!obj) {
		pmpool_destroy(pool);
		return -ENOMEM;
	}
	obj[1] = 0x5a5a5a5a;
	pmpool_free(pool, handle);
	val = READ_ONCE(obj[1]);	/* the bug KASAN must catch */
	pr_info("INFO: read %#llx from a freed object\n", val);
	pmpool_destroy(pool);
	return 0;
}

static int __init pmpool_sample_init(void)
{
	int err;

	if (!strcmp(mode, "create")) {
		err = sample_create();
	} else if (!strcmp(mode, "verify")) {
		err = sample_verify();
	} else if (!strcmp(mode, "absent")) {
		err = sample_absent();
	} else if (!strcmp(mode, "uaf")) {
		err = sample_uaf();
	} else if (!strcmp(mode, "destroy")) {
		err = sample_create();
		sample_destroy_all();
		if (!err)
			pr_info("PASS: pools created, filled and destroyed\n");
	} else {
		pr_err("FAIL: unknown mode '%s'\n", mode);
		err = -EINVAL;
	}
	if (err)
		sample_destroy_all();
	return err;
}
module_init(pmpool_sample_init);

/* Unloading destroys the pools: they are then not handed over. */
static void __exit pmpool_sample_exit(void)
{
	sample_destroy_all();
}
module_exit(pmpool_sample_exit);

MODULE_DESCRIPTION("pmpool sample: a linked structure that survives kexec");
MODULE_LICENSE("GPL");
