#!/usr/bin/env bash
# Fetch Debian's stock 7.2.13 kernel (the cloud flavour: no KHO, no pmpool),
# for the version-skew test: our kernel kexecs into it.  Pinned and
# verified like the source package, cached under $HOME.
#
# Usage: fetch-stock-kernel.sh <outdir>   -> <outdir>/vmlinuz
set -euo pipefail

PKG=linux-binary-7.2.13+deb14-cloud-amd64
PIN_VERSION=7.2.13-1
PIN_SHA256=03e41f1c34c16583462f029e81944a85ebcdb78098c258dedfa1cfdd680a27f8
CACHE=${PMPOOL_DEB_CACHE:-$HOME/.cache/pmpool/debs}
out=$1
mkdir -p "$out" "$CACHE"
out=$(cd "$out" && pwd)
[ -f "$out/vmlinuz" ] && exit 0

# shellcheck source=scripts/apt-lib.sh
. "$(dirname "$0")/apt-lib.sh"
deb="$CACHE/${PKG}_${PIN_VERSION}_amd64.deb"
if [ -f "$deb" ] && ! sha256_ok "$PIN_SHA256" "$deb"; then
	echo "fetch-stock-kernel: cached $deb fails sha256, removing" >&2
	rm -f "$deb"
fi
if [ ! -f "$deb" ]; then
	d="$out/apt"
	apt_private "$d"
	(cd "$d/dl" && apt-get "${APT_OPTS[@]}" -qq download "$PKG=$PIN_VERSION")
	f=$(ls "$d"/dl/"${PKG}"_*.deb)
	if ! sha256_ok "$PIN_SHA256" "$f"; then
		echo "fetch-stock-kernel: sha256 mismatch for $f" >&2
		exit 1
	fi
	mv "$f" "$deb"
	rm -rf "$d"
fi
rm -rf "$out/x"
dpkg-deb -x "$deb" "$out/x"
mv "$out"/x/usr/lib/modules/*/vmlinuz "$out/vmlinuz"
rm -rf "$out/x"
echo "fetch-stock-kernel: $out/vmlinuz"
