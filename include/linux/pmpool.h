/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmpool: pools of fixed-size kernel objects that survive kexec.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#ifndef _LINUX_PMPOOL_H
#define _LINUX_PMPOOL_H

#include <linux/bits.h>
#include <linux/gfp_types.h>
#include <linux/numa.h>
#include <linux/types.h>

struct pmpool;

/* Longest pool name, not counting the NUL. */
#define PMPOOL_NAME_MAX		31
/* Smallest object size; sizes are rounded up to a multiple of this. */
#define PMPOOL_MIN_OBJ_SIZE	8

/*
 * Every object is its own folio (its slab holds exactly one object), so a
 * caller may use the object's struct page, e.g. for IOMMU page tables.
 * The object size must be a power-of-two number of pages.
 */
#define PMPOOL_F_FOLIO_PER_OBJ	BIT(0)
#define PMPOOL_F_ALL		PMPOOL_F_FOLIO_PER_OBJ

/**
 * struct pmpool_stats - what a pool holds
 * @nr_slabs:   slabs.
 * @nr_inuse:   live objects.
 * @nr_free:    free objects in existing slabs.
 * @slab_bytes: memory of the slabs.
 * @meta_bytes: memory pmpool uses to describe them: handed-over metadata
 *              (descriptor, chunks) and in-kernel bookkeeping.
 */
struct pmpool_stats {
	unsigned long nr_slabs;
	unsigned long nr_inuse;
	unsigned long nr_free;
	u64 slab_bytes;
	u64 meta_bytes;
};

#ifdef CONFIG_PMPOOL

struct pmpool *pmpool_create_node(const char *name, size_t obj_size,
				  unsigned int flags, int nid);
struct pmpool *pmpool_create(const char *name, size_t obj_size,
			     unsigned int flags);
void pmpool_destroy(struct pmpool *pool);
struct pmpool *pmpool_restore(const char *name);
int pmpool_discard(const char *name);
int pmpool_pin(const char *name, bool pin);

void *pmpool_alloc(struct pmpool *pool, gfp_t gfp, u64 *handle);
int pmpool_alloc_bulk(struct pmpool *pool, gfp_t gfp, unsigned int nr,
		      u64 *handles);
int pmpool_free(struct pmpool *pool, u64 handle);
void *pmpool_map(struct pmpool *pool, u64 handle);
phys_addr_t pmpool_phys(struct pmpool *pool, u64 handle);
u64 pmpool_virt_to_handle(struct pmpool *pool, const void *obj);
int pmpool_reserve(struct pmpool *pool, unsigned int nr_objs);

int pmpool_set_root(struct pmpool *pool, u64 handle);
u64 pmpool_get_root(struct pmpool *pool);
int pmpool_walk(struct pmpool *pool,
		int (*fn)(struct pmpool *pool, u64 handle, void *obj, void *arg),
		void *arg);

void pmpool_get_stats(struct pmpool *pool, struct pmpool_stats *stats);
size_t pmpool_obj_size(const struct pmpool *pool);
const char *pmpool_name(const struct pmpool *pool);
bool pmpool_is_persistent(const struct pmpool *pool);

#else /* !CONFIG_PMPOOL */

#include <linux/err.h>

static inline struct pmpool *pmpool_create_node(const char *name,
						size_t obj_size,
						unsigned int flags, int nid)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct pmpool *pmpool_create(const char *name, size_t obj_size,
					   unsigned int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void pmpool_destroy(struct pmpool *pool) { }

static inline struct pmpool *pmpool_restore(const char *name)
{
	return ERR_PTR(-ENOENT);
}

static inline int pmpool_discard(const char *name)
{
	return -ENOENT;
}

static inline int pmpool_pin(const char *name, bool pin)
{
	return -ENOENT;
}

#endif /* CONFIG_PMPOOL */

#endif /* _LINUX_PMPOOL_H */
