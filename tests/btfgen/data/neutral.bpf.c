// SPDX-License-Identifier: Dual BSD/GPL
/* CO-RE through a local flavour type only: its BTF names no pt_regs, so
 * nothing in the object tells which __TARGET_ARCH it was built for. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct task_struct___mini {
	int pid;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getppid")
int neutral(void *ctx)
{
	struct task_struct___mini *t = (void *)bpf_get_current_task();

	bpf_printk("%d", BPF_CORE_READ(t, pid));
	return 0;
}
