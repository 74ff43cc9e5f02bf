/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events are filtered to the loader's own children by a unique comm prefix
 * set in .rodata before load: pids are no good for this, because inside a
 * pid namespace BPF sees global pids while fork() returns namespaced ones.
 */
#ifndef BTFPACK_COMM_FILTER_BPF_H
#define BTFPACK_COMM_FILTER_BPF_H

#include "btfpack_bpf_common.h"

const volatile char targ_comm_prefix[BTFPACK_COMM_LEN] = {};
const volatile __u32 targ_comm_prefix_len = 0;

static __always_inline bool comm_matches(const char *comm)
{
#pragma unroll
	for (int i = 0; i < BTFPACK_COMM_LEN; i++) {
		if (i >= targ_comm_prefix_len)
			return true;
		if (comm[i] != targ_comm_prefix[i])
			return false;
	}
	return true;
}

#endif /* BTFPACK_COMM_FILTER_BPF_H */
