// SPDX-License-Identifier: Dual BSD/GPL
/* Reads a type no vmlinux BTF has, as a kernel-module type would be: every
 * kernel reports it unresolved and btfgen flags the object. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct btfpack_test_module_type {
	int field;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getppid")
int modtype(void *ctx)
{
	struct btfpack_test_module_type *m = (void *)bpf_get_current_task();
	struct task_struct *t = (void *)bpf_get_current_task();

	bpf_printk("%d %d", BPF_CORE_READ(m, field), BPF_CORE_READ(t, pid));
	return 0;
}
