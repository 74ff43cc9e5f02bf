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
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/perf"
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

// ensureTracing makes /sys/kernel/debug/tracing usable: cilium/ebpf 0.9
// finds tracepoint ids there.
func ensureTracing() {
	const dir = "/sys/kernel/debug/tracing"
	if _, err := os.Stat(dir + "/events"); err == nil {
		return
	}
	_ = syscall.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, "")
	if _, err := os.Stat(dir + "/events"); err == nil {
		return
	}
	_ = syscall.Mount("tracefs", dir, "tracefs", 0, "")
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
	ensureTracing()
	tp, err := link.Tracepoint("syscalls", "sys_enter_getppid",
		coll.Programs["handle_getppid"], nil)
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
