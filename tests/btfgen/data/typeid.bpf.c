// SPDX-License-Identifier: Dual BSD/GPL
/* Uses bpf_core_type_id_kernel() (a TYPE_ID_TARGET relocation), which does
 * not survive minimization: btfgen must flag it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp/syscalls/sys_enter_getppid")
int typeid(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 id = bpf_core_type_id_kernel(struct task_struct);

	bpf_printk("%llu %d", id, BPF_CORE_READ(t, pid));
	return 0;
}
