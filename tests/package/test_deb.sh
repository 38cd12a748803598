#!/usr/bin/env bash
# package.deb (ctest): the Debian package of `make deb`, installed on this
# machine as an administrator would, run as its service would run, and
# purged.
#
#   1. builds the package (scripts/build-deb.sh, the run build in build-deb/)
#      and checks its files;
#   2. installs it with apt-get, and checks what postinst made: the tocsin
#      system user and the state folder /var/lib/tocsin (tocsin:tocsin 0750),
#      the conffile, the man page; `systemd-analyze verify` on the installed
#      unit; `tocsin check-config` on the default config, which must document
#      every flag of `tocsin serve` with a valid example (and the man page
#      every flag); `tocsin --version` (the version and the commit);
#   3. starts tocsin exactly as the installed unit's ExecStart says, as its
#      User and Group, in its WorkingDirectory, with its UMask, no capability
#      and no new privileges, and STATE_DIRECTORY set as systemd sets it
#      (containers here have no running systemd: the unit cannot be started
#      by systemctl). Nothing of the installed configuration is edited;
#   4. waits for /healthz on the address of /etc/tocsin/tocsin.conf's
#      `listen`, reads the administrator's app key written at first start,
#      makes a channel and an integration, pushes an event to
#      /event/push/alert/standard, and finds its alert in /alert/list;
#   5. stops tocsin with SIGTERM (it must exit 0), purges the package, and
#      checks that nothing of it is left but the tocsin user and group, which
#      Debian keeps (packaging/debian/postrm says why).
#
# It skips (exit 77, the reason on stdout) when it is not root, when a tocsin
# package is already installed (this test would purge it), or when the
# default configuration's address, 127.0.0.1:8080, is taken: the test starts
# tocsin on the installed configuration unchanged, and does not take a port
# from something else running here. Every check that fails is reported, and
# the test goes on where it can, so one run shows all that is wrong. Whatever
# happens, it stops its tocsin and purges the package it installed.
#
# Usage: tests/package/test_deb.sh SOURCE_DIR WORK_PARENT
# (a scratch folder under WORK_PARENT holds the package and the logs; it is
# removed when the test passes)
set -uo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(mktemp -d "$(cd "$2" && pwd)/deb.XXXXXX")
t0=$(date +%s)
failures=0
installed=0
pid=

say() { printf 'package.deb: %s\n' "$*"; }
bad() {
    say "FAIL: $*"
    failures=$((failures + 1))
}
die() {
    bad "$*"
    exit 1
}
skip() {
    say "SKIP: $*"
    exit 77
}

stop_tocsin() { # SIGTERM, then at most 30 s for a clean stop; sets stop_rc
    stop_rc=
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        stop_rc=killed
    fi
    wait "$pid" 2>/dev/null
    local rc=$?
    [ -n "$stop_rc" ] || stop_rc=$rc
    pid=
}

wait_healthz() { # BASE_URL [PID]: 0 once BASE_URL/healthz answers 200, within 30 s
    for _ in $(seq 300); do
        curl -sf -o /dev/null "$1/healthz" && return 0
        [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

apt_quiet() { # apt-get, its output in the log named first
    local log=$1
    shift
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" >"$log" 2>&1
}

cleanup() {
    local rc=$?
    trap - EXIT
    stop_tocsin
    if [ "$installed" = 1 ] && dpkg-query -W -f='${Status}' tocsin 2>/dev/null |
        grep -qv 'not-installed'; then
        say "cleaning up: purging the package"
        apt_quiet "$work/cleanup-purge.log" purge -y tocsin || cat "$work/cleanup-purge.log"
    fi
    if [ "$rc" = 0 ]; then
        rm -rf "$work"
    elif [ -f "$work/tocsin.log" ]; then
        say "tocsin's output (kept in $work):"
        if [ "$(wc -l <"$work/tocsin.log")" -le 60 ]; then
            cat "$work/tocsin.log"
        else
            head -n 20 "$work/tocsin.log"
            echo "[...]"
            tail -n 40 "$work/tocsin.log"
        fi
    fi
    say "took $(($(date +%s) - t0)) s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- 0. Whether this machine can run it ------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root: it installs and purges a package"
for tool in apt-get dpkg-deb dpkg-shlibdeps objdump systemd-analyze setpriv curl /usr/bin/python3; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing (scripts/install-deps.sh test installs it)"
done
status=$(dpkg-query -W -f='${Status}' tocsin 2>/dev/null)
case $status in
'' | *not-installed) ;;
*) skip "a tocsin package is already here ($status): this test would purge it" ;;
esac
conf_value() { # the value of an active `key = value` line of an INI file
    sed -nE "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*([^[:space:]]*)[[:space:]]*$/\1/p" "$2" |
        tail -n 1
}
listen=$(conf_value listen "$src/packaging/debian/tocsin.conf")
host=${listen%:*}
port=${listen##*:}
[ -n "$host" ] && [ -n "$port" ] || die "no listen = HOST:PORT in packaging/debian/tocsin.conf"
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    skip "$listen, where the package's default configuration listens, is taken"
fi

# --- 1. The package ----------------------------------------------------------
version=$(sed -nE 's/^project\(tocsin[[:space:]]+VERSION[[:space:]]+([0-9][0-9.]*)[[:space:])].*/\1/p' \
    "$src/CMakeLists.txt")
[ -n "$version" ] || die "no project VERSION in CMakeLists.txt"
say "building the package (scripts/build-deb.sh)"
"$src/scripts/build-deb.sh" "$work" >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log"; die "scripts/build-deb.sh failed"; }
deb=$work/tocsin_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || die "no $deb after scripts/build-deb.sh"
[ "$(tail -n 1 "$work/build.log")" = "$deb" ] ||
    bad "scripts/build-deb.sh did not print the package's path last"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/tocsin /lib/systemd/system/tocsin.service /etc/tocsin/tocsin.conf \
    /usr/share/man/man1/tocsin.1.gz /usr/share/doc/tocsin/copyright \
    /usr/share/doc/tocsin/examples/tocsin-alerts.yml; do
    grep -qxF "$f" "$work/contents" || bad "the package has no $f"
done
dpkg-deb -f "$deb" Depends | grep -q 'libsqlite3' ||
    bad "Depends names no SQLite library: $(dpkg-deb -f "$deb" Depends)"

# --- 2. Installed ------------------------------------------------------------
say "installing $(basename "$deb") with apt-get"
installed=1
apt_quiet "$work/install.log" install -y --no-install-recommends "$deb" ||
    { cat "$work/install.log"; die "apt-get install failed"; }
[ "$(dpkg-query -W -f='${Status}' tocsin)" = "install ok installed" ] ||
    die "dpkg does not list tocsin as installed after apt-get install"
unit=/lib/systemd/system/tocsin.service
conf=/etc/tocsin/tocsin.conf
if [ -d /run/systemd/system ]; then
    # A machine running systemd (not the containers here: this part has not
    # run here): postinst started the service, unless a policy-rc.d forbade
    # it. Started, it must come up under the unit's own sandbox; then it is
    # stopped, and the test starts its own tocsin as a container would.
    started=$(systemctl show -p ExecMainStartTimestampMonotonic --value tocsin.service)
    if [ "${started:-0}" != 0 ]; then
        wait_healthz "http://$(conf_value listen "$conf")" ||
            bad "the service postinst started does not answer /healthz within 30 s:
$(systemctl status --no-pager tocsin.service; journalctl --no-pager -n 30 -u tocsin.service)"
    else
        say "systemd runs here, but postinst's start of the service was not allowed"
    fi
    systemctl stop tocsin.service || bad "systemctl stop tocsin.service failed"
fi
[ -x /usr/bin/tocsin ] || bad "/usr/bin/tocsin is not installed or not executable"
# Stripped, as Debian ships binaries (the debug build stays in build-deb/).
! objdump -h /usr/bin/tocsin | grep -q '\.debug_info' || bad "/usr/bin/tocsin is not stripped"
for f in "$unit" "$conf" /usr/share/doc/tocsin/copyright; do
    [ -f "$f" ] || bad "$f is not installed"
done
man=/usr/share/man/man1/tocsin.1.gz
man_installed=1
if [ ! -f "$man" ]; then
    man_installed=0
    if grep -qs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
        say "the man page is not installed: this machine's dpkg excludes /usr/share/man"
    else
        bad "$man is not installed"
    fi
elif command -v man >/dev/null && [ "$(man -w tocsin 2>/dev/null)" != "$man" ]; then
    bad "man -w tocsin does not find $man"
fi
dpkg-query -W -f='${Conffiles}\n' tocsin | grep -q "^ $conf " ||
    bad "$conf is not a conffile of the package"
IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd tocsin)"
if [ -z "${uid:-}" ]; then
    bad "postinst made no tocsin user"
else
    first=$(sed -n 's/^FIRST_SYSTEM_UID=//p' /etc/adduser.conf 2>/dev/null)
    last=$(sed -n 's/^LAST_SYSTEM_UID=//p' /etc/adduser.conf 2>/dev/null)
    [ "$uid" -ge "${first:-100}" ] && [ "$uid" -le "${last:-999}" ] ||
        bad "the tocsin user (uid $uid) is not a system user"
    [ "$(getent group tocsin | cut -d: -f3)" = "$gid" ] ||
        bad "the tocsin user's group is not the tocsin group"
    [ "$home" = /var/lib/tocsin ] || bad "the tocsin user's home is $home, not /var/lib/tocsin"
    case $shell in */nologin | */false) ;; *) bad "the tocsin user may log in ($shell)" ;; esac
fi
[ "$(stat -c '%U:%G %a' /var/lib/tocsin 2>&1)" = "tocsin:tocsin 750" ] ||
    bad "/var/lib/tocsin is $(stat -c '%U:%G %a' /var/lib/tocsin 2>&1), not tocsin:tocsin 750"

# systemd-analyze verify exits 0 on a unit it only warns about (an unknown
# key, a bad value: "ignoring"), so any line naming the unit fails the test
# too. Lines about other units are shown, not judged. Where the man page is
# not installed, its check (man tocsin) is left out.
man_opt=()
[ "$man_installed" = 1 ] && command -v man >/dev/null || man_opt=(--man=no)
verify=$(systemd-analyze verify "${man_opt[@]}" "$unit" 2>&1)
verify_rc=$?
[ -n "$verify" ] && say "systemd-analyze verify says:" && printf '%s\n' "$verify"
if [ "$verify_rc" != 0 ] || grep -q 'tocsin' <<<"$verify"; then
    bad "systemd-analyze verify $unit: exit $verify_rc, or a complaint about the unit"
fi

# The default config: valid as installed; every flag of tocsin serve
# documented in it; and each commented example a valid setting (the file
# with them all uncommented passes check-config, private since tls-key and
# store may hold secrets).
out=$(/usr/bin/tocsin check-config "$conf" 2>&1) || bad "tocsin check-config $conf: $out"
sed -E 's/^#([a-z][a-z-]* = )/\1/' "$conf" >"$work/all-keys.conf"
chmod 0600 "$work/all-keys.conf"
out=$(/usr/bin/tocsin check-config "$work/all-keys.conf" 2>&1) ||
    bad "$conf's commented examples, uncommented, are refused: $out"
for flag in $(/usr/bin/tocsin serve --help | sed -nE 's/^  --([a-z][a-z-]*).*/\1/p'); do
    case $flag in help | config) continue ;; esac
    grep -qE "^#?$flag = " "$conf" || bad "$conf does not document --$flag"
    # The man page too (roff writes each - of an option as \-).
    [ "$man_installed" = 0 ] || zcat "$man" | grep -qF -- "$(sed 's/-/\\-/g' <<<"--$flag")" ||
        bad "man tocsin does not document --$flag"
done

out=$(/usr/bin/tocsin --version 2>&1)
grep -qF "$version" <<<"$out" || bad "tocsin --version does not print $version: '$out'"
if commit=$(git -C "$src" rev-parse --short=7 HEAD 2>/dev/null); then
    grep -qF "$commit" <<<"$out" || bad "tocsin --version does not print the commit $commit: '$out'"
fi

# --- 3. Started as the unit says ----------------------------------------------
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
exec_start=$(unit_value ExecStart)
user=$(unit_value User)
group=$(unit_value Group)
state=$(unit_value StateDirectory)
workdir=$(unit_value WorkingDirectory)
umask_value=$(unit_value UMask)
# systemd's command-line syntax is not parsed here: an ExecStart with a
# prefix, quotes, specifiers or variables would need it.
case $exec_start in
'' | [-@:+!]* | *[\"\'\$%\\]*) die "ExecStart='$exec_start': this test cannot run it as systemd would" ;;
esac
read -r -a cmd <<<"$exec_start"
[ -n "$user" ] && [ -n "$state" ] || die "the unit names no User or no StateDirectory"
state_dir=/var/lib/$state
data=$(conf_value data "$conf")
listen=$(conf_value listen "$conf")
[ "$data" = "$state_dir" ] ||
    bad "$conf's data ($data) is not the unit's StateDirectory ($state_dir)"
home=$(getent passwd "$user" | cut -d: -f6)
say "starting, as $user: ${cmd[*]}"
(
    cd "${workdir:-/}" || exit 1
    umask "${umask_value:-0022}"
    exec setpriv --reuid "$user" --regid "${group:-$user}" --init-groups \
        --inh-caps=-all --bounding-set=-all --no-new-privs \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME="$home" USER="$user" LOGNAME="$user" STATE_DIRECTORY="$state_dir" "${cmd[@]}"
) </dev/null >"$work/tocsin.log" 2>&1 &
pid=$!

base=http://$listen
up=0
wait_healthz "$base" "$pid" && up=1
if [ "$up" = 0 ]; then
    kill -0 "$pid" 2>/dev/null && bad "tocsin did not answer $base/healthz within 30 s" ||
        bad "tocsin exited at start (its output is below)"
    grep -q "unrecognized option '--config'" "$work/tocsin.log" &&
        say "this tocsin has no --config yet (issue 13's config file): the unit cannot start it"
else
    # --- 4. An event, through the installed tocsin ----------------------------
    [ "$(stat -c %U "/proc/$pid")" = "$user" ] || bad "tocsin does not run as $user"
    keyfile=$data/admin-app-key
    [ "$(stat -c '%U %a' "$keyfile" 2>&1)" = "$user 600" ] ||
        bad "$keyfile is $(stat -c '%U %a' "$keyfile" 2>&1), not $user 600"
    [ "$(stat -c %U "$data/tocsin.db" 2>&1)" = "$user" ] ||
        bad "$data/tocsin.db is not $user's"
    key=$(cat "$keyfile" 2>/dev/null)
    post() { # POST PATH?QUERY JSON: prints the answer's body, fails unless 200
        curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' -d "$2" "$base$1"
    }
    field() { # the value of a Python expression on the JSON answer `d` on stdin
        /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
    }
    now=$(date +%s)
    if ! channel=$(post "/channel/create?app_key=$key" '{"channel_name":"package","team_id":0}' |
        field 'd["data"]["channel_id"]'); then
        bad "/channel/create failed"
    elif ! ikey=$(post "/integration/create?app_key=$key" \
        "{\"type\":\"alert_standard\",\"name\":\"package-test\",\"channel_id\":$channel}" |
        field 'd["data"]["integration_key"]'); then
        bad "/integration/create failed"
    elif ! post "/event/push/alert/standard?integration_key=$ikey" \
        '{"title_rule":"disk full on $host","event_status":"Critical","alert_key":"package-deb","labels":{"host":"db-01"}}' \
        >"$work/push.json"; then
        bad "the push to /event/push/alert/standard failed: $(cat "$work/push.json")"
    else
        title=$(post "/alert/list?app_key=$key" \
            "{\"start_time\":$((now - 3600)),\"end_time\":$((now + 3600)),\"alert_keys\":[\"package-deb\"]}" |
            field '[a["title"] for a in d["data"]["items"]]')
        [ "$title" = "['disk full on db-01']" ] ||
            bad "/alert/list does not show the pushed alert: $title"
    fi
fi
if [ -n "$pid" ]; then
    stop_tocsin
    [ "$up" = 0 ] || [ "$stop_rc" = 0 ] || bad "tocsin did not stop cleanly on SIGTERM: $stop_rc"
fi

# --- 5. Purged ------------------------------------------------------------------
say "purging the package"
apt_quiet "$work/purge.log" purge -y tocsin || { cat "$work/purge.log"; die "apt-get purge failed"; }
case $(dpkg-query -W -f='${Status}' tocsin 2>/dev/null) in
'' | *not-installed) installed=0 ;;
*) bad "dpkg still lists tocsin after the purge: $(dpkg-query -W -f='${Status}' tocsin)" ;;
esac
for f in /usr/bin/tocsin "$unit" /etc/tocsin /var/lib/tocsin /usr/share/doc/tocsin "$man"; do
    [ ! -e "$f" ] || bad "$f is left after the purge"
done
left=$(find /etc /lib/systemd /usr/lib/systemd /var/lib/systemd -name '*tocsin*' 2>/dev/null)
[ -z "$left" ] || bad "left after the purge: $left"
owned=$(find /etc /var /run /usr -xdev -user tocsin 2>/dev/null | head)
[ -z "$owned" ] || bad "files of the tocsin user are left after the purge: $owned"
getent passwd tocsin >/dev/null && say "the tocsin user and group are kept, as Debian keeps system users"

if [ "$failures" != 0 ]; then
    say "$failures check(s) failed"
    exit 1
fi
say "passed"
