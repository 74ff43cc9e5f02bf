#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fault tests through the real `btfpack` command (docs/security.md, "Faults
# tried"): disk full during install and gen, SIGKILL during gen, concurrent
# installs and resolves, a read-only store, and a bundle replaced or
# truncated while resolve reads it. Every scenario checks the same promise:
# nothing is lost (the previous bundle stays current and verified) and no
# partial file is ever visible under a final name or handed to a caller.
#
# usage: faults.sh CLI BPF_OBJ_DIR ARCHIVE WORK SCENARIO
#   SCENARIO is setup (makes keys and bundles in WORK, a ctest fixture) or
#   one of the scenario functions below. Exit 77 means skipped.
# SIGKILL during install: tests/packaging/store_test.cpp
#   (CrashAtEveryStepLeavesOldOrNew, RandomKillsLeaveOldOrNew); during fetch:
#   tests/fetcher/fetch_test.cpp (KilledMidRunThenRestartedResumes).
set -u -o pipefail

CLI=$1
OBJ=$2
ARCHIVE=$3
WORK=$4
SCENARIO=$5

# The kernel resolve is asked about: one in the sample archive.
HOST=(--kernel-release 6.1.0-55-amd64 --arch x86_64 --os-id debian
  --os-version-id 12 --native-btf no)

failures=0
T=""
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
skip() {
  echo "SKIP: $*"
  exit 77
}
note() { echo "-- $*"; }

cleanup() {
  if [[ -n $T ]]; then
    # Unmount whatever this scenario mounted under its temp dir.
    grep -o " $T/[^ ]*" /proc/mounts | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null
    done
    rm -rf "$T"
  fi
}
trap cleanup EXIT

need_root() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (mount -t tmpfs / bind mounts)"
  local probe
  probe=$(mktemp -d)
  if ! mount -t tmpfs -o size=4k tmpfs "$probe" 2>/dev/null; then
    rmdir "$probe"
    skip "cannot mount tmpfs here (no CAP_SYS_ADMIN)"
  fi
  umount "$probe"
  rmdir "$probe"
}

# verified FILE: the bundle's signature and every blob check out.
verified() { "$CLI" verify "$1" --key "$WORK/k.pub" >/dev/null 2>&1; }
# manifest_of FILE: the manifest sha256 of a verified bundle.
manifest_of() {
  "$CLI" -j inspect "$1" --key "$WORK/k.pub" 2>/dev/null |
    jq -r '.manifest_sha256 // empty'
}
# name_dir STORE: the store's one names/<name>/ directory (its links and
# rollback mark; docs/install-layout.md).
name_dir() {
  local d=("$1"/names/*/)
  echo "${d[0]%/}"
}

# current_ok STORE MANIFEST: current is verified and is that bundle, list
# agrees, and no temporary file is visible in the store.
current_ok() {
  local store=$1 want=$2 what=$3
  local cur="$store/current"
  verified "$cur" || fail "$what: current in $store does not verify"
  local got
  got=$("$CLI" -j list --store "$store" --key "$WORK/k.pub" |
    jq -r '.bundles[] | select(.current) | "\(.verified) \(.manifest_sha256)"')
  [[ $got == "true $want" ]] ||
    fail "$what: btfpack list says current is '$got', want 'true $want'"
  local left
  left=$(find "$store" -name '.tmp-*' ! -name '.lock' | head -3)
  [[ -z $left ]] || fail "$what: temporary files left in the store: $left"
}

mk_tmp() { T=$(mktemp -d "${TMPDIR:-/tmp}/btfpack-faults.XXXXXX"); }

gen() { # gen ARGS...: gen with the fixture's key and warm cache
  "$CLI" gen --archive "$ARCHIVE" --cache "$WORK/cache" -j 2 "$@"
}

setup() {
  rm -rf "$WORK"
  mkdir -p "$WORK"
  "$CLI" keygen --out "$WORK/k" >/dev/null || exit 1
  local i objs=(
    "--object $OBJ/parentchain.bpf.o --object $OBJ/taskstate.bpf.o"
    "--object $OBJ/parentchain.bpf.o --object $OBJ/nspid.bpf.o"
    "--object $OBJ/taskstate.bpf.o --object $OBJ/nspid.bpf.o")
  for i in 1 2 3; do
    # shellcheck disable=SC2086
    gen ${objs[i - 1]} --bundle "$WORK/b$i.btfpack" --key "$WORK/k" \
      --bundle-version "$i" --bundle-name agent >/dev/null ||
      { echo "gen of bundle $i failed" >&2; exit 1; }
    echo "${objs[i - 1]}" >"$WORK/b$i.objects"
    verified "$WORK/b$i.btfpack" || { echo "bundle $i does not verify" >&2; exit 1; }
    manifest_of "$WORK/b$i.btfpack" >"$WORK/b$i.manifest"
    [[ -s $WORK/b$i.manifest ]] || { echo "no manifest digest for $i" >&2; exit 1; }
    # The digest resolve hands out for HOST from this bundle.
    local p
    p=$("$CLI" resolve --bundle "$WORK/b$i.btfpack" --key "$WORK/k.pub" \
      "${HOST[@]}" --cache-dir "$WORK/rcache" | tail -1) || exit 1
    basename "$p" .btf >"$WORK/b$i.digest"
  done
  # A second signing key (rotation) and bundle 4 signed by it alone.
  "$CLI" keygen --out "$WORK/k2" >/dev/null || exit 1
  # shellcheck disable=SC2086
  gen ${objs[0]} --bundle "$WORK/b4.btfpack" --key "$WORK/k2" \
    --bundle-version 4 --bundle-name agent >/dev/null 2>&1 ||
    { echo "gen of bundle 4 failed" >&2; exit 1; }
  echo "fixture in $WORK: 4 bundles, resolve digests" \
    "$(cat "$WORK"/b*.digest | tr '\n' ' ')"
}

m() { cat "$WORK/b$1.manifest"; }

# Disk full during install: the store on a tmpfs that is full; install
# fails naming the path and ENOSPC, v1 stays current and verified.
disk_full_install() {
  need_root
  mk_tmp
  mkdir "$T/fs"
  mount -t tmpfs -o size=64k tmpfs "$T/fs" || fail "mount tmpfs"
  local store="$T/fs/store"
  "$CLI" install "$WORK/b1.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install v1 on an empty tmpfs"
  # Fill the file system to the last byte.
  dd if=/dev/zero of="$T/fs/fill" bs=4k 2>/dev/null
  local err
  err=$("$CLI" install "$WORK/b2.btfpack" --key "$WORK/k.pub" \
    --store "$store" 2>&1 >/dev/null)
  local rc=$?
  note "install on full tmpfs: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "install succeeded on a full file system"
  [[ $err == *"$store"* && $err == *"No space left on device"* ]] ||
    fail "message does not name the store path and ENOSPC: $err"
  [[ $err != *".tmp-"* ]] || fail "message names a deleted temporary file: $err"
  current_ok "$store" "$(m 1)" "after ENOSPC install"
  # resolve with its cache directory on the full file system: fails
  # naming the cache file, leaves nothing in the cache.
  err=$("$CLI" resolve --bundle "$store/current" --key "$WORK/k.pub" \
    "${HOST[@]}" --cache-dir "$T/fs/cache" 2>&1 >/dev/null)
  rc=$?
  note "resolve with the cache on a full tmpfs: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "resolve wrote a cache file on a full file system"
  [[ $err == *"$T/fs/cache/"* && $err == *"No space left on device"* ]] ||
    fail "resolve message does not name the cache path and ENOSPC: $err"
  [[ -z $(find "$T/fs/cache" -type f 2>/dev/null) ]] ||
    fail "files left in the cache: $(find "$T/fs/cache" -type f)"
  # The same with only part of the bundle fitting: free one page.
  rm "$T/fs/fill"
  dd if=/dev/zero of="$T/fs/fill" bs=1 count=$((64 * 1024 - 5000)) \
    2>/dev/null
  err=$("$CLI" install "$WORK/b2.btfpack" --key "$WORK/k.pub" \
    --store "$store" 2>&1 >/dev/null)
  rc=$?
  note "install with ~1 page free: rc=$rc: ${err:-ok}"
  if [[ $rc -eq 0 ]]; then
    current_ok "$store" "$(m 2)" "install that fit"
  else
    current_ok "$store" "$(m 1)" "after partial-space install"
  fi
  # With room again, install works and v1 becomes previous.
  rm "$T/fs/fill"
  "$CLI" install "$WORK/b3.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install after freeing space"
  current_ok "$store" "$(m 3)" "after freeing space"
  local p
  p=$(BTFPACK_STORE=$store "$CLI" resolve --key "$WORK/k.pub" "${HOST[@]}" \
    --cache-dir "$T/fs/cache" | tail -1) || fail "resolve after freeing space"
  [[ $(basename "$p" .btf) == "$(cat "$WORK/b3.digest")" ]] ||
    fail "resolve after freeing space gave '$p'"
  check_resolved "$p" "after freeing space"
}

# Disk full during gen: --bundle and --out on a full tmpfs. gen fails
# naming the file; the bundle already there is untouched and verified; no
# partial .btf under a final name.
disk_full_gen() {
  need_root
  mk_tmp
  mkdir "$T/fs"
  mount -t tmpfs -o size=64k tmpfs "$T/fs" || fail "mount tmpfs"
  cp "$WORK/b1.btfpack" "$T/fs/agent.btfpack"
  dd if=/dev/zero of="$T/fs/fill" bs=4k 2>/dev/null
  local err rc
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --bundle "$T/fs/agent.btfpack" \
    --key "$WORK/k" --bundle-version 2 >/dev/null 2>"$T/err"
  rc=$?
  err=$(grep -i error "$T/err")
  note "gen --bundle on full tmpfs: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "gen --bundle succeeded on a full file system"
  [[ $err == *"$T/fs/agent.btfpack"* && $err == *"No space left"* ]] ||
    fail "message does not name the bundle path and ENOSPC: $err"
  verified "$T/fs/agent.btfpack" || fail "previous bundle no longer verifies"
  [[ $(manifest_of "$T/fs/agent.btfpack") == "$(m 1)" ]] ||
    fail "previous bundle was changed"
  mkdir "$T/fs/out" 2>/dev/null || true
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --out "$T/fs/out" >/dev/null 2>"$T/err"
  rc=$?
  err=$(grep -i error "$T/err")
  note "gen --out on full tmpfs: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "gen --out succeeded on a full file system"
  [[ $err == *"$T/fs/out"* && $err == *"No space left"* ]] ||
    fail "message does not name the out path and ENOSPC: $err"
  # Every .btf visible under its final name is complete: same bytes as a
  # run with room.
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --out "$T/ref" >/dev/null 2>&1 ||
    fail "reference gen --out"
  check_out() {
    local f n=0
    while IFS= read -r f; do
      n=$((n + 1))
      cmp -s "$f" "$T/ref/${f#"$T/fs/out/"}" ||
        fail "partial or wrong file visible after ENOSPC: $f"
    done < <(find "$T/fs/out" -name '*.btf' -type f)
    note "$n complete .btf files visible after ENOSPC, none partial"
  }
  check_out
  # Room for two pages: some kernels' files fit, a later one does not.
  rm -rf "$T/fs/fill" "$T/fs/out"
  dd if=/dev/zero of="$T/fs/fill" bs=4k count=$((64 / 4 - 2 - 1)) \
    2>/dev/null # minus the bundle's page
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --out "$T/fs/out" >/dev/null 2>"$T/err"
  rc=$?
  note "gen --out with two pages free: rc=$rc: $(grep -i error "$T/err")"
  check_out
  [[ -z $(find "$T/fs" -name '.*' -type f) ]] ||
    fail "temporary files left: $(find "$T/fs" -name '.*' -type f)"
}

# SIGKILL during gen at spread-out moments of a warm-cache run: the bundle
# path holds the old bundle or the complete new one, never a partial file;
# every visible .btf is complete.
kill_gen() {
  mk_tmp
  local b="$T/agent.btfpack" start end dur i kills=16 old=0 new=0 partial=0
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --out "$T/ref" >/dev/null 2>&1 ||
    fail "reference gen --out"
  start=$(date +%s%N)
  # shellcheck disable=SC2046
  gen $(cat "$WORK/b2.objects") --bundle "$T/probe.btfpack" --key "$WORK/k" \
    --bundle-version 2 >/dev/null 2>&1 || fail "probe gen"
  end=$(date +%s%N)
  dur=$(((end - start) / 1000)) # microseconds
  note "a warm gen takes $((dur / 1000)) ms; $kills kills spread over it"
  for ((i = 0; i < kills; i++)); do
    cp "$WORK/b1.btfpack" "$b"
    rm -rf "$T/out"
    # shellcheck disable=SC2046
    gen $(cat "$WORK/b2.objects") --bundle "$b" --key "$WORK/k" \
      --bundle-version 2 --out "$T/out" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '0.%06d' $((dur * (i + 1) / kills)))" 2>/dev/null ||
      sleep 0.1
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ! verified "$b"; then
      partial=$((partial + 1))
      fail "bundle path does not verify after SIGKILL #$i"
    elif [[ $(manifest_of "$b") == "$(m 1)" ]]; then
      old=$((old + 1))
    else
      new=$((new + 1))
    fi
    local f
    while IFS= read -r f; do
      cmp -s "$f" "$T/ref/${f#"$T/out/"}" ||
        fail "partial .btf visible after SIGKILL #$i: $f"
    done < <(find "$T/out" -name '*.btf' -type f 2>/dev/null)
  done
  note "after $kills SIGKILLs: old bundle $old, complete new bundle $new," \
    "partial $partial"
}

# Several installs at once (v1, v2, v3 twice each): serialized by the
# store lock; the store ends with one verified current.
concurrent_installs() {
  mk_tmp
  local store="$T/store" i pids=() ok=0
  for i in 1 2 3 1 2 3; do
    "$CLI" install "$WORK/b$i.btfpack" --key "$WORK/k.pub" --store "$store" \
      --allow-downgrade >"$T/inst.$i.$RANDOM" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" && ok=$((ok + 1))
  done
  note "6 concurrent installs: $ok succeeded"
  [[ $ok -ge 1 ]] || fail "no concurrent install succeeded"
  local cur
  cur=$("$CLI" -j list --store "$store" --key "$WORK/k.pub" |
    jq -r '.bundles[] | select(.current) | .manifest_sha256')
  [[ $cur == "$(m 1)" || $cur == "$(m 2)" || $cur == "$(m 3)" ]] ||
    fail "current after concurrent installs is '$cur'"
  current_ok "$store" "$cur" "after concurrent installs"
  local n
  n=$(find "$store/bundles" -type f | wc -l)
  [[ $n -le 2 ]] || fail "$n bundle files kept (only current and previous)"
  note "current is $cur; $n bundle file(s) kept"
}

# check_resolved OUT: OUT's last line is a cache path whose content
# hashes to its name, and that digest is one of the fixture's.
check_resolved() {
  local p=$1 what=$2 d
  d=$(basename "$p" .btf)
  [[ -f $p ]] || { fail "$what: resolve printed '$p', not a file"; return; }
  [[ $(sha256sum <"$p" | cut -d' ' -f1) == "$d" ]] ||
    fail "$what: $p does not hash to its name"
  grep -qx "$d" "$WORK"/b*.digest || fail "$what: $d is no bundle's BTF"
}

# Eight resolves at once on one empty cache dir: all print the same path,
# whose content hashes to the digest the bundle names.
concurrent_resolves() {
  mk_tmp
  local i pids=() paths
  for i in $(seq 8); do
    "$CLI" resolve --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
      "${HOST[@]}" --cache-dir "$T/cache" >"$T/r.$i" 2>"$T/e.$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || fail "a concurrent resolve failed: $(cat "$T"/e.*)"
  done
  paths=$(for i in $(seq 8); do tail -1 "$T/r.$i"; done | sort -u)
  [[ $(wc -l <<<"$paths") -eq 1 ]] || fail "resolves disagree: $paths"
  [[ $(basename "$paths" .btf) == "$(cat "$WORK/b1.digest")" ]] ||
    fail "resolved $paths, want digest $(cat "$WORK/b1.digest")"
  check_resolved "$paths" "concurrent resolve"
  [[ $(find "$T/cache" -type f | wc -l) -eq 1 ]] ||
    fail "cache holds $(find "$T/cache" -type f | wc -l) files, want 1"
  note "8 concurrent resolves: one path $paths, digest checked"
}

# A read-only store (ro bind mount; chmod does not stop root): install
# fails naming the store, list and resolve still work.
readonly_store() {
  need_root
  mk_tmp
  local store="$T/store"
  "$CLI" install "$WORK/b1.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install v1"
  mkdir "$T/ro"
  mount --bind "$store" "$T/ro" && mount -o remount,ro,bind "$T/ro" ||
    fail "ro bind mount"
  local err rc
  err=$("$CLI" install "$WORK/b2.btfpack" --key "$WORK/k.pub" \
    --store "$T/ro" 2>&1 >/dev/null)
  rc=$?
  note "install into a read-only store: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "install into a read-only store succeeded"
  [[ $err == *"$T/ro"* && $err == *"Read-only file system"* ]] ||
    fail "message does not name the store and EROFS: $err"
  current_ok "$T/ro" "$(m 1)" "read-only store"
  local p
  p=$(BTFPACK_STORE="$T/ro" "$CLI" resolve --key "$WORK/k.pub" "${HOST[@]}" \
    --cache-dir "$T/cache" | tail -1) || fail "resolve from a read-only store"
  [[ $(basename "$p" .btf) == "$(cat "$WORK/b1.digest")" ]] ||
    fail "resolve from a read-only store gave '$p'"
  check_resolved "$p" "read-only store"
  note "resolve from the read-only store: $p"
}

# The bundle is renamed over, rewritten in place (cp) and truncated in
# place while resolves read it: each resolve either prints a complete,
# digest-checked BTF of one of the bundles or fails with a message; none
# dies by a signal.
replaced_while_read() {
  mk_tmp
  local b="$T/agent.btfpack" i ok=0 failed=0
  cp "$WORK/b1.btfpack" "$b"
  (
    # The writer: rename over, in-place rewrite, in-place truncation.
    for ((i = 0; ; i++)); do
      [[ -e $T/stop ]] && exit 0
      cp "$WORK/b$((i % 2 + 1)).btfpack" "$T/next" && mv -f "$T/next" "$b"
      cp "$WORK/b2.btfpack" "$b"
      truncate -s $((i * 97 % 1100)) "$b"
      cp "$WORK/b1.btfpack" "$T/next" && mv -f "$T/next" "$b"
    done
  ) &
  local writer=$!
  for i in $(seq 60); do
    "$CLI" resolve --bundle "$b" --key "$WORK/k.pub" "${HOST[@]}" \
      --cache-dir "$T/cache" >"$T/out" 2>"$T/err"
    local rc=$?
    if [[ $rc -eq 0 ]]; then
      ok=$((ok + 1))
      check_resolved "$(tail -1 "$T/out")" "resolve #$i"
    elif [[ $rc -ge 128 ]]; then
      fail "resolve #$i died by signal $((rc - 128))"
    else
      failed=$((failed + 1))
      [[ -s $T/err ]] || fail "resolve #$i failed with no message"
      [[ $failed -le 3 ]] && note "failure message: $(head -c 300 "$T/err")"
    fi
  done
  touch "$T/stop" # the writer finishes its step, then stops
  wait "$writer"
  note "60 resolves during replacement: $ok complete and verified," \
    "$failed failed clearly, 0 half files"
}

# Key rotation and revocation by removal: the keys directory trusts the
# old and the new key; a bundle signed by the new key installs over one
# signed by the old; once the old key's file is removed, its bundles are
# refused everywhere (resolve, verify, rollback) and the new one still works.
key_rotation() {
  mk_tmp
  local keys="$T/keys" store="$T/store" err rc
  mkdir "$keys"
  cp "$WORK/k.pub" "$keys/old.pub"
  cp "$WORK/k2.pub" "$keys/new.pub"
  export BTFPACK_KEYS_DIR=$keys
  "$CLI" install "$WORK/b1.btfpack" --store "$store" >/dev/null ||
    fail "install of the old key's bundle"
  "$CLI" install "$WORK/b4.btfpack" --store "$store" >/dev/null ||
    fail "install of the new key's bundle with both keys trusted"
  rm "$keys/old.pub"
  err=$("$CLI" resolve --bundle "$WORK/b1.btfpack" "${HOST[@]}" \
    --cache-dir "$T/cache" 2>&1 >/dev/null)
  rc=$?
  note "resolve of a revoked key's bundle: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "a bundle signed by a removed key still resolves"
  err=$("$CLI" rollback --store "$store" 2>&1 >/dev/null)
  rc=$?
  note "rollback to the revoked key's bundle: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "rollback to a bundle signed by a removed key"
  local p
  p=$(BTFPACK_STORE=$store "$CLI" resolve "${HOST[@]}" \
    --cache-dir "$T/cache" | tail -1) || fail "resolve of the new bundle"
  check_resolved "$p" "after revocation"
  local cur
  cur=$("$CLI" -j list --store "$store" |
    jq -r '.bundles[] | select(.current) | "\(.verified) \(.version)"')
  [[ $cur == "true 4" ]] || fail "current after revocation is '$cur'"
  unset BTFPACK_KEYS_DIR
}

# Resolves from the store while installs swap current back and forth:
# every resolve gets a complete BTF of v1 or v2.
resolve_during_installs() {
  mk_tmp
  local store="$T/store" i ok=0
  "$CLI" install "$WORK/b1.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install v1"
  (
    for ((i = 0; ; i++)); do
      [[ -e $T/stop ]] && exit 0
      "$CLI" install "$WORK/b$((i % 2 + 1)).btfpack" --key "$WORK/k.pub" \
        --store "$store" --allow-downgrade >/dev/null 2>&1
    done
  ) &
  local writer=$!
  for i in $(seq 30); do
    if BTFPACK_STORE=$store "$CLI" resolve --key "$WORK/k.pub" "${HOST[@]}" \
      --cache-dir "$T/cache" >"$T/out" 2>"$T/err"; then
      ok=$((ok + 1))
      check_resolved "$(tail -1 "$T/out")" "resolve #$i during installs"
    else
      fail "resolve #$i during installs: $(cat "$T/err")"
    fi
  done
  touch "$T/stop" # the writer finishes its step, then stops
  wait "$writer"
  current_ok "$store" "$("$CLI" -j list --store "$store" --key "$WORK/k.pub" |
    jq -r '.bundles[] | select(.current) | .manifest_sha256')" \
    "after installs during resolves"
  note "30 resolves while installs swapped current: $ok complete, verified"
}

# no_hang WHAT CMD...: CMD ends within 10 s (no blocking open on a FIFO)
# and its output says what was wrong ("a FIFO, not a regular file" or the
# pattern in $WANT). Sets $out to the output.
WANT="not a regular file"
no_hang() {
  local what=$1
  shift
  out=$(timeout 10 "$@" 2>&1)
  local rc=$?
  if [[ $rc -eq 124 ]]; then
    fail "$what: hung (killed after 10 s)"
    return
  fi
  note "$what: rc=$rc: $(grep -m1 -e "$WANT" <<<"$out" | head -c 240)"
  [[ $out == *"$WANT"* ]] || fail "$what: output does not say '$WANT': $out"
}

# Every path btfpack reads, as a FIFO (and a device node, as root): each
# command ends at once with a message naming the path and its type
# (bug: open() blocked forever on a FIFO before the type was checked).
fifo_inputs() {
  mk_tmp
  local r="$T/root" k=(--key "$WORK/k.pub")
  local ex=(explain --bundle "$WORK/b1.btfpack" "${k[@]}" --kernel-release
    6.1.0-55-amd64 --arch x86_64)
  mkdir -p "$r/etc" "$r/usr/lib" "$r/proc" "$r/sys/kernel/btf"
  mkfifo "$r/etc/os-release"
  no_hang "--host-root etc/os-release FIFO" "$CLI" "${ex[@]}" --host-root "$r"
  rm "$r/etc/os-release"
  mkfifo "$r/usr/lib/os-release"
  no_hang "--host-root usr/lib/os-release FIFO" "$CLI" "${ex[@]}" \
    --host-root "$r"
  rm "$r/usr/lib/os-release"
  cp "$ARCHIVE/../os-release/debian-12" "$r/etc/os-release" 2>/dev/null ||
    printf 'ID=debian\nVERSION_ID="12"\n' >"$r/etc/os-release"
  # A simulated kernel release (--kernel-release) reads neither proc/version
  # nor the native BTF: these checks take the running kernel's facts.
  ex=(explain --bundle "$WORK/b1.btfpack" "${k[@]}")
  mkfifo "$r/proc/version" "$r/sys/kernel/notes" "$r/sys/kernel/btf/vmlinux"
  no_hang "--host-root proc/version, sys/kernel/notes, btf/vmlinux FIFOs" \
    "$CLI" "${ex[@]}" --host-root "$r"
  local n
  n=$(grep -o "[^ ]*/root/[a-z/]* is a FIFO" <<<"$out" | sort -u | wc -l)
  [[ $n -ge 3 ]] || fail "explain names $n of the 3 FIFOs: $out"
  # A directory where the kernel's BTF would be is not native BTF either.
  rm "$r/sys/kernel/btf/vmlinux"
  mkdir "$r/sys/kernel/btf/vmlinux"
  out=$("$CLI" -j "${ex[@]}" --host-root "$r" 2>/dev/null)
  [[ $(jq -r .host.native_btf.value <<<"$out") == no ]] ||
    fail "a directory at sys/kernel/btf/vmlinux counts as native BTF: $out"
  rmdir "$r/sys/kernel/btf/vmlinux"
  printf 'not btf' >"$r/sys/kernel/btf/vmlinux"
  out=$("$CLI" -j "${ex[@]}" --host-root "$r" 2>/dev/null)
  [[ $(jq -r .host.native_btf.value <<<"$out") == no ]] ||
    fail "a file without a BTF header counts as native BTF: $out"
  cp /sys/kernel/btf/vmlinux "$r/sys/kernel/btf/vmlinux" 2>/dev/null &&
    out=$("$CLI" -j "${ex[@]}" --host-root "$r" 2>/dev/null) &&
    { [[ $(jq -r .host.native_btf.value <<<"$out") == yes ]] ||
      fail "a real vmlinux BTF is not native BTF: $out"; }
  if [[ $(id -u) -eq 0 ]]; then
    rm "$r/etc/os-release"
    mknod "$r/etc/os-release" c 1 5 # /dev/zero
    WANT="character device" no_hang "--host-root etc/os-release /dev/zero" \
      "$CLI" "${ex[@]}" --host-root "$r"
    WANT="not a regular file"
  fi
  mkfifo "$T/os-release"
  no_hang "--os-release FIFO (explain)" "$CLI" "${ex[@]}" \
    --os-release "$T/os-release"
  no_hang "--os-release FIFO (resolve)" "$CLI" resolve \
    --bundle "$WORK/b1.btfpack" "${k[@]}" "${HOST[@]::4}" --native-btf no \
    --os-release "$T/os-release" --cache-dir "$T/cache"
  # The untrusted mirror's index.json.
  mkdir -p "$T/mirror"
  cp -r "$ARCHIVE"/. "$T/mirror/"
  rm -f "$T/mirror/index.json"
  mkfifo "$T/mirror/index.json"
  no_hang "index --list with DIR/index.json FIFO" "$CLI" index "$T/mirror" \
    --list
  no_hang "index with DIR/index.json FIFO" "$CLI" index "$T/mirror"
  [[ -f $T/mirror/index.json ]] || fail "index did not replace the FIFO"
  rm -f "$T/mirror/index.json" # index wrote a fresh one over the FIFO
  mkfifo "$T/mirror/index.json"
  no_hang "fetch --from DIR with DIR/index.json FIFO" "$CLI" fetch \
    --from "$T/mirror" --to "$T/fetched"
  # Operator paths: keys, bundles, objects.
  mkfifo "$T/k.pub" "$T/b.btfpack" "$T/o.bpf.o"
  no_hang "verify --key FIFO" "$CLI" verify "$WORK/b1.btfpack" --key "$T/k.pub"
  mkdir "$T/keys"
  cp "$WORK/k.pub" "$T/keys/good.pub"
  mkfifo "$T/keys/fifo.pub"
  no_hang "keys dir with a FIFO *.pub" "$CLI" verify "$WORK/b1.btfpack" \
    --key "$T/keys"
  # resolve takes a keys directory as install, list and verify do.
  rm "$T/keys/fifo.pub"
  "$CLI" resolve --bundle "$WORK/b1.btfpack" --key "$T/keys" "${HOST[@]}" \
    --cache-dir "$T/cache" >/dev/null 2>"$T/err" ||
    fail "resolve --key DIR: $(cat "$T/err")"
  local c
  for c in install verify inspect; do
    no_hang "$c FIFO bundle" "$CLI" "$c" "$T/b.btfpack" "${k[@]}" \
      $([[ $c == install ]] && echo --store "$T/store")
  done
  no_hang "resolve --bundle FIFO" "$CLI" resolve --bundle "$T/b.btfpack" \
    "${k[@]}" "${HOST[@]}" --cache-dir "$T/cache"
  no_hang "resolve --object FIFO" "$CLI" resolve --bundle "$WORK/b1.btfpack" \
    "${k[@]}" "${HOST[@]}" --cache-dir "$T/cache" --object "$T/o.bpf.o"
  no_hang "gen --object FIFO" "$CLI" gen --archive "$ARCHIVE" \
    --cache "$T/gcache" --object "$T/o.bpf.o" --out "$T/out"
  [[ $out != *"no such file"* && $out != *"No such file"* ]] ||
    fail "gen --object FIFO says 'no such file': $out"
}

# A chain of 33 symlinks under --host-root's etc/os-release, ending at an
# absolute path outside the root (a 0600 file): refused with ELOOP, never
# resolved by the kernel out of the root (bug: beyond 32 hops in_root
# treated the link as a plain name).
host_root_link_chain() {
  mk_tmp
  local r="$T/root" i
  mkdir -p "$r/etc" "$r/l"
  printf 'ID=secret\nVERSION_ID="SECRET-OUTSIDE"\n' >"$T/secret"
  chmod 0600 "$T/secret"
  ln -s "$T/secret" "$r/l/32"
  for ((i = 31; i >= 1; i--)); do
    ln -s "/l/$((i + 1))" "$r/l/$i"
  done
  ln -s /l/1 "$r/etc/os-release" # 33 links from etc/os-release on
  out=$(timeout 10 "$CLI" explain --bundle "$WORK/b1.btfpack" \
    --key "$WORK/k.pub" --kernel-release 6.1.0-55-amd64 --arch x86_64 \
    --host-root "$r" 2>&1)
  note "explain with a 33-link chain: $(grep -m1 -i "symbolic links" <<<"$out")"
  [[ $out != *SECRET-OUTSIDE* ]] ||
    fail "explain printed a file from outside the host root: $out"
  [[ $out == *"Too many levels of symbolic links"* ]] ||
    fail "explain does not report ELOOP for the chain: $out"
  # 32 links ending inside the root resolve (to the root's own file).
  printf 'ID=inside\nVERSION_ID="1"\n' >"$r/inside"
  ln -sfn /inside "$r/l/32"
  ln -sfn /l/2 "$r/etc/os-release"
  out=$("$CLI" explain --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
    --kernel-release 6.1.0-55-amd64 --arch x86_64 --host-root "$r" 2>&1)
  [[ $out == *inside* ]] || fail "a 32-link chain inside the root: $out"
  # Terminal control bytes from the image's os-release are escaped.
  rm "$r/etc/os-release"
  printf 'ID=debian\nNAME="evil\033]0;owned\007\033[2J"\nVERSION_ID="12"\n' \
    >"$r/etc/os-release"
  out=$("$CLI" explain --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
    --kernel-release 6.1.0-55-amd64 --arch x86_64 --host-root "$r" 2>&1)
  [[ $out != *$'\033'* && $out != *$'\007'* ]] ||
    fail "explain printed raw ESC/BEL from os-release"
  [[ $out == *'evil\x1b]0;owned\x07\x1b[2J'* ]] ||
    fail "explain does not show the escaped NAME: $out"
}

# Disk full exactly at the rollback-mark write: the tmpfs has room for the
# bundle copy and nothing more. install fails naming highest-version and
# ENOSPC, and the outcome it reports is the true one: v1 stays current and
# the mark stays 1 (bug: v2 became current while the mark kept 1, so a
# later rollback let an older version in).
disk_full_highwater() {
  need_root
  mk_tmp
  mkdir "$T/fs"
  mount -t tmpfs -o size=1m tmpfs "$T/fs" || fail "mount tmpfs"
  local store="$T/fs/store" err rc pages free
  "$CLI" install "$WORK/b1.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install v1 on an empty tmpfs"
  pages=$((($(stat -c %s "$WORK/b2.btfpack") + 4095) / 4096))
  free=$(stat -f -c %a "$T/fs")
  dd if=/dev/zero of="$T/fs/fill" bs=4k count=$((free - pages)) 2>/dev/null
  note "tmpfs: $((free - pages)) pages filled, $pages left for the copy"
  err=$("$CLI" install "$WORK/b2.btfpack" --key "$WORK/k.pub" \
    --store "$store" 2>&1 >/dev/null)
  rc=$?
  note "install with room for the copy only: rc=$rc: $err"
  [[ $rc -ne 0 ]] || fail "install succeeded without room for the mark"
  local nd
  nd=$(name_dir "$store")
  [[ $err == *"$nd/highest-version"* && $err == *"No space left"* ]] ||
    fail "message does not name highest-version and ENOSPC: $err"
  [[ $err == *"nothing changed"* ]] ||
    fail "message does not say that nothing changed: $err"
  current_ok "$store" "$(m 1)" "after ENOSPC at the mark"
  [[ $(cat "$nd/highest-version") == 1 ]] ||
    fail "mark is '$(cat "$nd/highest-version")', want 1"
  rm "$T/fs/fill"
  "$CLI" install "$WORK/b2.btfpack" --key "$WORK/k.pub" --store "$store" \
    >/dev/null || fail "install v2 with room"
  current_ok "$store" "$(m 2)" "v2 with room"
  [[ $(cat "$nd/highest-version") == 2 ]] || fail "mark is not 2 after v2"
}

# A resumed fetch from a server that ignores Range (python3 -m http.server
# answers every request 200 with the whole file): the file is fetched over
# from byte 0 and verifies (bug: libcurl failed the 200 with
# CURLE_RANGE_ERROR before the restart path ran, so the file failed for good).
range_ignored() {
  command -v python3 >/dev/null || skip "python3 not installed"
  mk_tmp
  mkdir "$T/src"
  cp -r "$ARCHIVE"/. "$T/src/"
  "$CLI" index "$T/src" --out "$T/listing.json" >/dev/null ||
    fail "index of the source"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/src" \
    >"$T/http.log" 2>&1 &
  local srv=$! port="" i rel="debian/12/x86_64/6.1.0-55-amd64.btf.tar.xz"
  for i in $(seq 50); do
    port=$(grep -o 'port [0-9]*' "$T/http.log" | head -1 | cut -d' ' -f2)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { kill "$srv"; fail "python3 http.server did not start"; return; }
  # Half of one file already received by an earlier, interrupted run.
  mkdir -p "$T/m/.partial"
  local part="$T/m/.partial/${rel//\//%2F}.part" size
  size=$(stat -c %s "$T/src/$rel")
  head -c $((size / 2)) "$T/src/$rel" >"$part"
  out=$("$CLI" -v fetch --from "http://127.0.0.1:$port" \
    --listing "$T/listing.json" --to "$T/m" --retries 1 2>&1)
  local rc=$?
  kill "$srv" 2>/dev/null
  wait "$srv" 2>/dev/null
  note "fetch resuming from a server that ignores Range: rc=$rc: $(tail -1 <<<"$out")"
  [[ $rc -eq 0 ]] || fail "fetch failed against a server that ignores Range: $out"
  cmp -s "$T/src/$rel" "$T/m/$rel" || fail "$rel differs from the source"
  grep -q '"GET /'"$rel"' HTTP/1.1" 200' "$T/http.log" ||
    fail "the server log shows no 200 for $rel: $(cat "$T/http.log")"
  [[ ! -e $part ]] || fail "partial file left behind: $part"
}

# An archive directory name a bundle cannot hold ("my distro", "débian"):
# the scan skips those kernels with the reason, and gen makes the bundle
# of the others (bug: every kernel was minimized, then the bundle failed
# at the end with `kernel field "my distro" must be ...`, even with
# --allow-failures).
odd_names_gen() {
  mk_tmp
  local a="$T/archive" rel=6.1.0-55-amd64
  cp -r "$ARCHIVE"/. "$a/" 2>/dev/null || { mkdir -p "$a"; cp -r "$ARCHIVE"/. "$a/"; }
  rm -f "$a/index.json"
  mkdir -p "$a/my distro/12/x86_64" "$a/débian/12/x86_64"
  cp "$a/debian/12/x86_64/$rel.btf.tar.xz" "$a/my distro/12/x86_64/"
  cp "$a/debian/12/x86_64/$rel.btf.tar.xz" "$a/débian/12/x86_64/"
  # shellcheck disable=SC2046
  out=$("$CLI" gen --archive "$a" --cache "$WORK/cache" -j 2 \
    $(cat "$WORK/b1.objects") --bundle "$T/b.btfpack" --key "$WORK/k" \
    --bundle-version 9 --report "$T/report.json" 2>&1)
  local rc=$?
  note "gen over an archive with odd names: rc=$rc: $(grep -m1 "my distro" <<<"$out")"
  [[ $rc -eq 0 ]] || fail "gen failed on an archive with odd names: $out"
  verified "$T/b.btfpack" || fail "the bundle does not verify"
  local w
  w=$(jq -r '.warnings[]' "$T/report.json")
  note "report: $(grep -m1 "my distro" <<<"$w")"
  [[ $w == *"my distro"*"a bundle cannot hold"* ]] ||
    fail "the report does not give the skipped 'my distro' and why: $w"
  [[ $w == *"débian"* ]] || fail "the report does not give the skipped 'débian': $w"
  # Only odd names: gen fails, and says why (the scan's reasons), not just
  # "no kernels added".
  mkdir -p "$T/odd"
  mv "$a/my distro" "$T/odd/"
  # shellcheck disable=SC2046
  out=$("$CLI" gen --archive "$T/odd" --cache "$WORK/cache" -j 2 \
    $(cat "$WORK/b1.objects") --bundle "$T/b2.btfpack" --key "$WORK/k" 2>&1)
  rc=$?
  note "gen over only odd names: rc=$rc: $(grep -m1 Error <<<"$out")"
  [[ $rc -ne 0 ]] || fail "gen over only unusable names succeeded"
  [[ $out == *"the scan skipped"*"a bundle cannot hold"* ]] ||
    fail "gen's error does not give the scan's reasons: $out"
}

# A bundle file removed under a link (by hand, a disk fault): list says which
# link dangles and what to do; the next install or rollback repairs it.
dangling_links() {
  mk_tmp
  local store="$T/store" out rc i
  for i in 1 2; do
    "$CLI" install "$WORK/b$i.btfpack" --key "$WORK/k.pub" --store "$store" \
      >/dev/null || { fail "install of bundle $i failed"; return; }
  done
  local nd
  nd=$(name_dir "$store")
  rm -f "$(readlink -f "$store/current")"
  out=$("$CLI" list --store "$store" --key "$WORK/k.pub" 2>&1)
  rc=$?
  note "list with a dangling current: rc=$rc: $(head -1 <<<"$out")"
  [[ $rc -ne 0 ]] || fail "list with a dangling current exits 0: $out"
  [[ $out == *"$nd/current points to bundles/"*"gone"*"btfpack install"* ]] ||
    fail "list does not name the dangling current and the repair: $out"
  out=$("$CLI" install "$WORK/b3.btfpack" --key "$WORK/k.pub" --store "$store" 2>&1)
  rc=$?
  note "install over a dangling current: rc=$rc: $(grep -m1 -i warn <<<"$out")"
  [[ $rc -eq 0 ]] || fail "install over a dangling current failed: $out"
  current_ok "$store" "$(m 3)" "install over a dangling current"
  # Now previous dangles (bundle 1 was current before; make b1 previous).
  "$CLI" install "$WORK/b1.btfpack" --key "$WORK/k.pub" --store "$store" \
    --allow-downgrade >/dev/null 2>&1 || fail "downgrade install of bundle 1 failed"
  rm -f "$(readlink -f "$nd/previous")"
  out=$("$CLI" list --store "$store" --key "$WORK/k.pub" 2>&1)
  rc=$?
  note "list with a dangling previous: rc=$rc: $(head -1 <<<"$out")"
  [[ $rc -ne 0 && $out == *"$nd/previous points to bundles/"*"gone"* ]] ||
    fail "list does not say previous dangles (rc=$rc): $out"
  out=$("$CLI" rollback --store "$store" --key "$WORK/k.pub" 2>&1)
  rc=$?
  note "rollback to a gone previous: rc=$rc: $(tail -1 <<<"$out")"
  [[ $rc -ne 0 && $out == *"previous pointed to bundles/"*"gone"* ]] ||
    fail "rollback to a gone previous does not say why (rc=$rc): $out"
  [[ ! -L $nd/previous ]] || fail "rollback left the dangling previous link"
  "$CLI" list --store "$store" --key "$WORK/k.pub" >/dev/null 2>&1 ||
    fail "list still fails after the repair"
  current_ok "$store" "$(m 1)" "after a rollback to a gone previous"
}

# A cache directory below a directory others may write to: libbpf opens the
# BTF by path name, so every directory up to / must be safe.
cache_parent_writable() {
  mk_tmp
  local out rc
  mkdir -p "$T/a/b"
  chmod 0755 "$T" "$T/a/b"
  chmod 0777 "$T/a"
  out=$("$CLI" resolve --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
    "${HOST[@]}" --cache-dir "$T/a/b/cache" 2>&1)
  rc=$?
  note "cache below a 0777 parent: rc=$rc: $(tail -1 <<<"$out")"
  [[ $rc -ne 0 ]] || fail "resolve accepted a cache below a world-writable parent"
  [[ $out == *"$T/a is writable by group/others and not sticky (mode 0777)"* ]] ||
    fail "the error does not name the unsafe parent: $out"
  [[ ! -e $T/a/b/cache ]] || fail "the cache directory was created anyway"
  # Sticky (as /tmp): accepted, and the BTF is handed out.
  chmod 1777 "$T/a"
  out=$("$CLI" resolve --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
    "${HOST[@]}" --cache-dir "$T/a/b/cache" 2>&1)
  rc=$?
  note "cache below a 1777 parent: rc=$rc"
  [[ $rc -eq 0 ]] || fail "a sticky parent was refused: $out"
  check_resolved "$(tail -1 <<<"$out")" "sticky parent"
  # Group-writable two levels up, reached through a symlink.
  chmod 0755 "$T/a"
  chmod 0775 "$T"
  # The symlink sits in a safe tree; where it leads is checked too.
  local s
  s=$(mktemp -d "${TMPDIR:-/tmp}/btfpack-faults-link.XXXXXX")
  ln -s "$T/a/b" "$s/via"
  out=$("$CLI" resolve --bundle "$WORK/b1.btfpack" --key "$WORK/k.pub" \
    "${HOST[@]}" --cache-dir "$s/via/cache" 2>&1)
  rc=$?
  rm -rf "$s"
  note "cache via a symlink into a 0775 tree: rc=$rc: $(tail -1 <<<"$out")"
  [[ $rc -ne 0 && $out == *"$T is writable by group/others"* ]] ||
    fail "a group-writable ancestor was accepted (rc=$rc): $out"
  chmod 0755 "$T"
}

case $SCENARIO in
setup | disk_full_install | disk_full_gen | kill_gen | concurrent_installs | \
  concurrent_resolves | readonly_store | replaced_while_read | key_rotation | \
  resolve_during_installs | fifo_inputs | host_root_link_chain | \
  disk_full_highwater | range_ignored | odd_names_gen | dangling_links | \
  cache_parent_writable)
  [[ $SCENARIO == setup ]] || [[ -s $WORK/b4.btfpack ]] ||
    { echo "fixture missing: run the setup scenario first" >&2; exit 1; }
  "$SCENARIO"
  ;;
*)
  echo "unknown scenario $SCENARIO" >&2
  exit 2
  ;;
esac
if [[ $failures -ne 0 ]]; then
  echo "$SCENARIO: $failures failure(s)" >&2
  exit 1
fi
echo "$SCENARIO: ok"
