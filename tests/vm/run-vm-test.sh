#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Boots a kernel that has no BTF under qemu (software emulation) with an
# initramfs that holds btfpack, the bpf/ loaders, a signed bundle and its
# trusted key, and checks over the serial console that a CO-RE program loads
# with the BTF btfpack chose (scenario "exact"), or that btfpack refuses a
# bundle made only for a different kernel and that forcing that kernel's BTF
# gives wrong values or a failed load (scenario "wrong-kernel").
# docs/vm-test.md explains how to run it against another kernel and its BTF.
#
# --guest-arch aarch64 boots the arm64 fixture (tests/data/kernels/
# nobtf-6.1-arm64) under qemu-system-aarch64 -M virt -cpu cortex-a57 with
# static arm64 binaries, a bundle made for both arches' objects, and checks
# that the other arch's object or entry is refused (docs/vm-test.md, arm64).
#
# Exit status: 0 pass, 1 fail, 77 skipped (qemu or the kernel missing).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)

usage() {
  cat <<USAGE
usage: $0 --btfpack PATH --bpf-dir DIR --work DIR [options]
  --btfpack PATH        the btfpack command to put in the VM
  --bpf-dir DIR         build directory of bpf/: *.bpf.o objects and loaders
  --demo PATH           the bpf/ loader (default: DIR/btfpack-bpf-demo)
  --api-loader PATH     a loader that resolves through the runtime API
                        (repeatable), run in the VM with the installed
                        defaults, as NAME [--object O]
  --tool PATH           a libbpf-tools-style tool using ensure_core_btf
                        (examples/taskstate), run as: taskstate -c sleep -n 3
  --go-agent PATH       examples/go's static cilium/ebpf agent: run in the
                        VM (exact scenario) on nspid.bpf.o with the BTF
                        from btfpack resolve --json; must read correct values
  --work DIR            scratch directory; the serial log is kept there
  --scenario S          exact (default) or wrong-kernel
  --kernel FILE         kernel image (default ../shared/kernels/nobtf-6.1/bzImage)
  --kernel-btf FILE     that kernel's BTF as a btfhub .btf.tar.xz
                        (default ../shared/kernels/nobtf-6.1/6.1.192.btf.tar.xz)
  --distro D --version V --arch A
                        where the kernel is entered in the archive and what
                        the VM's /etc/os-release says (default debian 12 x86_64)
  --release R           the kernel's uname -r (default: the BTF file's name)
  --corpus DIR          a btfhub-layout archive with other real kernels
                        (default ../shared/corpus/archive)
  --other PATH          archive-relative path of another kernel for the
                        bundle (repeatable; defaults below)
  --wrong PATH          archive-relative path of the different kernel the
                        wrong-kernel bundle holds (default
                        debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz)
  --prefer-bundle       for a kernel that has its own BTF: resolve with
                        --prefer-bundle and expect native BTF present
  --timeout SEC         hard limit for one VM run (default 120)
  --compress none|gzip  initramfs compression (default none: with ~50 MB of
                        shared libraries, gzip costs more time on the host
                        and in the emulated guest than it saves)
  --memory MB           VM memory (default 512)
  --guest-arch A        x86_64 (default) or aarch64: the VM's arch; aarch64
                        changes the defaults to the arm64 fixture, the
                        committed tests/data/archive kernels of both arches
                        and qemu-system-aarch64 -M virt -cpu cortex-a57; the
                        binaries given must be arm64 ones (static, or with
                        their libraries under /usr/lib/aarch64-linux-gnu)
  --static-only         the initramfs holds busybox and static programs only:
                        no shared library, no dynamic loader (every program
                        given must be static; the run fails otherwise)
  --gen-btfpack PATH    the btfpack that makes the bundle (gen runs in the
                        build side; default: --btfpack; with --static-only
                        or an aarch64 guest, this machine's dynamic build)
  --busybox PATH        the static busybox for the VM, of the guest's arch
                        (default: \$BTFPACK_VM_BUSYBOX, else found in /bin,
                        /usr/bin, /usr/local/lib/btfpack-vm/busybox-ARCH or
                        apt's cache of busybox-static_*_ARCH.deb)
USAGE
}

SHARED="$SRC/../shared"
BTFPACK="" BPF_DIR="" DEMO="" TOOL="" WORK="" SCENARIO=exact GO_AGENT=""
KERNEL="$SHARED/kernels/nobtf-6.1/bzImage"
KERNEL_BTF="$SHARED/kernels/nobtf-6.1/6.1.192.btf.tar.xz"
DISTRO=debian VERSION=12 ARCH=x86_64 RELEASE=""
CORPUS="$SHARED/corpus/archive"
OTHERS=() API_LOADERS=() PREFER_BUNDLE=0
WRONG=debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz
TIMEOUT=120 MEMORY=512 COMPRESS=none
GUEST_ARCH=x86_64 SET_KERNEL=0 SET_CORPUS=0 SET_WRONG=0 SET_ARCH=0
STATIC_ONLY=0 GEN_BTFPACK="" BUSYBOX_ARG=""

while [ $# -gt 0 ]; do
  case "$1" in
  --btfpack) BTFPACK=$2; shift 2 ;;
  --bpf-dir) BPF_DIR=$2; shift 2 ;;
  --demo) DEMO=$2; shift 2 ;;
  --api-loader) API_LOADERS+=("$2"); shift 2 ;;
  --tool) TOOL=$2; shift 2 ;;
  --go-agent) GO_AGENT=$2; shift 2 ;;
  --prefer-bundle) PREFER_BUNDLE=1; shift ;;
  --work) WORK=$2; shift 2 ;;
  --scenario) SCENARIO=$2; shift 2 ;;
  --kernel) KERNEL=$2; SET_KERNEL=1; shift 2 ;;
  --kernel-btf) KERNEL_BTF=$2; SET_KERNEL=1; shift 2 ;;
  --distro) DISTRO=$2; shift 2 ;;
  --version) VERSION=$2; shift 2 ;;
  --arch) ARCH=$2; SET_ARCH=1; shift 2 ;;
  --release) RELEASE=$2; shift 2 ;;
  --corpus) CORPUS=$2; SET_CORPUS=1; shift 2 ;;
  --other) OTHERS+=("$2"); shift 2 ;;
  --wrong) WRONG=$2; SET_WRONG=1; shift 2 ;;
  --guest-arch) GUEST_ARCH=$2; shift 2 ;;
  --timeout) TIMEOUT=$2; shift 2 ;;
  --memory) MEMORY=$2; shift 2 ;;
  --compress) COMPRESS=$2; shift 2 ;;
  --static-only) STATIC_ONLY=1; shift ;;
  --gen-btfpack) GEN_BTFPACK=$2; shift 2 ;;
  --busybox) BUSYBOX_ARG=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "vm-test: $*"; }

[ -n "$BTFPACK" ] && [ -n "$BPF_DIR" ] && [ -n "$WORK" ] ||
  { usage >&2; exit 2; }
case "$SCENARIO" in exact | wrong-kernel) ;; *) fail "unknown scenario $SCENARIO" ;; esac

# The guest arch: what qemu, the kernel, the busybox and the binaries are.
case "$GUEST_ARCH" in
x86_64 | amd64)
  GUEST_ARCH=x86_64 QEMU_NAME=qemu-system-x86_64 QEMU_PKG=qemu-system-x86
  QEMU_MACHINE=() CONSOLE=ttyS0 FILE_ARCH='x86-64' DEB_ARCH=amd64
  OTHER_BPF_ARCH=arm64 ;;
aarch64 | arm64)
  GUEST_ARCH=aarch64 QEMU_NAME=qemu-system-aarch64 QEMU_PKG=qemu-system-arm
  QEMU_MACHINE=(-M virt -cpu cortex-a57) CONSOLE=ttyAMA0 FILE_ARCH='ARM aarch64'
  DEB_ARCH=arm64 OTHER_BPF_ARCH=x86_64
  FIXTURE="$SRC/tests/data/kernels/nobtf-6.1-arm64"
  if [ $SET_KERNEL = 0 ]; then
    KERNEL="$FIXTURE/Image.gz" KERNEL_BTF="$FIXTURE/6.1.192.btf.tar.xz"
  fi
  [ $SET_ARCH = 1 ] || ARCH=arm64
  [ $SET_CORPUS = 1 ] || CORPUS="$SRC/tests/data/archive"
  [ $SET_WRONG = 1 ] || WRONG=debian/12/arm64/6.1.0-55-arm64.btf.tar.xz
  if [ ${#OTHERS[@]} -eq 0 ]; then
    # One bundle for both arches: the committed kernels of tests/data/archive.
    OTHERS=(
      debian/12/arm64/6.1.0-55-arm64.btf.tar.xz
      debian/12/x86_64/6.1.0-55-amd64.btf.tar.xz
      debian/12/x86_64/6.1.0-55-cloud-amd64.btf.tar.xz
      debian/11/x86_64/5.10.0-32-amd64.btf.tar.xz
    )
  fi ;;
*) fail "unknown --guest-arch $GUEST_ARCH (x86_64 or aarch64)" ;;
esac

# static_for FILE: FILE is a static executable of the guest arch.
static_for() { [ -x "$1" ] && file -L "$1" | grep -q "$FILE_ARCH.*statically linked"; }
# find_busybox: /bin/busybox when it is the guest's arch; else the one
# scripts/install-deps.sh unpacks; else one unpacked from apt's cache
# (busybox-static for amd64 and arm64 cannot both be installed).
find_busybox() {
  local b deb
  for b in /bin/busybox /usr/bin/busybox /usr/local/lib/btfpack-vm/busybox-"$GUEST_ARCH"; do
    if static_for "$b"; then echo "$b"; return; fi
  done
  deb=$(ls /var/cache/apt/archives/busybox-static_*_"$DEB_ARCH".deb 2>/dev/null | tail -1 || true)
  if [ -n "$deb" ] && [ -n "${WORK:-}" ]; then
    b="$WORK.busybox-$GUEST_ARCH"
    rm -rf "$b.d" && mkdir -p "$b.d" && dpkg-deb -x "$deb" "$b.d" 2>/dev/null &&
      cp "$b.d/bin/busybox" "$b" && rm -rf "$b.d"
    if static_for "$b"; then echo "$b"; return; fi
  fi
}

# Preconditions: skip only on these, with the reason.
QEMU=$(command -v "$QEMU_NAME" || true)
[ -n "$QEMU" ] || skip "$QEMU_NAME not found (apt-get install $QEMU_PKG)"
if [ "$GUEST_ARCH" = aarch64 ]; then
  [ -f "$KERNEL" ] || skip "arm64 kernel $KERNEL not found (the fixture: tests/vm/build-arm64-kernel.sh)"
  [ -f "$KERNEL_BTF" ] || skip "arm64 kernel BTF $KERNEL_BTF not found (the fixture: tests/vm/build-arm64-kernel.sh)"
fi
[ -f "$KERNEL" ] || skip "kernel image $KERNEL not found (../shared/kernels absent)"
[ -f "$KERNEL_BTF" ] || skip "kernel BTF $KERNEL_BTF not found (../shared/kernels absent)"
BUSYBOX=""
for b in $BUSYBOX_ARG ${BTFPACK_VM_BUSYBOX:-}; do
  [ -z "$BUSYBOX" ] || break
  if static_for "$b"; then BUSYBOX=$b; fi
done
[ -n "$BUSYBOX" ] || BUSYBOX=$(find_busybox)
[ -n "$BUSYBOX" ] || skip "no static $GUEST_ARCH busybox (apt-get install busybox-static; scripts/install-deps.sh unpacks the other arch's to /usr/local/lib/btfpack-vm)"
[ -n "$GEN_BTFPACK" ] || GEN_BTFPACK=$BTFPACK
[ -x "$BTFPACK" ] || fail "btfpack binary $BTFPACK not found: build it first"
# gen and keygen run here: with an arm64 guest --btfpack is the arm64 one.
[ -x "$GEN_BTFPACK" ] || fail "btfpack binary $GEN_BTFPACK not found: build it first"
if [ -z "$RELEASE" ]; then
  RELEASE=$(basename "$KERNEL_BTF")
  RELEASE=${RELEASE%.btf.tar.xz}
fi

if [ ${#OTHERS[@]} -eq 0 ]; then
  # A few real kernels around the one under test: the same distro's other
  # 6.1 and 6.12 kernels, an older Debian and another distro.
  OTHERS=(
    debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz
    debian/12/x86_64/6.1.0-56-cloud-amd64.btf.tar.xz
    debian/12/x86_64/6.12.115+deb12-amd64.btf.tar.xz
    debian/11/x86_64/5.10.0-32-amd64.btf.tar.xz
    ubuntu/20.04/x86_64/5.4.0-1067-gke.btf.tar.xz
  )
fi
for o in "${OTHERS[@]}" "$WRONG"; do
  [ -f "$CORPUS/$o" ] || skip "corpus kernel $CORPUS/$o not found (../shared/corpus absent)"
done

BPF_OBJS=() GUEST_OBJS=() FOREIGN_OBJS=()
while IFS= read -r -d '' f; do BPF_OBJS+=("$f"); done < <(
  find "$BPF_DIR" -maxdepth 1 -name '*.bpf.o' -print0 | sort -z)
[ ${#BPF_OBJS[@]} -gt 0 ] || fail "no *.bpf.o in $BPF_DIR: build bpf/ first"
if [ "$GUEST_ARCH" = aarch64 ]; then
  # gen gets both arches' objects (bpf/ builds x86_64 in DIR, arm64 in
  # DIR/arm64); the VM gets the arm64 ones, and an x86_64 one to be refused.
  FOREIGN_OBJS=("${BPF_OBJS[@]}")
  BPF_OBJS=()
  while IFS= read -r -d '' f; do GUEST_OBJS+=("$f"); done < <(
    find "$BPF_DIR/arm64" -maxdepth 1 -name '*.bpf.o' -print0 2>/dev/null | sort -z)
  [ ${#GUEST_OBJS[@]} -gt 0 ] || fail "no arm64 objects in $BPF_DIR/arm64: build bpf/ first"
  BPF_OBJS=("${FOREIGN_OBJS[@]}" "${GUEST_OBJS[@]}")
else
  GUEST_OBJS=("${BPF_OBJS[@]}")
fi
[ -n "$DEMO" ] || DEMO="$BPF_DIR/btfpack-bpf-demo"
[ -x "$DEMO" ] || fail "loader $DEMO not found: build bpf/ first"
for l in "${API_LOADERS[@]}" $TOOL $GO_AGENT; do
  [ -x "$l" ] || fail "loader $l not found: build it first"
done

# The work directory is cleared on each run: only ever one of ours.
if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK")" ] && [ ! -f "$WORK/.vm-test" ]; then
  fail "refusing to clear $WORK: not a vm-test work directory (no .vm-test)"
fi
rm -rf "$WORK"
mkdir -p "$WORK"
touch "$WORK/.vm-test"
WORK=$(cd "$WORK" && pwd)
LOG="$WORK/serial.log"
T0=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $T0" | awk '{printf "%.1f", $1 - $2}'; }

# 1. The archive: this kernel entered under the VM's os-release facts, plus
#    other real kernels; or, for the wrong-kernel twin, only a different one.
ARCHIVE="$WORK/archive"
add_to_archive() { # SRC REL
  mkdir -p "$ARCHIVE/$(dirname "$2")"
  cp "$1" "$ARCHIVE/$2"
}
ENTRY="$DISTRO/$VERSION/$ARCH/$RELEASE.btf.tar.xz"
if [ "$SCENARIO" = exact ]; then
  add_to_archive "$KERNEL_BTF" "$ENTRY"
  for o in "${OTHERS[@]}"; do add_to_archive "$CORPUS/$o" "$o"; done
else
  add_to_archive "$CORPUS/$WRONG" "$WRONG"
fi
WRONG_RELEASE=$(basename "$WRONG")
WRONG_RELEASE=${WRONG_RELEASE%.btf.tar.xz}

# 2. A throwaway key and a signed bundle generated by btfpack.
"$GEN_BTFPACK" keygen --out "$WORK/key" >"$WORK/keygen.log" 2>&1 ||
  fail "btfpack keygen failed: $(cat "$WORK/keygen.log")"
gen=("$GEN_BTFPACK" gen --archive "$ARCHIVE" --cache "$WORK/gen-cache"
  --bundle "$WORK/bundle" --key "$WORK/key")
for o in "${BPF_OBJS[@]}"; do gen+=(--object "$o"); done
"${gen[@]}" --report "$WORK/gen-report.json" >"$WORK/gen.log" 2>&1 ||
  fail "btfpack gen failed: $(tail -20 "$WORK/gen.log")"
note "bundle $(stat -c %s "$WORK/bundle") bytes from $(find "$ARCHIVE" -name '*.btf.tar.xz' | wc -l) kernels, ${#BPF_OBJS[@]} objects ($(elapsed) s)"

# 3. The initramfs: static busybox, /init, the binaries with their shared
#    libraries (found by walking ldd), os-release, bundle and trusted key.
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib64,etc/btfpack/keys,proc,sys,dev,tmp,run,root}
mkdir -p "$ROOT"/usr/lib/btfpack-vm "$ROOT"/var/lib/btfpack/bundles "$ROOT"/var/cache
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$HERE/vm-init.sh" "$ROOT/init"
chmod 0755 "$ROOT/init"

# copy_foreign_libs BINARY: a dynamic binary of another arch (ldd cannot
# run it): its DT_NEEDED libraries, recursively, from the multiarch dirs.
copy_foreign_libs() {
  local lib dir found
  local interp
  interp=$(readelf -l "$1" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)]/\1/p')
  if [ -n "$interp" ] && [ ! -e "$ROOT$interp" ]; then
    mkdir -p "$ROOT$(dirname "$interp")"
    cp -L "$interp" "$ROOT$interp"
  fi
  for lib in $(readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    found=""
    for dir in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
      [ -e "$dir/$lib" ] && { found="$dir/$lib"; break; }
    done
    [ -n "$found" ] || fail "library $lib of $1 not found in the aarch64 multiarch dirs"
    [ -e "$ROOT$found" ] && continue
    mkdir -p "$ROOT$(dirname "$found")"
    cp -L "$found" "$ROOT$found"
    copy_foreign_libs "$found"
  done
}
copy_libs() { # BINARY
  local lib
  if [ "$GUEST_ARCH" != x86_64 ]; then
    copy_foreign_libs "$1"
    return
  fi
  # "libx.so => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  for lib in $(ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}'); do
    [ -e "$ROOT$lib" ] && continue
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
  done
}
STRIP=strip
[ "$GUEST_ARCH" = x86_64 ] || STRIP=aarch64-linux-gnu-strip
is_static() { # ELF with neither PT_INTERP nor a dynamic section
  ! readelf -lW "$1" 2>/dev/null | grep -q INTERP &&
    readelf -dW "$1" 2>/dev/null | grep -q 'There is no dynamic section'
}
add_binary() { # SRC DEST
  if [ $STATIC_ONLY = 1 ]; then
    is_static "$1" || fail "--static-only: $1 is not a static program ($(file -b "$1"))"
  fi
  mkdir -p "$ROOT$(dirname "$2")"
  file -L "$1" | grep -q "$FILE_ARCH" ||
    fail "$1 is not a $GUEST_ARCH executable ($(file -L -b "$1" | cut -c1-60)): give the $GUEST_ARCH build"
  "$STRIP" --strip-unneeded -o "$ROOT$2" "$1" 2>/dev/null || cp "$1" "$ROOT$2"
  chmod 0755 "$ROOT$2"
  copy_libs "$1"
}
add_binary "$BTFPACK" /usr/bin/btfpack
add_binary "$DEMO" /usr/lib/btfpack-vm/btfpack-bpf-demo
api_names=""
for l in "${API_LOADERS[@]}"; do
  add_binary "$l" "/usr/lib/btfpack-vm/$(basename "$l")"
  api_names="$api_names $(basename "$l")"
done
[ -z "$TOOL" ] || add_binary "$TOOL" /usr/lib/btfpack-vm/btfpack-vm-tool
# static: no libraries to copy
[ -z "$GO_AGENT" ] || install -m 0755 "$GO_AGENT" "$ROOT/usr/lib/btfpack-vm/btfpack-go-agent"
for o in "${GUEST_OBJS[@]}"; do cp "$o" "$ROOT/usr/lib/btfpack-vm/"; done
# Arch confusion (two-arch bundles): the other arch's build of an object,
# and an entry of the other arch, both in the bundle, must be refused.
CONFUSION_OBJECT="" CONFUSION_ENTRY=""
if [ ${#FOREIGN_OBJS[@]} -gt 0 ] && [ "$SCENARIO" = exact ]; then
  mkdir -p "$ROOT/usr/lib/btfpack-vm/$OTHER_BPF_ARCH"
  cp "${FOREIGN_OBJS[0]}" "$ROOT/usr/lib/btfpack-vm/$OTHER_BPF_ARCH/"
  CONFUSION_OBJECT=/usr/lib/btfpack-vm/$OTHER_BPF_ARCH/$(basename "${FOREIGN_OBJS[0]}")
  for o in "${OTHERS[@]}"; do
    case "$o" in */"$OTHER_BPF_ARCH"/*)
      CONFUSION_ENTRY="$(basename "${o%.btf.tar.xz}") $(echo "$o" | cut -d/ -f3)"
      break ;;
    esac
  done
fi
# The installed layout (runtime/include/btfpack/paths.h): the C API's
# defaults find the bundle and key with no options.
cp "$WORK/bundle" "$ROOT/var/lib/btfpack/bundles/test.btfpack"
ln -s bundles/test.btfpack "$ROOT/var/lib/btfpack/current"
cp "$WORK/key.pub" "$ROOT/etc/btfpack/keys/test.pub"
printf 'ID=%s\nVERSION_ID="%s"\nNAME="btfpack vm test"\n' "$DISTRO" "$VERSION" \
  >"$ROOT/etc/os-release"
cat >"$ROOT/etc/btfpack-vm.conf" <<CONF
SCENARIO=$SCENARIO
EXPECT_RELEASE=$RELEASE
WRONG_RELEASE=$WRONG_RELEASE
BUNDLE=/var/lib/btfpack/bundles/test.btfpack
KEY=/etc/btfpack/keys/test.pub
RESOLVE_OPTS="$([ $PREFER_BUNDLE = 1 ] && echo --prefer-bundle)"
EVENT_TIMEOUT_MS=30000
API_LOADERS="${api_names# }"
TOOL=$([ -n "$TOOL" ] && echo btfpack-vm-tool)
API_LOADER_OBJECT=/usr/lib/btfpack-vm/$(basename "${GUEST_OBJS[0]}")
CONFUSION_OBJECT=$CONFUSION_OBJECT
CONFUSION_ENTRY="$CONFUSION_ENTRY"
GO_AGENT=$([ -n "$GO_AGENT" ] && echo btfpack-go-agent)
CONF
CPIO=(cpio -o -H newc -R 0:0 --quiet)
command -v cpio >/dev/null || CPIO=("$BUSYBOX" cpio -o -H newc -R 0:0)
case "$COMPRESS" in
none) INITRD="$WORK/initramfs.cpio" ZIP=(cat) ;;
gzip) INITRD="$WORK/initramfs.cpio.gz" ZIP=(gzip -1) ;;
*) fail "unknown --compress $COMPRESS (none or gzip)" ;;
esac
if [ $STATIC_ONLY = 1 ]; then
  # Nothing dynamic may have slipped in: no shared object, no loader.
  libs=$(find "$ROOT" \( -name '*.so' -o -name '*.so.*' -o -name 'ld-linux*' \) -print)
  [ -z "$libs" ] || fail "--static-only: the initramfs holds $libs"
  while IFS= read -r -d '' f; do
    if head -c 4 "$f" | grep -q 'ELF' && ! is_static "$f"; then
      fail "--static-only: $f in the initramfs is not static"
    fi
  done < <(find "$ROOT" -type f -print0)
  note "static-only initramfs: busybox + $(find "$ROOT" -type f -perm -u+x | wc -l) programs, no shared library"
fi
(cd "$ROOT" && find . | LC_ALL=C sort | "${CPIO[@]}") | "${ZIP[@]}" >"$INITRD"
note "initramfs $(stat -c %s "$INITRD") bytes ($(elapsed) s)"

# 4. Boot. qemu exits when /init reboots (-no-reboot) or the kernel panics
#    (panic=-1); the timeout catches a hang.
boot_start=$(date +%s.%N)
set +e
timeout -k 5 "$TIMEOUT" "$QEMU" "${QEMU_MACHINE[@]}" -accel tcg -m "$MEMORY" -kernel "$KERNEL" \
  -initrd "$INITRD" -append "console=$CONSOLE panic=-1 loglevel=4" \
  -display none -monitor none -serial "file:$LOG" -no-reboot </dev/null \
  >"$WORK/qemu.log" 2>&1
qrc=$?
set -e
boot_secs=$(echo "$(date +%s.%N) $boot_start" | awk '{printf "%.1f", $1 - $2}')
note "serial log: $LOG"
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
  tail -30 "$LOG" >&2 || true
  fail "the VM did not finish within ${TIMEOUT}s (hung?); serial log: $LOG"
fi
[ $qrc -eq 0 ] || fail "qemu exited with $qrc: $(cat "$WORK/qemu.log"); serial log: $LOG"
note "VM ran ${boot_secs}s"

# 5. Check what the VM reported.
exec "$HERE/check-serial.sh" --scenario "$SCENARIO" --log "$LOG" \
  --release "$RELEASE" --wrong-release "$WRONG_RELEASE" \
  --wrong-same-folder "$([ "$(dirname "$WRONG")" = "$DISTRO/$VERSION/$ARCH" ] && echo 1 || echo 0)" \
  --native "$([ $PREFER_BUNDLE = 1 ] && echo present || echo absent)" \
  --api-loaders "${api_names# }" --tool "$([ -n "$TOOL" ] && echo 1 || echo 0)" \
  --arch "$ARCH" --objects-sha256 "$(sha256sum "${GUEST_OBJS[@]}" | cut -d' ' -f1 | tr '\n' ' ')" \
  --confusion "$([ -n "$CONFUSION_OBJECT" ] && echo 1 || echo 0)" \
  --go-agent "$([ -n "$GO_AGENT" ] && [ "$SCENARIO" = exact ] && echo 1 || echo 0)"
