#!/bin/sh
# Installs the Debian packages listed in $1 that are missing; a no-op when none is.
set -eu
list=${1:-packaging/deps.txt}
missing=$(grep -v '^#' "$list" | while read -r p; do
	[ -n "$p" ] || continue
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
done)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "make deps: missing packages: $missing (run as root, or: sudo apt-get install $missing)" >&2
	exit 1
fi
echo "  DEPS     installing: $(echo $missing)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
