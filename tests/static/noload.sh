#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# noload.sh STATIC_BTFPACK FIXTURE_DIR [DYNAMIC_BTFPACK]: the static btfpack
# loads nothing at
# run time. Every host command runs under `strace -f -e
# trace=open,openat,execve`; none may open a shared object, the dynamic
# loader's cache, OpenSSL's configuration or modules, NSS configuration or
# databases, gconv or locale files, nor exec anything. The dynamic build,
# when given, is the control: the same check must catch its shared objects.
set -euo pipefail
BTFPACK=$1 FIX=$2 DYN=${3:-}
command -v strace >/dev/null || { echo "SKIP: strace not installed (apt-get install strace)"; exit 77; }
T=$(mktemp -d) && trap 'rm -rf "$T"' EXIT
bad='\.so(\.[0-9]+)*"|ld\.so\.|openssl\.cnf|/ossl-modules|/engines-|nsswitch\.conf|/etc/(passwd|group|hosts|resolv\.conf|services|host\.conf|gai\.conf)|gconv|/locale'
rc=0
run() {
  local st=0 n
  strace -f -qq -o "$T/trace" -e trace=open,openat,execve "$BTFPACK" "$@" >"$T/out" 2>&1 || st=$?
  if [ $st -ne 0 ]; then echo "FAIL btfpack $*: exit $st: $(head -c 400 "$T/out")"; rc=1; fi
  n=$(grep -c 'execve(' "$T/trace" || true)
  if grep -E "$bad" "$T/trace"; then echo "FAIL btfpack $*: opened the files above"; rc=1; fi
  if [ "$n" -ne 1 ]; then echo "FAIL btfpack $*: $n execve calls"; grep execve "$T/trace"; rc=1; fi
  echo "ok btfpack $* ($(grep -cE 'open(at)?\(' "$T/trace") opens)"
}
K=(--key "$FIX/key.pub")
H=(--kernel-release 6.1.0-55-amd64 --arch x86_64 --os-id debian --os-version-id 12 --native-btf no --cache-dir "$T/cache")
run --version
run -j verify "$FIX/bundle" "${K[@]}"
run -j inspect "$FIX/bundle"
run -j resolve --bundle "$FIX/bundle" "${K[@]}" "${H[@]}"
run -j explain --bundle "$FIX/bundle" "${K[@]}" "${H[@]}"
run -j install "$FIX/bundle" "${K[@]}" --store "$T/store"
run -j list --store "$T/store"
BTFPACK_STORE=$T/store run -j resolve "${K[@]}" "${H[@]}"
run -j keygen --out "$T/k2"
if [ -n "$DYN" ]; then
  strace -f -qq -o "$T/trace" -e trace=open,openat,execve "$DYN" --version >/dev/null 2>&1 || true
  if grep -Eq "$bad" "$T/trace"; then
    echo "ok control: the same check flags the dynamic build ($(grep -Ec "$bad" "$T/trace") opens)"
  else
    echo "FAIL control: the check did not see the dynamic build's shared objects"; rc=1
  fi
fi
exit $rc
