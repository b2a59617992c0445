/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmpool: persistent object pools handed over across kexec with KHO.
 *
 * Copyright (C) 2026 The pmpool authors
 */

#ifndef _LINUX_KHO_ABI_PMPOOL_H
#define _LINUX_KHO_ABI_PMPOOL_H

#include <linux/types.h>

/**
 * DOC: pmpool KHO ABI
 *
 * pmpool registers one KHO subtree, named ``"pmpool"``, for all of its pools.
 * The subtree is a flattened device tree built with libfdt.  Its root node
 * carries ``compatible = "pmpool-v3"``; every handed-over pool is one child
 * node named ``pool@<tag>`` (tag in lower-case hex) with these properties:
 *
 *  - ``name``       (string, NUL-terminated, at most %PMPOOL_ABI_NAME_MAX bytes
 *    including the NUL): the name the driver gave to pmpool_create().
 *  - ``tag``        (u32, 1..0xffff): the pool tag, bits 63:48 of every handle.
 *  - ``obj-size``   (u32): object stride in bytes, a multiple of 8.
 *  - ``slab-order`` (u32): page order of every slab folio of the pool.
 *  - ``flags``      (u32): %PMPOOL_ABI_F_* flags of the pool; a reader
 *    refuses a pool with a flag it does not know.
 *  - ``numa-node``  (s32): NUMA node the pool is bound to, or -1.
 *  - ``desc``       (u64): physical address of the pool's descriptor, an
 *    order-0 preserved folio holding a &struct pmpool_desc_ser.
 *
 * The FDT changes only when a pool is created, destroyed, restored or
 * discarded.  State that changes on every allocation, free or root update
 * lives in the descriptor and in metadata chunks, which are updated in place
 * by the old kernel, so what the next kernel reads is consistent at every
 * instant: nothing is serialised at kexec time.
 *
 * Slab records live in metadata chunks (preserved folios of order
 * %PMPOOL_ABI_CHUNK_ORDER).  Slab number ``s`` is record
 * ``s % recs_per_chunk`` of chunk ``s / recs_per_chunk``; a record is a
 * &struct pmpool_slab_ser followed by its allocation bitmap.  A record whose
 * @phys is 0 describes no slab.  Every slab is a preserved folio of order
 * ``slab-order`` that holds ``objs_per_slab`` objects at offsets
 * ``i * obj-size``.
 *
 * The chunks are listed in chunk tables: a chain of order-0 preserved
 * folios, each a &struct pmpool_table_ser, starting at
 * &pmpool_desc_ser.table.  Chunk ``c`` is entry ``c % PMPOOL_ABI_TABLE_CHUNKS``
 * of table ``c / PMPOOL_ABI_TABLE_CHUNKS``.  The chain grows with the pool,
 * so nothing but the handle encoding (2^24 slabs) bounds a pool's size.
 *
 * Structural counts let the next kernel check the records against the
 * descriptor: &pmpool_desc_ser.nr_chunks chunks are listed, and
 * &pmpool_desc_ser.nr_slabs records have a slab.  Both change only when a
 * chunk or slab is added or removed, never per object.  A slab is added by
 * writing @busy_slab, the record's @phys, @nr_slabs and @busy_slab (0) in
 * that order, and removed likewise; so at any instant the count matches the
 * records but for the one record @busy_slab names, whose slab is empty.  A
 * chunk or chunk table is linked before @nr_chunks counts it; what lies
 * beyond @nr_chunks is not part of the pool.
 *
 * Handles are part of this ABI: drivers store them in pool objects and
 * expect the same value after kexec.  A handle is
 * ``tag << 48 | slab << 24 | object``; 0 is never a valid handle.
 *
 * All integers are little-endian.  Any change to this layout, to the handle
 * encoding or to the meaning of a field requires a new compatible string.
 *
 * What a ``pmpool-v3`` kernel reads of ``pmpool-v2`` (the format of the
 * previous release): the same directory, records and handles; the v2
 * descriptor (&struct pmpool_desc_v2_ser) lists at most
 * %PMPOOL_ABI_V2_MAX_CHUNKS chunks itself, and carries no structural
 * counts, so a v2 handover that understates its chunk count cannot be told
 * from a smaller pool.  A restored v2 pool is handed over as v3.
 */

/** PMPOOL_ABI_FDT_NAME - name of the pmpool subtree in the KHO root FDT */
#define PMPOOL_ABI_FDT_NAME		"pmpool"
/** PMPOOL_ABI_COMPATIBLE - compatible string of the pmpool subtree */
#define PMPOOL_ABI_COMPATIBLE		"pmpool-v3"
/** PMPOOL_ABI_COMPATIBLE_V2 - the previous release's, still read */
#define PMPOOL_ABI_COMPATIBLE_V2	"pmpool-v2"

#define PMPOOL_ABI_PROP_NAME		"name"
#define PMPOOL_ABI_PROP_TAG		"tag"
#define PMPOOL_ABI_PROP_OBJ_SIZE	"obj-size"
#define PMPOOL_ABI_PROP_SLAB_ORDER	"slab-order"
#define PMPOOL_ABI_PROP_FLAGS		"flags"

/*
 * PMPOOL_ABI_F_FOLIO_PER_OBJ - every slab holds one object and is a folio of
 * order get_order(obj-size) (obj-size is then a power-of-two number of pages)
 */
#define PMPOOL_ABI_F_FOLIO_PER_OBJ	0x1
#define PMPOOL_ABI_PROP_NODE		"numa-node"
#define PMPOOL_ABI_PROP_DESC		"desc"

/** PMPOOL_ABI_NAME_MAX - size of a pool name including its NUL */
#define PMPOOL_ABI_NAME_MAX		32

/** PMPOOL_ABI_DESC_MAGIC - &pmpool_desc_ser.magic (bytes "PMD3") */
#define PMPOOL_ABI_DESC_MAGIC		0x33444d50U
/** PMPOOL_ABI_DESC_SIZE - size of the descriptor; it is an order-0 folio */
#define PMPOOL_ABI_DESC_SIZE		4096
/** PMPOOL_ABI_TABLE_MAGIC - &pmpool_table_ser.magic (bytes "PMCT") */
#define PMPOOL_ABI_TABLE_MAGIC		0x54434d50U
/** PMPOOL_ABI_TABLE_SIZE - size of a chunk table; it is an order-0 folio */
#define PMPOOL_ABI_TABLE_SIZE		4096
/** PMPOOL_ABI_TABLE_CHUNKS - entries of &pmpool_table_ser.chunks */
#define PMPOOL_ABI_TABLE_CHUNKS		510
/** PMPOOL_ABI_CHUNK_ORDER - page order of a metadata chunk */
#define PMPOOL_ABI_CHUNK_ORDER		2

#define PMPOOL_ABI_HANDLE_TAG_SHIFT	48
#define PMPOOL_ABI_HANDLE_SLAB_SHIFT	24
#define PMPOOL_ABI_HANDLE_OBJ_MASK	((1ULL << PMPOOL_ABI_HANDLE_SLAB_SHIFT) - 1)
#define PMPOOL_ABI_HANDLE_SLAB_MASK	((1ULL << (PMPOOL_ABI_HANDLE_TAG_SHIFT - \
					   PMPOOL_ABI_HANDLE_SLAB_SHIFT)) - 1)
#define PMPOOL_ABI_TAG_MAX		0xffff

/**
 * struct pmpool_desc_ser - hot per-pool state, in a preserved page
 * @magic:          %PMPOOL_ABI_DESC_MAGIC.
 * @obj_size:       object stride, equal to the FDT ``obj-size``.
 * @slab_order:     equal to the FDT ``slab-order``.
 * @objs_per_slab:  objects in one slab.
 * @rec_size:       bytes of one slab record including its bitmap
 *                  (``8 + 8 * DIV_ROUND_UP(objs_per_slab, 64)``).
 * @recs_per_chunk: slab records in one metadata chunk.
 * @nr_chunks:      chunks of the pool; chunk ``c < nr_chunks`` is listed
 *                  (non-zero) in the chunk tables.
 * @reserved:       must be zero.
 * @root:           the pool's root handle (pmpool_set_root()), 0 if none.
 * @nr_slabs:       records whose @phys is set, but see @busy_slab.
 * @busy_slab:      0, or 1 + the number of the slab being added or removed:
 *                  its record may or may not be counted in @nr_slabs, and
 *                  its bitmap is empty.
 * @table:          physical address of the first chunk table, 0 if none.
 *
 * The rest of the page is unused and zero.
 */
struct pmpool_desc_ser {
	u32 magic;
	u32 obj_size;
	u32 slab_order;
	u32 objs_per_slab;
	u32 rec_size;
	u32 recs_per_chunk;
	u32 nr_chunks;
	u32 reserved;
	u64 root;
	u64 nr_slabs;
	u64 busy_slab;
	u64 table;
} __packed;

/**
 * struct pmpool_table_ser - one page of the chunk table
 * @magic:  %PMPOOL_ABI_TABLE_MAGIC.
 * @index:  position in the chain, 0 for &pmpool_desc_ser.table.
 * @next:   physical address of table @index + 1, 0 if none yet.
 * @chunks: physical addresses of chunks ``index * PMPOOL_ABI_TABLE_CHUNKS``
 *          and up.
 */
struct pmpool_table_ser {
	u32 magic;
	u32 index;
	u64 next;
	u64 chunks[PMPOOL_ABI_TABLE_CHUNKS];
} __packed;

/**
 * struct pmpool_slab_ser - one slab record in a metadata chunk
 * @phys:   physical address of the slab folio, 0 if this slab number is
 *          unused.  Written last when a slab is added and first when it is
 *          removed, so a set @phys always names a preserved folio.
 * @bitmap: allocation bitmap, bit ``i`` (bit ``i % 64`` of word ``i / 64``)
 *          set when object ``i`` is allocated.  Bits at and above
 *          ``objs_per_slab`` are zero.
 */
struct pmpool_slab_ser {
	u64 phys;
	u64 bitmap[];
} __packed;

/* ---- pmpool-v2, read (not written) by v3 kernels ---------------------- */

/** PMPOOL_ABI_V2_DESC_MAGIC - &pmpool_desc_v2_ser.magic (bytes "MPMD") */
#define PMPOOL_ABI_V2_DESC_MAGIC	0x444d504dU
/** PMPOOL_ABI_V2_MAX_CHUNKS - entries of &pmpool_desc_v2_ser.chunks */
#define PMPOOL_ABI_V2_MAX_CHUNKS	506

/**
 * struct pmpool_desc_v2_ser - a ``pmpool-v2`` descriptor
 * @magic:          %PMPOOL_ABI_V2_DESC_MAGIC.
 * @obj_size:       as in &struct pmpool_desc_ser.
 * @slab_order:     as in &struct pmpool_desc_ser.
 * @objs_per_slab:  as in &struct pmpool_desc_ser.
 * @rec_size:       as in &struct pmpool_desc_ser.
 * @recs_per_chunk: as in &struct pmpool_desc_ser.
 * @nr_chunks:      used entries of @chunks.
 * @reserved:       zero.
 * @root:           as in &struct pmpool_desc_ser.
 * @chunks:         physical addresses of the metadata chunks.
 */
struct pmpool_desc_v2_ser {
	u32 magic;
	u32 obj_size;
	u32 slab_order;
	u32 objs_per_slab;
	u32 rec_size;
	u32 recs_per_chunk;
	u32 nr_chunks;
	u32 reserved;
	u64 root;
	u64 chunks[PMPOOL_ABI_V2_MAX_CHUNKS];
} __packed;

#endif /* _LINUX_KHO_ABI_PMPOOL_H */
