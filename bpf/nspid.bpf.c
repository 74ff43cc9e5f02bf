// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nspid: when a matching task calls getppid(2), compute what getpid(),
 * gettid() and getppid() return inside its pid namespace, walking
 * struct pid with the target kernel's struct upid size and PIDTYPE_TGID
 * value; the helpers only give global ids.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "nspid.h"
#include "comm_filter.bpf.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tp/syscalls/sys_enter_getppid")
int handle_getppid(void *ctx)
{
	struct nspid_event e = {};
	struct task_struct *task;
	struct pid *pid;
	unsigned int level;
	__u64 id;

	bpf_get_current_comm(e.helper_comm, sizeof(e.helper_comm));
	if (!comm_matches(e.helper_comm))
		return 0;

	id = bpf_get_current_pid_tgid();
	e.helper_pid = (__u32)id;
	e.helper_tgid = id >> 32;

	task = (struct task_struct *)bpf_get_current_task();
	pid = task_thread_pid(task);
	level = BPF_CORE_READ(pid, level);
	e.ns_level = level;
	e.ns_pid = pid_nr_at(pid, level);
	e.ns_tgid = pid_nr_at(task_tgid_pid(task), level);
	e.ns_ppid = pid_nr_at(task_tgid_pid(BPF_CORE_READ(task, real_parent)), level);
	e.upid_size = bpf_core_type_size(struct upid);
	e.pidtype_tgid = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	e.has_pid_link = kernel_has_pid_link();
	e.has_pid_ns = bpf_core_type_exists(struct pid_namespace);

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
