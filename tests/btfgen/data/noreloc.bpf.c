// SPDX-License-Identifier: Dual BSD/GPL
/* A BPF program with BTF but no CO-RE relocation: btfgen must refuse it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp/syscalls/sys_enter_getppid")
int noreloc(void *ctx)
{
	bpf_printk("getppid");
	return 0;
}
