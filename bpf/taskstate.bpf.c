// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * taskstate: when a matching task is switched out, read its scheduler state
 * through whichever of task_struct::__state / ::state the kernel has, and
 * the sched_reset_on_fork bitfield, next to the tracepoint's own arguments.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "taskstate.h"
#include "comm_filter.bpf.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tp/sched/sched_switch")
int handle_switch(struct trace_event_raw_sched_switch *ctx)
{
	struct taskstate_event e = {};
	struct task_struct *task;
	__u64 id;

	/* The tracepoint runs in the context of prev, the task switched out. */
	bpf_get_current_comm(e.helper_comm, sizeof(e.helper_comm));
	if (!comm_matches(e.helper_comm))
		return 0;

	id = bpf_get_current_pid_tgid();
	e.helper_pid = (__u32)id;
	e.helper_tgid = id >> 32;
	e.tp_prev_pid = ctx->prev_pid;
	e.tp_prev_state = ctx->prev_state;

	task = (struct task_struct *)bpf_get_current_task();
	e.core_pid = BPF_CORE_READ(task, pid);
	e.core_state = get_task_state(task);
	e.core_state_is_new = task_state_field_is_new();
	e.core_reset_on_fork = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
