#!/usr/bin/env bash
# Configure (tinyconfig + fragments) and build one guest kernel flavour.
# Usage: build-kernel.sh <tree> <objdir> <fragment>...
set -euo pipefail

tree=$(cd "$1" && pwd); obj=$2; shift 2
mkdir -p "$obj"; obj=$(cd "$obj" && pwd)
frags=()
for f in "$@"; do frags+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"); done

export ARCH=x86_64
# Let ccache hit across clones in different directories (CI clones afresh).
top=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_BASEDIR=$top CCACHE_NOHASHDIR=true
export KBUILD_BUILD_USER=pmpool KBUILD_BUILD_HOST=pmpool
export KBUILD_BUILD_TIMESTAMP="2026-01-01"
jobs=${JOBS:-$(nproc)}
kmake=(make -C "$tree" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs")

stamp=$(cat "${frags[@]}" "$tree/.pmpool-patched" | sha256sum | cut -c1-16)
kconfigs=$(find "$tree" -name 'Kconfig*' -newer "$obj/.config" 2>/dev/null | head -1 || true)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.pmpool-config-stamp" 2>/dev/null)" != "$stamp" ] \
   || [ -n "$kconfigs" ]; then
	echo "build-kernel: configuring $obj"
	"${kmake[@]}" -s tinyconfig >/dev/null
	(cd "$obj" && KCONFIG_CONFIG=.config "$tree/scripts/kconfig/merge_config.sh" \
		-m -O "$obj" .config "${frags[@]}" >/dev/null)
	"${kmake[@]}" -s olddefconfig >/dev/null
	# Every option a fragment asks for must have survived olddefconfig.
	# Later fragments override earlier ones, as in merge_config.sh.
	missing=0
	declare -A want=()
	for f in "${frags[@]}"; do
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=*) want[${line%%=*}]=$line ;;
			"# CONFIG_"*" is not set") want[${line:2:-11}]=$line ;;
			esac
		done < "$f"
	done
	for opt in "${!want[@]}"; do
		line=${want[$opt]}
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$obj/.config" || {
			echo "build-kernel: $line did not survive: $(grep "^$opt=\|# $opt is" "$obj/.config" || echo unset)" >&2
			missing=1; } ;;
		*) ! grep -q "^$opt=" "$obj/.config" || {
			echo "build-kernel: $opt should be unset" >&2; missing=1; } ;;
		esac
	done
	[ "$missing" = 0 ] || exit 1
	echo "$stamp" > "$obj/.pmpool-config-stamp"
fi
"${kmake[@]}" -s bzImage modules
mkdir -p "$obj/modinst"
"${kmake[@]}" -s INSTALL_MOD_PATH="$obj/modinst" INSTALL_MOD_STRIP=1 modules_install >/dev/null
echo "build-kernel: $obj/arch/x86/boot/bzImage"
