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
verify() { echo "$PIN_SHA256  $1" | sha256sum -c --quiet - 2>/dev/null; }

if [ -f "$deb" ] && ! verify "$deb"; then
	echo "fetch-source: cached $deb fails sha256, removing" >&2
	rm -f "$deb"
fi

if [ ! -f "$deb" ]; then
	d="$out/apt"
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/dl"
	srcfile=/etc/apt/sources.list.d/debian.sources
	if [ -f "$srcfile" ]; then
		mirror=$(awk '/^URIs:/{print $2; exit}' "$srcfile")
	else
		mirror=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
	fi
	[ -n "$mirror" ] || { echo "fetch-source: no Debian mirror found in apt sources" >&2; exit 1; }
	kr=/usr/share/keyrings/debian-archive-keyring.gpg
	: > "$d/sources.list"
	for suite in sid forky trixie-backports; do
		echo "deb [signed-by=$kr] $mirror $suite main" >> "$d/sources.list"
	done
	opts=(-o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
	      -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache"
	      -o Dir::State::Status=/var/lib/dpkg/status -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
	apt-get "${opts[@]}" -qq update
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
