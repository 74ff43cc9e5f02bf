// SPDX-License-Identifier: Apache-2.0

// Command btfpack-go-agent is a cilium/ebpf loader that runs a CO-RE
// program on a kernel without BTF: it asks `btfpack resolve --json` for
// this host's BTF, loads it with btf.LoadSpec and hands it to the loader
// as ProgramOptions.KernelTypes. It loads bpf/nspid.bpf.o, triggers its
// tracepoint (getppid(2)) from a thread with a unique comm, and checks the
// pid-namespace ids the program computed with CO-RE against the ones the
// kernel's syscalls return. Exit status 0 only when they agree.
//
//	btfpack-go-agent -object nspid.bpf.o [-btfpack btfpack] [-- RESOLVE-ARGS...]
//	btfpack-go-agent -object nspid.bpf.o -btf PATH   (skip btfpack)
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/perf"
	"golang.org/x/sys/unix"
)

// nspidEvent mirrors struct nspid_event (bpf/nspid.h).
type nspidEvent struct {
	HelperPid, HelperTgid          uint32
	NsLevel, NsPid, NsTgid, NsPpid uint32
	UpidSize, PidtypeTgid          uint32
	HasPidLink, HasPidNs           uint32
	HelperComm                     [16]byte
}

// commFilter mirrors struct btfpack_comm_filter (bpf/btfpack_bpf_common.h).
type commFilter struct {
	Prefix [16]byte
	Len    uint32
}

// resolveAnswer is the part of `btfpack -j resolve` this loader reads.
type resolveAnswer struct {
	Path    string `json:"path"`
	Native  bool   `json:"native"`
	Match   string `json:"match"`
	Summary string `json:"summary"`
	Error   string `json:"error"`
}

// resolveBTF asks btfpack for this host's BTF; nil means the kernel's own.
func resolveBTF(btfpack string, args []string) (*btf.Spec, string, error) {
	cmd := exec.Command(btfpack, append([]string{"-j", "resolve"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ans resolveAnswer
	if jerr := json.Unmarshal(out, &ans); jerr != nil {
		return nil, "", fmt.Errorf("%s resolve: %v (%s)", btfpack, err, stderr.String())
	}
	if err != nil || ans.Error != "" {
		return nil, "", fmt.Errorf("%s resolve: %s", btfpack, ans.Error)
	}
	if ans.Native {
		return nil, "native (" + ans.Summary + ")", nil
	}
	spec, err := btf.LoadSpec(ans.Path)
	if err != nil {
		return nil, "", fmt.Errorf("load BTF %s from btfpack: %w", ans.Path, err)
	}
	return spec, ans.Path + " (" + ans.Match + ": " + ans.Summary + ")", nil
}

// attachTracepoint attaches prog to the tracepoint group/name. cilium/ebpf
// 0.9 looks for tracepoints only under /sys/kernel/debug/tracing, which a
// kernel without debugfs lacks; then the event id is read from tracefs at
// /sys/kernel/tracing and the program attached with perf_event_open.
func attachTracepoint(group, name string, prog *ebpf.Program) (io.Closer, error) {
	if _, err := os.Stat("/sys/kernel/debug/tracing/events"); err != nil {
		_ = syscall.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	}
	if _, err := os.Stat("/sys/kernel/debug/tracing/events"); err == nil {
		return link.Tracepoint(group, name, prog, nil)
	}
	const tracefs = "/sys/kernel/tracing"
	if _, err := os.Stat(tracefs + "/events"); err != nil {
		_ = syscall.Mount("tracefs", tracefs, "tracefs", 0, "")
	}
	idText, err := os.ReadFile(fmt.Sprintf("%s/events/%s/%s/id", tracefs, group, name))
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s/%s: %w", group, name, err)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(string(idText)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("tracepoint %s/%s id %q: %w", group, name, idText, err)
	}
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      id,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
	}
	attr.Size = uint32(unsafe.Sizeof(attr))
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("perf_event_open %s/%s: %w", group, name, err)
	}
	f := os.NewFile(uintptr(fd), group+"/"+name)
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
		f.Close()
		return nil, fmt.Errorf("attach to %s/%s: %w", group, name, err)
	}
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("enable %s/%s: %w", group, name, err)
	}
	return f, nil
}

// trigger calls getppid(2) from a thread named comm and returns what
// getpid, gettid and getppid said there.
func trigger(comm string) (pid, tid, ppid int) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // the thread keeps its new comm: never reused
		name := append([]byte(comm), 0)
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_NAME,
			uintptr(unsafe.Pointer(&name[0])), 0)
		pid, tid = syscall.Getpid(), syscall.Gettid()
		ppid = syscall.Getppid() // the tracepoint
		close(done)
	}()
	<-done
	return
}

func run() error {
	object := flag.String("object", "nspid.bpf.o", "the nspid BPF object")
	btfpack := flag.String("btfpack", "btfpack", "the btfpack command")
	btfPath := flag.String("btf", "", "use this BTF file instead of asking btfpack")
	timeout := flag.Duration("timeout", 5*time.Second, "how long to wait for the event")
	flag.Parse()

	var types *btf.Spec
	var from string
	var err error
	if *btfPath != "" {
		types, err = btf.LoadSpec(*btfPath)
		from = *btfPath
	} else {
		types, from, err = resolveBTF(*btfpack, flag.Args())
	}
	if err != nil {
		return err
	}
	fmt.Printf("btf: %s\n", from)

	spec, err := ebpf.LoadCollectionSpec(*object)
	if err != nil {
		return fmt.Errorf("read %s: %w", *object, err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: types},
	})
	if err != nil {
		return fmt.Errorf("load %s: %w", *object, err)
	}
	defer coll.Close()

	comm := fmt.Sprintf("go%09x-x", time.Now().UnixNano()&0xfffffffff)
	var f commFilter
	copy(f.Prefix[:], comm)
	f.Len = uint32(len(comm))
	if err := coll.Maps["comm_filter"].Put(uint32(0), f); err != nil {
		return fmt.Errorf("set comm_filter: %w", err)
	}
	rd, err := perf.NewReader(coll.Maps["events"], os.Getpagesize())
	if err != nil {
		return fmt.Errorf("open perf buffer: %w", err)
	}
	defer rd.Close()
	tp, err := attachTracepoint("syscalls", "sys_enter_getppid",
		coll.Programs["handle_getppid"])
	if err != nil {
		return fmt.Errorf("attach tp/syscalls/sys_enter_getppid: %w", err)
	}
	defer tp.Close()

	pid, tid, ppid := trigger(comm)
	timer := time.AfterFunc(*timeout, func() { rd.Close() })
	defer timer.Stop()
	for {
		rec, err := rd.Read()
		if errors.Is(err, perf.ErrClosed) {
			return fmt.Errorf("no event within %v", *timeout)
		}
		if err != nil {
			return fmt.Errorf("read perf buffer: %w", err)
		}
		if rec.LostSamples > 0 {
			continue
		}
		var e nspidEvent
		if err := binary.Read(bytes.NewReader(rec.RawSample), binary.LittleEndian, &e); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		fmt.Printf("nspid: getpid=%d gettid=%d getppid=%d level=%d upid_size=%d"+
			" (syscalls: %d %d %d)\n", e.NsTgid, e.NsPid, e.NsPpid, e.NsLevel,
			e.UpidSize, pid, tid, ppid)
		if int(e.NsTgid) != pid || int(e.NsPid) != tid || int(e.NsPpid) != ppid {
			return errors.New("the values read through CO-RE differ from the syscalls': wrong BTF")
		}
		fmt.Println("nspid: values correct")
		return nil
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "btfpack-go-agent: %v\n", err)
		os.Exit(1)
	}
}
