#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks, fetch the pinned Linux source
# and build a sparse new enough for Linux 7.2.  Idempotent and quick when
# everything is already there.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(make gcc libc6-dev flex bison bc libelf-dev libssl-dev cpio xz-utils patch
      qemu-system-x86 ccache busybox-static python3 perl kmod rsync
      debian-archive-keyring ca-certificates libxml2-dev pkg-config kexec-tools)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

"$top/scripts/fetch-source.sh" "$top/build/src"
"$top/scripts/fetch-sparse.sh"
