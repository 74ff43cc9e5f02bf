/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel compatibility in one place (libbpf-tools' core_fixes.bpf.h): the
 * ___flavor structs name fields that only some kernels have, and the
 * helpers pick the right one with CO-RE existence checks at load time.
 */
#ifndef BTFPACK_CORE_FIXES_BPF_H
#define BTFPACK_CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/* task_struct::state became __state (and unsigned int) in 5.14. */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

struct task_struct___x {
	unsigned int __state;
} __attribute__((preserve_access_index));

/* task_state_field_is_new tells whether the target kernel has __state. */
static __always_inline bool task_state_field_is_new(void)
{
	return bpf_core_field_exists(struct task_struct___x, __state);
}

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___x *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)task, state);
}

/*
 * Before 4.19 a task found its struct pid through task->pids[type].pid
 * (struct pid_link); 4.19 added task->thread_pid and signal->pids[].
 */
struct pid_link___pre419 {
	struct hlist_node node;
	struct pid *pid;
} __attribute__((preserve_access_index));

struct task_struct___pre419 {
	struct pid_link___pre419 pids[3];
} __attribute__((preserve_access_index));

static __always_inline bool kernel_has_pid_link(void)
{
	return bpf_core_type_exists(struct pid_link___pre419);
}

/* task_thread_pid returns the struct pid of the task itself (gettid). */
static __always_inline struct pid *task_thread_pid(struct task_struct *task)
{
	if (kernel_has_pid_link()) {
		struct task_struct___pre419 *t = (void *)task;

		return BPF_CORE_READ(t, pids[0].pid); /* PIDTYPE_PID */
	}
	return BPF_CORE_READ(task, thread_pid);
}

/* task_tgid_pid returns the struct pid of the task's thread group (getpid). */
static __always_inline struct pid *task_tgid_pid(struct task_struct *task)
{
	struct signal_struct *sig;
	struct pid *pid = NULL;
	long idx;

	if (kernel_has_pid_link()) {
		struct task_struct___pre419 *leader = (void *)BPF_CORE_READ(task, group_leader);

		return BPF_CORE_READ(leader, pids[0].pid);
	}
	/* signal->pids[PIDTYPE_TGID]: the index is the target kernel's value. */
	sig = BPF_CORE_READ(task, signal);
	idx = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	bpf_core_read(&pid, sizeof(pid),
		      (void *)sig + bpf_core_field_offset(struct signal_struct, pids) +
			  idx * sizeof(pid));
	return pid;
}

/*
 * pid_nr_at returns pid->numbers[level].nr, the pid number seen from the pid
 * namespace at that level; struct upid's size comes from the target kernel.
 */
static __always_inline __u32 pid_nr_at(struct pid *pid, unsigned int level)
{
	int nr = 0;

	if (!pid)
		return 0;
	bpf_core_read(&nr, sizeof(nr),
		      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
			  level * bpf_core_type_size(struct upid) +
			  bpf_core_field_offset(struct upid, nr));
	return nr;
}

#endif /* BTFPACK_CORE_FIXES_BPF_H */
