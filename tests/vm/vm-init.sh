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
  t0=$(cut -d' ' -f1 /proc/uptime)
  "$@" >/tmp/$name.out 2>&1
  rc=$?
  t1=$(cut -d' ' -f1 /proc/uptime)
  sed "s/^/$name| /" /tmp/$name.out
  echo "@@VM@@ $name rc=$rc t=$t0..$t1"
  return $rc
}

# tool_run: the libbpf-tools-style tool (examples/taskstate) reports the
# scheduler state of `sleep` processes that a loop keeps starting.
tool_run() {
  (i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done) &
  loop=$!
  $TOOL -c sleep -n 3 -t 30
  rc=$?
  kill $loop 2>/dev/null
  wait $loop 2>/dev/null
  return $rc
}

# resolved STEP: the last line `btfpack resolve` printed (what libbpf gets).
resolved() { sed -n '$p' /tmp/$1.out; }

echo "@@VM@@ begin scenario=$SCENARIO"
echo "@@VM@@ uname-r $(uname -r)"
echo "@@VM@@ uname-m $(uname -m)"
if [ -e /sys/kernel/btf/vmlinux ]; then
  echo "@@VM@@ native-btf present"
else
  echo "@@VM@@ native-btf absent"
fi
echo "@@VM@@ uptime $(cut -d' ' -f1 /proc/uptime)"

RB="--bundle $BUNDLE --key $KEY $RESOLVE_OPTS"
DEMO="btfpack-bpf-demo all --timeout-ms $EVENT_TIMEOUT_MS"

if [ "$SCENARIO" = exact ]; then
  # Without a BTF libbpf looks for the kernel's own: there is none.
  step demo_native $DEMO
  # explain with the installed defaults (/var/lib/btfpack/current and
  # /etc/btfpack/keys), resolve with the bundle and key named.
  step explain btfpack explain $RESOLVE_OPTS
  step explain_json btfpack -j explain $RB
  step resolve btfpack resolve $RB
  btf=$(resolved resolve)
  echo "@@VM@@ resolved $btf"
  step demo_resolved $DEMO --btf "$btf"
  # Loaders that resolve in-process through the runtime's C API with the
  # installed defaults (the libbpf-tools way), checking the bundle was
  # made for the object they load.
  for l in $API_LOADERS; do
    step "api_$l" "$l" --object "$API_LOADER_OBJECT" $RESOLVE_OPTS
  done
  [ -z "$TOOL" ] || step tool tool_run
  # Arch confusion: the other arch's build of an object the bundle was made
  # for, and an entry of the other arch, must be refused before any load.
  if [ -n "$CONFUSION_OBJECT" ]; then
    for l in $API_LOADERS; do
      step "confusion_api_$l" "$l" --object "$CONFUSION_OBJECT" $RESOLVE_OPTS
    done
    step confusion_object btfpack resolve $RB --object "$CONFUSION_OBJECT"
    set -- $CONFUSION_ENTRY
    step confusion_entry btfpack resolve $RB --kernel-release "$1" \
      --arch "$2" --object "$API_LOADER_OBJECT"
  fi
  # examples/go: cilium/ebpf with btf.LoadSpec of what btfpack resolved.
  [ -z "$GO_AGENT" ] || step go_agent $GO_AGENT \
    -object /usr/lib/btfpack-vm/nspid.bpf.o -btfpack btfpack -- $RB
else
  step resolve btfpack resolve $RB
  step explain btfpack explain $RB
  # --allow-nearest may refuse too (neighbours that disagree); if it picks
  # the other kernel, its values must come out wrong.
  if step resolve_nearest btfpack resolve $RB --allow-nearest; then
    btf=$(resolved resolve_nearest)
    echo "@@VM@@ nearest $btf"
    step demo_nearest $DEMO --btf "$btf"
  fi
  # Forcing the other kernel's BTF: what an unchecked nearest match does.
  for l in $API_LOADERS; do
    step "api_$l" "$l" $RESOLVE_OPTS
  done
  [ -z "$TOOL" ] || step tool tool_run
  step resolve_forced btfpack resolve $RB --kernel-release "$WRONG_RELEASE"
  btf=$(resolved resolve_forced)
  echo "@@VM@@ forced $btf"
  step demo_forced $DEMO --btf "$btf"
fi

echo "@@VM@@ uptime $(cut -d' ' -f1 /proc/uptime)"
echo "@@VM@@ end"
sync
reboot -f
