#!/usr/bin/env bash
# Bookworm's sparse 0.6.4 is refused by Linux 7.2 (scripts/checker-valid.sh
# wants __typeof_unqual__).  Build Debian sid's sparse source package (no
# binary: it needs a newer glibc) into a cache under $HOME.
set -euo pipefail
SPARSE_VERSION=0.6.5~rc1-2
dest=${PMPOOL_SPARSE_DIR:-$HOME/.cache/pmpool/sparse}
if [ -x "$dest/sparse" ] && [ "$(cat "$dest/.version" 2>/dev/null)" = "$SPARSE_VERSION" ]; then
	exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
kr=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb-src [signed-by=$kr] $mirror sid main" > "$work/sources.list"
opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache"
      -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" -qq update
(cd "$work/dl" && apt-get "${opts[@]}" -qq source --download-only "sparse=$SPARSE_VERSION")
tar -C "$work" -xf "$work"/dl/sparse_*.orig.tar.*
src=$(ls -d "$work"/sparse-*/ | head -1)
make -s -C "$src" -j"$(nproc)" HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no sparse >/dev/null 2>&1
mkdir -p "$dest"
cp "$src/sparse" "$dest/sparse"
echo "$SPARSE_VERSION" > "$dest/.version"
echo "fetch-sparse: $dest/sparse"
