#!/bin/sh
# packaging/build-deb.sh — builds build/benchmemd_<version>_<arch>.deb with dpkg-deb from a
# `make install` staging tree (no debhelper, no debian/rules). Run through `make deb`.
set -eu
cd "$(dirname "$0")/.."

MAKE=${MAKE:-make}
VERSION=$(sed -n '1s/^benchmemd (\([^)]*\)).*/\1/p' packaging/debian/changelog)
ARCH=$(dpkg --print-architecture)
STAGE=build/deb
ROOT=$STAGE/root
DEB=build/benchmemd_${VERSION}_${ARCH}.deb

[ -n "$VERSION" ] || { echo "build-deb.sh: no version in packaging/debian/changelog" >&2; exit 1; }
rm -rf "$STAGE"
mkdir -p "$ROOT/DEBIAN"
$MAKE --no-print-directory install DESTDIR="$PWD/$ROOT" PREFIX=/usr

doc=$ROOT/usr/share/doc/benchmemd
install -d "$doc"
install -m 0644 packaging/debian/copyright "$doc/copyright"
gzip -9n <packaging/debian/changelog >"$doc/changelog.Debian.gz"
for f in README.md docs/protocol.md; do
	[ -f "$f" ] && install -m 0644 "$f" "$doc/"
done

size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$size/" \
	packaging/debian/control >"$ROOT/DEBIAN/control"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
	"$ROOT/DEBIAN/"
install -m 0644 packaging/debian/conffiles packaging/debian/triggers "$ROOT/DEBIAN/"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs -r md5sum) >"$ROOT/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
printf '  %-8s %s\n' DEB "$DEB"
