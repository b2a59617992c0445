#!/usr/bin/env bash
# make check: checkpatch --strict, sparse (C=2) and kernel-doc over our
# kernel files, as they sit in the prepared tree.  Zero findings to pass.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tree=$1 obj=$2 sparse=$3

# Our kernel sources, at their paths in the kernel tree.
mapfile -t files < <(cd "$top" && find lib include drivers samples kunit \
	-name '*.[ch]' 2>/dev/null | sed 's|^kunit/|lib/pmpool/tests/|' | sort)
# Sparse checks our objects only, not the upstream files next to them, and
# only those this kernel's configuration builds (the fault-injection suite
# is not part of the plain kernel, for one).
objs=$(printf '%s\n' "${files[@]}" | grep '\.c$' | sed 's/\.c$/.o/' |
	while read -r o; do [ -f "$obj/$o" ] && echo "$o"; done)
fail=0

echo "== checkpatch --strict (${#files[@]} files)"
out=$(cd "$tree" && perl scripts/checkpatch.pl --strict --no-tree --terse \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${files[@]}" 2>&1 |
	grep -E 'ERROR|WARNING|CHECK')
[ -z "$out" ] || { echo "$out"; fail=1; }

echo "== patches/ (checkpatch --strict on the series)"
while IFS= read -r p; do
	p=${p%%#*}; p=$(echo "$p" | xargs); [ -n "$p" ] || continue
	out=$(cd "$tree" && perl scripts/checkpatch.pl --strict --no-tree --terse \
		--no-signoff --ignore FILE_PATH_CHANGES,GIT_COMMIT_ID "$top/patches/$p" 2>&1 |
		grep -E 'ERROR|WARNING|CHECK')
	[ -z "$out" ] || { echo "$p: $out"; fail=1; }
done < "$top/patches/series"

echo "== kernel-doc -Werror"
out=$(cd "$tree" && scripts/kernel-doc -Werror -none "${files[@]}" 2>&1)
[ -z "$out" ] || { echo "$out"; fail=1; }

echo "== sparse C=2 ($("$sparse" --version 2>/dev/null || echo missing))"
# shellcheck disable=SC2086
out=$(make -s -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" C=2 \
	CHECK="$sparse" $objs 2>&1 | grep -v '^  ' | grep -E 'warning|error' || true)
[ -z "$out" ] || { echo "$out"; fail=1; }

if [ $fail = 0 ]; then
	echo "check: clean"
else
	echo "check: findings above"
fi
exit $fail
