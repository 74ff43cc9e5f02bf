/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* nspid: pid-namespace ids computed with type/enum relocations. */
#ifndef BTFPACK_NSPID_H
#define BTFPACK_NSPID_H

#include "btfpack_bpf_common.h"

struct nspid_event {
	__u32 helper_pid; /* bpf_get_current_pid_tgid() */
	__u32 helper_tgid;
	__u32 ns_level;	    /* thread_pid->level */
	__u32 ns_pid;	    /* thread_pid->numbers[level].nr: gettid() */
	__u32 ns_tgid;	    /* signal->pids[PIDTYPE_TGID]->numbers[level].nr: getpid() */
	__u32 ns_ppid;	    /* the same for real_parent: getppid() */
	__u32 upid_size;    /* bpf_core_type_size(struct upid) */
	__u32 pidtype_tgid; /* bpf_core_enum_value(enum pid_type, PIDTYPE_TGID) */
	__u32 has_pid_link; /* bpf_core_type_exists(struct pid_link): before 4.19 */
	__u32 has_pid_ns;   /* bpf_core_type_exists(struct pid_namespace) */
	char helper_comm[BTFPACK_COMM_LEN];
};

#endif /* BTFPACK_NSPID_H */
