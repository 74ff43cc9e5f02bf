// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * parentchain: at each exit of a matching process, read the task's ids and
 * its parent's and grandparent's through pointer chains
 * (task->real_parent->real_parent->tgid), next to the helpers' answers.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "parentchain.h"
#include "comm_filter.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct parentchain_event e = {};
	struct task_struct *task;
	__u64 id;

	bpf_get_current_comm(e.helper_comm, sizeof(e.helper_comm));
	if (!comm_matches(e.helper_comm))
		return 0;

	id = bpf_get_current_pid_tgid();
	e.helper_pid = (__u32)id;
	e.helper_tgid = id >> 32;

	task = (struct task_struct *)bpf_get_current_task();
	e.core_pid = BPF_CORE_READ(task, pid);
	e.core_tgid = BPF_CORE_READ(task, tgid);
	e.core_parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	e.core_grandparent_tgid = BPF_CORE_READ(task, real_parent, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&e.core_comm, task, comm);
	BPF_CORE_READ_STR_INTO(&e.core_parent_comm, task, real_parent, comm);

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
