#!/usr/bin/env bash
# Builds tocsin's Debian package, tocsin_VERSION_ARCH.deb (`make deb`), with
# dpkg-deb from the files of packaging/debian/ and docs/tocsin.1:
#   /usr/bin/tocsin                       the run build (make build,
#                                         RelWithDebInfo) in build-deb/, stripped
#   /lib/systemd/system/tocsin.service    the service, as the tocsin user
#   /etc/tocsin/tocsin.conf               the commented default config (a conffile)
#   /usr/share/man/man1/tocsin.1.gz       the man page
#   /usr/share/doc/tocsin/copyright
#   /usr/share/doc/tocsin/examples/       Prometheus alerting rules for tocsin
#                                         (contrib/prometheus) and their tests
#   DEBIAN/ control, conffiles, md5sums, postinst, prerm, postrm
# VERSION is the project VERSION of CMakeLists.txt (tocsin --version prints
# the same). Depends lists the shared libraries the binary links against, as
# dpkg-shlibdeps finds their packages, and adduser (postinst uses it).
#
# Usage: scripts/build-deb.sh [OUTDIR]   (default: the source folder)
# Prints the package's path last. DEB_MAINTAINER overrides the Maintainer field.
set -euo pipefail
umask 022
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root}" && cd "${1:-$root}" && pwd)
cd "$root"

version=$(sed -nE 's/^project\(tocsin[[:space:]]+VERSION[[:space:]]+([0-9][0-9.]*)[[:space:])].*/\1/p' \
    CMakeLists.txt)
if [ -z "$version" ]; then
    echo "build-deb: no 'project(tocsin VERSION X.Y.Z ...)' in CMakeLists.txt" >&2
    exit 1
fi
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
    if ! command -v "$tool" >/dev/null; then
        echo "build-deb: $tool is missing (apt-get install dpkg-dev binutils gzip)" >&2
        exit 1
    fi
done
arch=$(dpkg --print-architecture)
maintainer=${DEB_MAINTAINER:-tocsin maintainers <tocsin-maintainers@invalid>}
# Files dated as the last commit: the same sources give the same package.
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
    SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct)
    export SOURCE_DATE_EPOCH
fi

# Its own build folder, so that the package never disturbs build/ or
# build-asan/.
make --no-print-directory build BUILD_DIR=build-deb

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Laid out as in a Debian source package (debian/tocsin/ is the package's
# tree), which dpkg-shlibdeps expects.
pkg=$stage/debian/tocsin
mkdir -p "$stage/debian"
mkdir -m 0755 "$pkg"
pd=packaging/debian

install -D -m 0755 build-deb/tocsin "$pkg/usr/bin/tocsin"
# As dh_strip does; the unstripped binary stays in build-deb/ for gdb.
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$pkg/usr/bin/tocsin"
install -D -m 0644 "$pd/tocsin.service" "$pkg/lib/systemd/system/tocsin.service"
install -D -m 0644 "$pd/tocsin.conf" "$pkg/etc/tocsin/tocsin.conf"
install -d -m 0755 "$pkg/usr/share/man/man1"
# The page's header names the package's version.
sed -E "s/^(\\.TH .*)\"tocsin [0-9][0-9.]*\"/\\1\"tocsin $version\"/" docs/tocsin.1 |
    gzip -9n >"$pkg/usr/share/man/man1/tocsin.1.gz"
chmod 0644 "$pkg/usr/share/man/man1/tocsin.1.gz"
install -D -m 0644 "$pd/copyright" "$pkg/usr/share/doc/tocsin/copyright"
install -D -m 0644 contrib/prometheus/tocsin-alerts.yml contrib/prometheus/tocsin-alerts.test.yml \
    -t "$pkg/usr/share/doc/tocsin/examples/"

# dpkg-shlibdeps reads debian/control of the folder it runs in (a stub names
# the package), and finds the package's tree by its DEBIAN folder.
install -d -m 0755 "$pkg/DEBIAN"
printf 'Source: tocsin\n\nPackage: tocsin\nArchitecture: any\n' >"$stage/debian/control"
shlibs=$(cd "$stage" && dpkg-shlibdeps -O debian/tocsin/usr/bin/tocsin)
shlibs=${shlibs#shlibs:Depends=}
if [ -z "$shlibs" ]; then
    echo "build-deb: dpkg-shlibdeps found no library" >&2
    exit 1
fi
size=$(du -sk --apparent-size --exclude=DEBIAN "$pkg" | cut -f1)

sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$shlibs, adduser|" \
    "$pd/control.in" >"$pkg/DEBIAN/control"
install -m 0644 "$pd/conffiles" "$pkg/DEBIAN/conffiles"
install -m 0755 "$pd/postinst" "$pd/prerm" "$pd/postrm" "$pkg/DEBIAN/"
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums"

deb=$out/tocsin_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$pkg" "$deb" >/dev/null
echo "$deb"
