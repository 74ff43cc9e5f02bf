#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# packages.sh STATIC_DIR ARCH OUT VERSION: the host-only packages of a static
# sub-build (packaging/HostPackage.cmake), made with its cpack: .deb, .rpm
# and the offline .tar.gz. They carry the static btfpack and no build side,
# and require nothing CentOS 7 (rpm 4.11), Amazon Linux 2 or Ubuntu 18.04
# (dpkg 1.19) lacks: no Depends at all, and in the .rpm no requirement but
# rpmlib features rpm 4.11 has (a gzip payload: not rpmlib(PayloadIsZstd)).
set -euo pipefail
DIR=$1 ARCH=$2 OUT=$3 VER=$4
case $ARCH in x86_64) deb_arch=amd64 want="x86-64" ;; aarch64) deb_arch=arm64 want="ARM aarch64" ;; esac
rm -rf "$OUT" && mkdir -p "$OUT"
(cd "$DIR" && cpack -B "$OUT" >"$OUT/cpack.log" 2>&1) || { cat "$OUT/cpack.log"; exit 1; }
rc=0
fail() { echo "FAIL $*"; rc=1; }
deb=$OUT/btfpack-host_${VER}_${deb_arch}.deb
rpm=$OUT/btfpack-host-${VER}-1.${ARCH}.rpm
tgz=$OUT/btfpack-host-${VER}-Linux-${ARCH}.tar.gz
for f in "$deb" "$rpm" "$tgz"; do [ -f "$f" ] || fail "missing $f (have: $(ls "$OUT"))"; done
[ $rc -eq 0 ] || exit 1

# .deb
[ "$(dpkg-deb -f "$deb" Package)" = btfpack-host ] || fail "deb: Package"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$deb_arch" ] || fail "deb: Architecture $(dpkg-deb -f "$deb" Architecture)"
dep=$(dpkg-deb -f "$deb" Depends Pre-Depends)
[ -z "$dep" ] || fail "deb: has dependencies: $dep"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
grep -qx './usr/bin/btfpack' <<<"$files" || fail "deb: no /usr/bin/btfpack"
grep -Eq 'libexec|btfpack-build|\.so' <<<"$files" && fail "deb: holds the build side or a library: $(grep -E 'libexec|btfpack-build|\.so' <<<"$files")"
grep -q '^\./usr/local' <<<"$files" && fail "deb: ships /usr/local"
for d in ./etc/btfpack/keys/ ./var/lib/btfpack/bundles/ ./var/cache/btfpack/; do
  grep -qx "$d" <<<"$files" || fail "deb: no $d"
done
mkdir "$OUT/x" && dpkg-deb -x "$deb" "$OUT/x"
desc=$(file -b "$OUT/x/usr/bin/btfpack")
grep -q "$want" <<<"$desc" && grep -q "statically linked" <<<"$desc" ||
  fail "deb: usr/bin/btfpack is not a static $ARCH program: $desc"
echo "ok deb $(basename "$deb"): Depends '${dep}', $(wc -l <<<"$files") entries, btfpack $(stat -c %s "$OUT/x/usr/bin/btfpack") bytes"

# .rpm
req=$(rpm -qpR "$rpm" 2>/dev/null | sort -u)
allowed='^rpmlib\((CompressedFileNames|FileDigests|PayloadFilesHavePrefix)\) <= '
bad=$(grep -Ev "$allowed" <<<"$req" || true)
[ -z "$bad" ] || fail "rpm: requirements CentOS 7's rpm 4.11 cannot meet or that are not ours: $bad"
info=$(rpm -qp --qf '%{NAME} %{ARCH} %{PAYLOADCOMPRESSOR}' "$rpm" 2>/dev/null)
[ "$info" = "btfpack-host $ARCH gzip" ] || fail "rpm: name/arch/payload '$info'"
rdesc=$(rpm -qp --qf '%{DESCRIPTION}' "$rpm" 2>/dev/null)
grep -q "static executable" <<<"$rdesc" || fail "rpm: description is not ours: $rdesc"
rfiles=$(rpm -qlp "$rpm" 2>/dev/null)
grep -qx /usr/bin/btfpack <<<"$rfiles" || fail "rpm: no /usr/bin/btfpack"
grep -Eq 'libexec|\.so' <<<"$rfiles" && fail "rpm: holds the build side or a library"
echo "ok rpm $(basename "$rpm"): $info, requires: $(tr '\n' ' ' <<<"$req")"

# offline kit
tfiles=$(tar -tzf "$tgz")
grep -Eqx '(\./)?usr/bin/btfpack' <<<"$tfiles" || fail "tgz: no usr/bin/btfpack: $tfiles"
grep -Eq '(\./)?etc/btfpack/keys/?$' <<<"$tfiles" || fail "tgz: no etc/btfpack/keys"
echo "ok tgz $(basename "$tgz"): $(wc -l <<<"$tfiles") entries"
exit $rc
