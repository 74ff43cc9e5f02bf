/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* taskstate: the renamed state field and a bitfield, at context switch. */
#ifndef BTFPACK_TASKSTATE_H
#define BTFPACK_TASKSTATE_H

#include "btfpack_bpf_common.h"

struct taskstate_event {
	__u32 helper_pid; /* bpf_get_current_pid_tgid() */
	__u32 helper_tgid;
	__u32 tp_prev_pid;	  /* tracepoint argument prev_pid */
	__u32 core_pid;		  /* task->pid */
	__s64 tp_prev_state;	  /* tracepoint argument prev_state */
	__s64 core_state;	  /* task->__state (>= 5.14) or task->state */
	__u32 core_state_is_new;  /* 1 when the kernel has __state */
	__u32 core_reset_on_fork; /* task->sched_reset_on_fork (bitfield) */
	char helper_comm[BTFPACK_COMM_LEN];
};

#endif /* BTFPACK_TASKSTATE_H */
