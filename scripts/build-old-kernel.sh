#!/usr/bin/env bash
# Build (once) the debug kernel of an earlier commit of this repository, for
# scenarios that boot a previous release first (OLD_KERNEL=<commit> in a
# scenario's conf: pmpool-upgrade-v2 boots the last kernel that wrote
# pmpool-v2).  The commit's files are exported with git archive next to this
# checkout's build/, overlaid on the same pristine Linux with that commit's
# own prepare-tree.sh, and built with its own configs and build-kernel.sh:
# the relative paths are those of the main build, so ccache (CCACHE_BASEDIR)
# serves every object the two trees share.  The result (bzImage, vmlinux,
# modules) is kept in $HOME/.cache/pmpool/old-kernels/<commit>/ and the
# build tree removed.
#
# Usage: build-old-kernel.sh <commit> <pristine-linux>
# Prints the cache directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
commit=$1 pristine=$(cd "$2" && pwd)
if [ ${#commit} != 40 ]; then
	echo "build-old-kernel: give the full 40-digit commit, not '$commit'" >&2
	exit 1
fi
cache=${PMPOOL_CACHE:-$HOME/.cache/pmpool}/old-kernels/$commit
if [ -f "$cache/done" ]; then
	echo "$cache"
	exit 0
fi
mkdir -p "$(dirname "$cache")"
exec 9> "$cache.lock"
flock 9
if [ -f "$cache/done" ]; then
	echo "$cache"
	exit 0
fi
if ! git -C "$top" cat-file -e "$commit^{commit}" 2>/dev/null; then
	echo "build-old-kernel: commit $commit is not in this clone's history" >&2
	exit 1
fi
work=$top/build/old-$commit
rm -rf "$work"; mkdir -p "$work"
start=$(date +%s)
git -C "$top" archive "$commit" | tar -x -C "$work"
mkdir -p "$work/build"
echo "build-old-kernel: building $commit in $work" >&2
"$work/scripts/prepare-tree.sh" "$pristine" "$work/build/linux" >/dev/null
"$work/scripts/build-kernel.sh" "$work/build/linux" "$work/build/obj-debug" \
	"$work/configs/base.config" "$work/configs/debug.config" >&2
rm -rf "$cache"; mkdir -p "$cache"
cp "$work/build/obj-debug/arch/x86/boot/bzImage" "$work/build/obj-debug/vmlinux" \
	"$work/build/obj-debug/.config" "$cache/"
cp -a "$work/build/obj-debug/modinst" "$cache/modinst"
git -C "$top" log -1 --format='%H %s' "$commit" > "$cache/commit"
rm -rf "$work"
echo "$(( $(date +%s) - start ))" > "$cache/build-seconds"
touch "$cache/done"
echo "build-old-kernel: $commit built in $(cat "$cache/build-seconds") s" >&2
echo "$cache"
