# pmpool: kernel memory pools that survive kexec.
#
#   make demo     build everything, boot, fill a pool, kexec, verify it
#   make test     build the debug kernel (KASAN, lockdep, DEBUG_VM, kmemleak,
#                 fault injection), run every KUnit suite and kexec scenario
#   make check    checkpatch --strict, sparse (C=2), kernel-doc on our files
#   make kernel   (re)build the guest kernel incrementally
#   make deps     install packages, fetch the pinned Linux 7.2.13 source
#   make bench    benchmarks against in-kernel baselines (R=5 runs)
#   make boot-profile  where a debug-kernel boot and kexec spend their time
#   make test T=<scenario>   run one scenario
#   make test J=<n>          at most n guests at once (default: one per CPU
#                            as free memory allows)
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
JOBS_ENV   := $(if $(J),PMTEST_JOBS=$(J))

.PHONY: all deps kernel kernel-bench kernel-debug test test-full test-fast demo check bench boot-profile clean distclean

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
	@$(JOBS_ENV) PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ_DEBUG) $(T)

# Every repetition in full (10 chained kexecs, 5 kexecs under load); make
# test (CI) runs the same cases with fewer repetitions.
test-full: deps kernel-debug
	@$(JOBS_ENV) PMTEST_FULL=1 PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ_DEBUG) $(T)

test-fast: deps kernel
	@$(JOBS_ENV) PMPOOL_SPARSE=$(SPARSE) scripts/run-tests.sh $(OBJ) $(T)

demo: deps kernel
	@scripts/demo.sh $(OBJ)

kernel-bench: deps
	@scripts/prepare-tree.sh $(PRISTINE) $(TREE)
	@scripts/build-kernel.sh $(TREE) $(OBJ_BENCH) $(FRAGMENTS) configs/bench.config

bench: deps kernel-bench
	@scripts/bench.sh $(OBJ_BENCH) $(R)

boot-profile: deps kernel-debug
	@scripts/boot-profile.sh $(OBJ_DEBUG)

check: deps kernel
	@scripts/check.sh $(TREE) $(OBJ) $(SPARSE)

clean:
	rm -rf $(BUILD)/obj-* $(BUILD)/logs $(BUILD)/initramfs

distclean:
	rm -rf $(BUILD)
