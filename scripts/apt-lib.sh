# Sourced by the fetch scripts: a private apt configuration under a
# directory of ours (the machine's apt state is not touched), whose mirror
# URI is read from this machine's own apt sources.
#
# apt_private DIR: sets APT_OPTS (an array) for apt-get/apt-cache and runs
# "apt-get update" for sid, forky and trixie-backports.
apt_private() {
	local d=$1 srcfile=/etc/apt/sources.list.d/debian.sources mirror suite
	local kr=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/dl"
	if [ -f "$srcfile" ]; then
		mirror=$(awk '/^URIs:/{print $2; exit}' "$srcfile")
	else
		mirror=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
	fi
	[ -n "$mirror" ] || { echo "apt: no Debian mirror found in apt sources" >&2; return 1; }
	: > "$d/sources.list"
	for suite in sid forky trixie-backports; do
		echo "deb [signed-by=$kr] $mirror $suite main" >> "$d/sources.list"
	done
	APT_OPTS=(-o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		  -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache"
		  -o Dir::State::Status=/var/lib/dpkg/status -o Debug::NoLocking=1
		  -o APT::Sandbox::User=root)
	apt-get "${APT_OPTS[@]}" -qq update
}

# sha256_ok SHA256 FILE
sha256_ok() { echo "$1  $2" | sha256sum -c --quiet - 2>/dev/null; }
