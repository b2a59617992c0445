#!/usr/bin/env bash
# Fetch the pinned linux-source-7.2 .deb through a private apt configuration
# (the mirror URI is read from this machine's own apt sources), verify its
# sha256, cache it under $HOME and unpack the kernel tarball.
#
# Usage: fetch-source.sh <outdir>   -> <outdir>/linux-7.2.13 (pristine tree)
set -euo pipefail

PIN_VERSION=7.2.13-1
PIN_SHA256=30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d
CACHE=${PMPOOL_DEB_CACHE:-$HOME/.cache/pmpool/debs}
out=$1
mkdir -p "$out" "$CACHE"
out=$(cd "$out" && pwd)

if [ -f "$out/.pristine-ok" ]; then
	exit 0
fi

deb="$CACHE/linux-source-7.2_${PIN_VERSION}_all.deb"
# shellcheck source=scripts/apt-lib.sh
. "$(dirname "$0")/apt-lib.sh"
verify() { sha256_ok "$PIN_SHA256" "$1"; }

if [ -f "$deb" ] && ! verify "$deb"; then
	echo "fetch-source: cached $deb fails sha256, removing" >&2
	rm -f "$deb"
fi

if [ ! -f "$deb" ]; then
	d="$out/apt"
	apt_private "$d"
	opts=("${APT_OPTS[@]}")
	if (cd "$d/dl" && apt-get "${opts[@]}" -qq download "linux-source-7.2=$PIN_VERSION"); then
		f=$(ls "$d"/dl/linux-source-7.2_*.deb)
		if ! verify "$f"; then
			echo "fetch-source: sha256 mismatch for $f" >&2
			exit 1
		fi
		mv "$f" "$deb"
	else
		newest=$(apt-cache "${opts[@]}" madison linux-source-7.2 | awk '{print $3}' | sort -V | tail -1)
		[ -n "$newest" ] || { echo "fetch-source: linux-source-7.2 not found in any suite" >&2; exit 1; }
		echo "################################################################" >&2
		echo "WARNING: linux-source-7.2 $PIN_VERSION is gone from the mirror;" >&2
		echo "WARNING: falling back to $newest (UNVERIFIED, patches may not apply)" >&2
		echo "################################################################" >&2
		(cd "$d/dl" && apt-get "${opts[@]}" -qq download "linux-source-7.2=$newest")
		deb=$(ls "$d"/dl/linux-source-7.2_*.deb)
	fi
	rm -rf "$d/lists" "$d/cache"
fi

rm -rf "$out/x" "$out/linux-7.2.13"
dpkg-deb -x "$deb" "$out/x"
tar -C "$out" -xf "$out"/x/usr/src/linux-source-7.2.tar.xz
rm -rf "$out/x"
src=$(ls -d "$out"/linux-source-7.2 2>/dev/null || true)
[ -n "$src" ] && mv "$src" "$out/linux-7.2.13"
touch "$out/.pristine-ok"
echo "fetch-source: pristine tree at $out/linux-7.2.13"
