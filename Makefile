# pmpool: kernel memory pools that survive kexec.
#
#   make demo     build everything, boot, fill a pool, kexec, verify it
#   make test     build the debug kernel (KASAN, lockdep, DEBUG_VM, kmemleak,
#                 fault injection), run every KUnit suite and kexec scenario
#   make check    checkpatch --strict, sparse (C=2), kernel-doc on our files
#   make kernel   (re)build the guest kernel incrementally
#   make deps     install packages, fetch the pinned Linux 7.2.13 source
#   make bench    benchmarks against in-kernel baselines (R=5 runs)
#   make test T=<scenario>   run one scenario
#
# Everything generated lives in build/ (ignored); ccache and the verified
# Linux .deb are cached under $HOME/.cache.

KVER       := 7.2.13
BUILD      := $(CURDIR)/build
PRISTINE   := $(BUILD)/src/linux-$(KVER)
TREE       := $(BUILD)/linux
OBJ        := $(BUILD)/obj-test
FRAGMENTS  := configs/base.config
OBJ_BENCH  := $(BUILD)/obj-bench
OBJ_DEBUG  := $(BUILD)/obj-debug
R          ?= 5
SPARSE     := $(HOME)/.cache/pmpool/sparse/sparse

.PHONY: all deps kernel kernel-bench kernel-debug test test-full test-fast demo check bench clean distclean

all: test

deps:
	@scripts/deps.sh

tree:
	@scripts/prepare-tree.sh $(PRISTINE) $(TREE)

kernel: deps
	@scripts/prepare-tree.sh $(PRISTINE) $(TREE)
	@scripts/build-kernel.sh $(TREE) $(OBJ) $(FRAGMENTS)

kernel-debug: deps
	@scripts/prepare-tree.sh $(PRISTINE) $(TREE)
	@scripts/build-kernel.sh $(TREE) $(OBJ_DEBUG) $(FRAGMENTS) configs/debug.config

# The tests run on the debug kernel; `make test-fast` on the plain one.
test: deps kernel-debug
	@PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ_DEBUG) $(T)

# Every repetition in full (10 chained kexecs, 5 kexecs under load); make
# test (CI) runs the same cases with fewer repetitions.
test-full: deps kernel-debug
	@PMTEST_FULL=1 PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ_DEBUG) $(T)

test-fast: deps kernel
	@PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ) $(T)

demo: deps kernel
	@scripts/demo.sh $(OBJ)

kernel-bench: deps
	@scripts/prepare-tree.sh $(PRISTINE) $(TREE)
	@scripts/build-kernel.sh $(TREE) $(OBJ_BENCH) $(FRAGMENTS) configs/bench.config

bench: deps kernel-bench
	@scripts/bench.sh $(OBJ_BENCH) $(R)

check: deps kernel
	@scripts/check.sh $(TREE) $(OBJ) $(SPARSE)

clean:
	rm -rf $(BUILD)/obj-* $(BUILD)/logs $(BUILD)/initramfs

distclean:
	rm -rf $(BUILD)
