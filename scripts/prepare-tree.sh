#!/usr/bin/env bash
# Make <tree> = pristine Linux + this repository's files overlaid at their
# kernel paths + patches/series applied.  Only files whose content changes
# are rewritten, so Kbuild rebuilds incrementally.
#
# Usage: prepare-tree.sh <pristine> <tree>
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
pristine=$(cd "$1" && pwd)
tree=$2

if [ ! -f "$tree/.pmpool-tree" ]; then
	echo "prepare-tree: copying pristine tree to $tree"
	rm -rf "$tree"
	cp -a "$pristine" "$tree"
	touch "$tree/.pmpool-tree"
fi
tree=$(cd "$tree" && pwd)

# install_if_changed SRC DST: copy only when content differs (keeps mtimes).
install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2"
		echo "  UPDATE  ${2#"$tree"/}"
	fi
}

# --- 1. our files, at their kernel paths ---------------------------------
# repo path -> kernel path; kunit/ goes to lib/pmpool/tests/
declare -A want=()
while IFS= read -r f; do
	case "$f" in
	kunit/*) want["lib/pmpool/tests/${f#kunit/}"]="$top/$f" ;;
	*) want["$f"]="$top/$f" ;;
	esac
done < <(cd "$top" && find lib include drivers samples Documentation kunit \
		-type f 2>/dev/null | sort)

for k in "${!want[@]}"; do
	install_if_changed "${want[$k]}" "$tree/$k"
done

# Files we overlaid last time but no longer have: back to pristine or gone.
if [ -f "$tree/.pmpool-overlay" ]; then
	while IFS= read -r k; do
		[ -n "$k" ] || continue
		[ -n "${want[$k]+x}" ] && continue
		if [ -f "$pristine/$k" ]; then
			install_if_changed "$pristine/$k" "$tree/$k"
		else
			rm -f "$tree/$k" && echo "  REMOVE  $k"
		fi
	done < "$tree/.pmpool-overlay"
fi
printf '%s\n' "${!want[@]}" | sort > "$tree/.pmpool-overlay"

# --- 2. patches to upstream files, in series order -------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
declare -A patched=()
series="$top/patches/series"
if [ -f "$series" ]; then
	while IFS= read -r p; do
		p=${p%%#*}; p=$(echo "$p" | xargs)
		[ -n "$p" ] || continue
		for f in $(awk '/^\+\+\+ /{sub(/^b\//,"",$2); print $2}' "$top/patches/$p"); do
			if [ -z "${patched[$f]+x}" ]; then
				patched[$f]=1
				mkdir -p "$stage/$(dirname "$f")"
				if [ -n "${want[$f]+x}" ]; then
					cp "${want[$f]}" "$stage/$f"
				elif [ -f "$pristine/$f" ]; then
					cp "$pristine/$f" "$stage/$f"
				fi
			fi
		done
		if ! patch -s -p1 -d "$stage" --no-backup-if-mismatch < "$top/patches/$p"; then
			echo "prepare-tree: patch $p does not apply" >&2
			exit 1
		fi
	done < "$series"
fi
for f in "${!patched[@]}"; do
	install_if_changed "$stage/$f" "$tree/$f"
done
if [ -f "$tree/.pmpool-patched" ]; then
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		[ -n "${patched[$f]+x}" ] || [ -n "${want[$f]+x}" ] && continue
		install_if_changed "$pristine/$f" "$tree/$f"
	done < "$tree/.pmpool-patched"
fi
printf '%s\n' "${!patched[@]}" | sort > "$tree/.pmpool-patched"
