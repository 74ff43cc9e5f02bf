#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# emptyroot.sh STATIC_BTFPACK DYNAMIC_BTFPACK FIXTURE_DIR DATA_DIR
# The static btfpack in an empty root: a directory holding only it, two
# bundles, a key and /etc/os-release, entered with chroot in a private mount
# namespace (unshare -m) with /proc mounted. verify, explain, resolve,
# install, list and rollback give the same JSON as the dynamic build run
# outside with --host-root (and --store/--cache-dir) on a twin directory;
# paths are compared relative to each root. Then the errors where something
# is missing (no /proc, no os-release, a read-only /var, an unwritable cache
# directory): the static binary says what is missing and what to do.
set -euo pipefail
STATIC=$1 DYN=$2 FIX=$3 DATA=$4
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (chroot, unshare -m, mount)"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: unshare -m not permitted here"; exit 77; }
T=$(mktemp -d) && trap 'rm -rf "$T"' EXIT
mkroot() {
  mkdir -p "$1"/etc "$1"/proc "$1"/var/lib/btfpack "$1"/var/cache/btfpack
  cp "$FIX/bundle" "$FIX/bundle2" "$FIX/key.pub" "$1/"
  cp "$DATA/os-release/debian-12" "$1/etc/os-release"
}
S=$T/s D=$T/d
mkroot "$S"; mkroot "$D"
cp "$STATIC" "$S/btfpack"
# in_root [--no-proc] [--ro-var] ARGS...: the static btfpack inside $S
# (/proc and /sys mounted as on a host, unless --no-proc).
in_root() {
  local proc=1 rovar=0
  while :; do case $1 in --no-proc) proc=0; shift ;; --ro-var) rovar=1; shift ;; *) break ;; esac; done
  unshare -m -- sh -c '
    R=$1 proc=$2 rovar=$3; shift 3
    if [ "$proc" = 1 ]; then mount -t proc proc "$R/proc"; fi
    mkdir -p "$R/sys" && mount -t sysfs sysfs "$R/sys"
    if [ "$rovar" = 1 ]; then mount --bind -o ro "$R/var" "$R/var"; fi
    exec chroot "$R" /btfpack "$@"' sh "$S" "$proc" "$rovar" "$@"
}
# outside [--no-proc] [--ro-var] ARGS...: the dynamic build on the host, on
# $D, in its own mount namespace with the same things missing.
outside() {
  local proc=1 rovar=0
  while :; do case $1 in --no-proc) proc=0; shift ;; --ro-var) rovar=1; shift ;; *) break ;; esac; done
  unshare -m -- sh -c '
    R=$1 proc=$2 rovar=$3 dyn=$4; shift 4
    if [ "$proc" = 0 ]; then umount -l /proc; fi
    if [ "$rovar" = 1 ]; then mount --bind -o ro "$R/var" "$R/var"; fi
    exec "$dyn" "$@"' sh "$D" "$proc" "$rovar" "$DYN" "$@"
}
rc=0
compare() { # name; the outputs are in $T/s.out and $T/d.out
  local name=$1
  # Paths relative to each root; temporary files' random suffixes dropped.
  sed -E "s#$D##g; s#\.tmp\.[0-9a-f]+#.tmp.X#g" "$T/d.out" >"$T/d.norm"
  sed -E "s#\.tmp\.[0-9a-f]+#.tmp.X#g" "$T/s.out" >"$T/s.norm"
  if cmp -s "$T/s.norm" "$T/d.norm"; then
    echo "ok $name: $(head -c 200 "$T/s.out" | tr '\n' ' ')"
  else
    echo "FAIL $name: static (chroot) and dynamic (--host-root) differ"
    diff "$T/d.norm" "$T/s.norm" || true
    rc=1
  fi
}
# step NAME [--no-proc] [--ro-var] [--fails] STATIC-ARGS... -- DYNAMIC-ARGS...
step() {
  local name=$1 mods=() fails=0; shift
  while :; do case $1 in --no-proc | --ro-var) mods+=("$1"); shift ;; --fails) fails=1; shift ;; *) break ;; esac; done
  local sargs=() dargs=()
  while [ "$1" != "--" ]; do sargs+=("$1"); shift; done; shift
  dargs=("$@")
  in_root "${mods[@]}" -j "${sargs[@]}" >"$T/s.out" 2>"$T/s.err" && src=0 || src=$?
  outside "${mods[@]}" -j "${dargs[@]}" >"$T/d.out" 2>"$T/d.err" && drc=0 || drc=$?
  if [ "$src" != "$drc" ]; then
    echo "FAIL $name: exit $src (static) vs $drc (dynamic)"; cat "$T/s.err" "$T/d.err"; rc=1
  fi
  if [ $fails = 1 ] && [ "$src" = 0 ]; then echo "FAIL $name: expected an error, got exit 0"; rc=1; fi
  if [ $fails = 0 ] && [ "$src" != 0 ]; then echo "FAIL $name: exit $src: $(cat "$T/s.out" "$T/s.err")"; rc=1; fi
  compare "$name"
}
H=(--kernel-release 6.1.0-55-amd64 --native-btf no)
# A simulated host (--kernel-release) writes only where --cache-dir says.
B=(--bundle /bundle --key /key.pub --cache-dir /var/cache/btfpack)
DB=(--host-root "$D" --bundle "$D/bundle" --key "$D/key.pub" --cache-dir "$D/var/cache/btfpack")
step verify verify /bundle --key /key.pub -- verify "$D/bundle" --key "$D/key.pub"
step explain explain "${B[@]}" "${H[@]}" -- explain "${DB[@]}" "${H[@]}"
step resolve resolve "${B[@]}" "${H[@]}" -- resolve "${DB[@]}" "${H[@]}"
step install install /bundle --key /key.pub -- install "$D/bundle" --key "$D/key.pub" --store "$D/var/lib/btfpack"
step install-newer install /bundle2 --key /key.pub -- install "$D/bundle2" --key "$D/key.pub" --store "$D/var/lib/btfpack"
step list list --key /key.pub -- list --key "$D/key.pub" --store "$D/var/lib/btfpack"
step rollback rollback --key /key.pub -- rollback --key "$D/key.pub" --store "$D/var/lib/btfpack"
step list-after-rollback list --key /key.pub -- list --key "$D/key.pub" --store "$D/var/lib/btfpack"
step resolve-installed resolve --key /key.pub --cache-dir /var/cache/btfpack "${H[@]}" -- \
  resolve --host-root "$D" --key "$D/key.pub" --cache-dir "$D/var/cache/btfpack" "${H[@]}" --store "$D/var/lib/btfpack"

# Something missing: the same answer or the same error (JSON, -j) as the
# dynamic build with the same thing missing.
step no-proc --no-proc explain "${B[@]}" "${H[@]}" -- explain "${DB[@]}" "${H[@]}"
rm "$S/etc/os-release" "$D/etc/os-release"
step no-os-release explain "${B[@]}" "${H[@]}" -- explain "${DB[@]}" "${H[@]}"
step no-os-release-resolve resolve "${B[@]}" "${H[@]}" -- resolve "${DB[@]}" "${H[@]}"
cp "$DATA/os-release/debian-12" "$S/etc/os-release"
cp "$DATA/os-release/debian-12" "$D/etc/os-release"
step read-only-var --ro-var --fails install /bundle2 --key /key.pub -- \
  install "$D/bundle2" --key "$D/key.pub" --store "$D/var/lib/btfpack"
rm -rf "$S"/var/cache/btfpack/* "$D"/var/cache/btfpack/*
step unwritable-cache --ro-var --fails resolve "${B[@]}" "${H[@]}" -- resolve "${DB[@]}" "${H[@]}"
exit $rc
