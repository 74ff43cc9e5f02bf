/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* parentchain: pointer-chain reads at process exit. */
#ifndef BTFPACK_PARENTCHAIN_H
#define BTFPACK_PARENTCHAIN_H

#include "btfpack_bpf_common.h"

struct parentchain_event {
	__u32 helper_pid; /* bpf_get_current_pid_tgid() */
	__u32 helper_tgid;
	__u32 core_pid;				 /* task->pid */
	__u32 core_tgid;			 /* task->tgid */
	__u32 core_parent_tgid;			 /* task->real_parent->tgid */
	__u32 core_grandparent_tgid;		 /* task->real_parent->real_parent->tgid */
	char helper_comm[BTFPACK_COMM_LEN];	 /* bpf_get_current_comm() */
	char core_comm[BTFPACK_COMM_LEN];	 /* task->comm */
	char core_parent_comm[BTFPACK_COMM_LEN]; /* task->real_parent->comm */
};

#endif /* BTFPACK_PARENTCHAIN_H */
