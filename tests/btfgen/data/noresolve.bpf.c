// SPDX-License-Identifier: Dual BSD/GPL
/* Reads only a type no vmlinux BTF has: on every kernel none of its
 * relocations resolve and bpftool writes a BTF without a single type, which
 * gen must report as a failure rather than sign. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct btfpack_test_absent_type {
	int field;
} __attribute__((preserve_access_index));

SEC("tp/syscalls/sys_enter_getppid")
int noresolve(void *ctx)
{
	struct btfpack_test_absent_type *m = (void *)bpf_get_current_task();

	bpf_printk("%d", BPF_CORE_READ(m, field));
	return 0;
}
