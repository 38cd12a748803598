#!/usr/bin/env bash
# build.run_deps (ctest): the run build (`make build`, `make run`) needs no
# package that only `scripts/install-deps.sh test` installs. Issue 9: `make
# run` failed on a machine with only the run list, because configuring
# tests/ needed cmocka; CI, which installs the test list, never saw it.
#
# Usage: tests/build/test_run_deps.sh SOURCE_DIR SCRATCH_PARENT
#
# The test-only packages are those of the test list that are not in the run
# list, and whatever installed packages they pull in that the run list's
# packages do not (apt-cache depends). The check runs `make build` itself,
# with BUILD_DIR a scratch folder under SCRATCH_PARENT and a pkg-config first
# on PATH that answers "not found" for every module (.pc) those packages
# ship. It then fails if the build used any of their files anyway: a program
# or library in CMakeCache.txt (find_program, find_library, the compiler) or
# a header in the compiler's dependency files. The scratch folder is removed
# at the end.
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
tmp=$(mktemp -d "$(cd "$2" && pwd)/run-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
t0=$(date +%s)

# The test-only packages, from install-deps.sh's two lists.
closure() { # the installed packages of a list and all they depend on
    xargs apt-cache depends --recurse --installed --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances <"$1" |
        grep -v '^ ' | sed 's/:.*//' | sort -u
}
"$src/scripts/install-deps.sh" list run | sort -u >"$tmp/run.list"
"$src/scripts/install-deps.sh" list test | sort -u >"$tmp/test.list"
comm -13 "$tmp/run.list" "$tmp/test.list" >"$tmp/test-only.list"
closure "$tmp/run.list" >"$tmp/run.closure"
closure "$tmp/test-only.list" | comm -23 - "$tmp/run.closure" >"$tmp/hidden.packages"
xargs dpkg -L <"$tmp/hidden.packages" 2>/dev/null | sort -u >"$tmp/hidden.files" || true
grep '\.pc$' "$tmp/hidden.files" | sed 's|.*/||; s|\.pc$||' | sort -u >"$tmp/hidden.modules" || true

# pkg-config without those modules.
real_pkg_config=$(command -v pkg-config)
mkdir "$tmp/bin"
cat >"$tmp/bin/pkg-config" <<EOF
#!/bin/sh
# tests/build/test_run_deps.sh: $real_pkg_config without the modules of
# test-only packages (listed in ../hidden.modules).
hidden=\$(dirname "\$0")/../hidden.modules
for a in "\$@"; do
    case \$a in -*) continue ;; esac
    m=\${a%%[ <>=!]*}
    if grep -qxF -- "\$m" "\$hidden"; then
        echo "Package \$m was not found in the pkg-config search path" \\
            "(hidden by tests/build/test_run_deps.sh: a test-only package ships it)" >&2
        exit 1
    fi
done
exec $real_pkg_config "\$@"
EOF
chmod +x "$tmp/bin/pkg-config"

# The run build, by make build itself, as on a machine with only the run list.
build=$tmp/build
if ! env -u CC -u CFLAGS -u LDFLAGS -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    PATH="$tmp/bin:$PATH" PKG_CONFIG="$tmp/bin/pkg-config" \
    make -C "$src" --no-print-directory build BUILD_DIR="$build" JOBS="$(nproc)" \
    >"$tmp/build.log" 2>&1; then
    echo "FAIL: make build needs more than scripts/install-deps.sh run installs" \
        "(hidden pkg-config modules: $(tr '\n' ' ' <"$tmp/hidden.modules")):"
    grep -v '^gmake\|^\[ *[0-9]*%\]' "$tmp/build.log" | head -40
    exit 1
fi
used=$(sed -n 's/^PKG_CONFIG_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
if [ "$used" != "$tmp/bin/pkg-config" ]; then
    echo "FAIL: the run build used pkg-config '$used', not the check's: nothing was hidden"
    exit 1
fi
[ -x "$build/tocsin" ] || { echo "FAIL: make build made no $build/tocsin"; exit 1; }

# Every file the build used, and none of a test-only package's.
{
    sed -n 's/^[A-Za-z0-9_.-]*:\(FILE\)\{0,1\}PATH=\(\/.*\)/\2/p' "$build/CMakeCache.txt"
    find "$build" -name '*.o.d' -exec cat {} + | tr ' ' '\n' | grep '^/' | grep -v "^$build/"
} | sort -u | while read -r f; do
    if [ -f "$f" ]; then printf '%s\n%s\n' "$f" "$(realpath "$f")"; fi
done | sort -u >"$tmp/used.files"
comm -12 "$tmp/used.files" "$tmp/hidden.files" >"$tmp/bad.files"
if [ -s "$tmp/bad.files" ]; then
    echo "FAIL: make build used files of test-only packages (not in scripts/install-deps.sh run):"
    xargs dpkg -S <"$tmp/bad.files" 2>/dev/null | head -20
    exit 1
fi
echo "ok: make build built tocsin in $(($(date +%s) - t0)) s with what the run list installs;" \
    "hidden: $(wc -l <"$tmp/hidden.packages") test-only packages, their pkg-config modules" \
    "$(tr '\n' ' ' <"$tmp/hidden.modules")and their files (none among the" \
    "$(wc -l <"$tmp/used.files") programs, libraries and headers the build used)"
