#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
#
# /init of the VM test's initramfs (tests/vm/run-vm-test.sh puts it there).
# Runs each step, prints its output prefixed with "<step>| " and then
# "@@VM@@ <step> rc=<status>" on the serial console; the host
# (check-serial.sh) decides pass or fail from those lines. Ends with
# "@@VM@@ end" and a forced reboot, which makes qemu (-no-reboot) exit.

/bin/busybox --install -s /bin
export PATH=/usr/lib/btfpack-vm:/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tracefs nodev /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
exec </dev/null >/dev/console 2>&1

. /etc/btfpack-vm.conf

# step NAME CMD...: runs CMD, keeps its output in /tmp/NAME.out.
step() {
  name=$1
  shift
  "$@" >/tmp/$name.out 2>&1
  rc=$?
  sed "s/^/$name| /" /tmp/$name.out
  echo "@@VM@@ $name rc=$rc"
  return $rc
}

# last_line FILE: what `btfpack resolve` hands to libbpf.
last_line() { sed -n '$p' "$1"; }

echo "@@VM@@ begin scenario=$SCENARIO"
echo "@@VM@@ uname-r $(uname -r)"
echo "@@VM@@ uname-m $(uname -m)"
if [ -e /sys/kernel/btf/vmlinux ]; then
  echo "@@VM@@ native-btf present"
else
  echo "@@VM@@ native-btf absent"
fi

RB="--bundle $BUNDLE --key $KEY"

if [ "$SCENARIO" = exact ]; then
  step explain btfpack explain $RB
  step explain_json btfpack -j explain $RB
  step resolve btfpack resolve $RB
  BTF=$(last_line /tmp/resolve.out)
  echo "@@VM@@ resolved $BTF"
else
  step resolve btfpack resolve $RB
  step explain btfpack explain $RB
  step resolve_nearest btfpack resolve $RB --allow-nearest
  step resolve_forced btfpack resolve $RB --kernel-release "$WRONG_RELEASE"
  BTF=$(last_line /tmp/resolve_forced.out)
  echo "@@VM@@ forced $BTF"
fi

cat /proc/uptime | sed 's/^/@@VM@@ uptime /'
echo "@@VM@@ end"
sync
reboot -f
