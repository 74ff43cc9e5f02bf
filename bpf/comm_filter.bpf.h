/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events are filtered to the loader's own children by a unique comm prefix:
 * pids are no good for this, because inside a pid namespace BPF sees global
 * pids while fork() returns namespaced ones. The prefix lives in a one-entry
 * array map the loader fills between load and attach, not in .rodata:
 * global data needs kernel 5.2, and these programs must load on 4.14.
 */
#ifndef BTFPACK_COMM_FILTER_BPF_H
#define BTFPACK_COMM_FILTER_BPF_H

#include "btfpack_bpf_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct btfpack_comm_filter);
} comm_filter SEC(".maps");

/* comm_matches fails closed: no prefix set means no event. */
static __always_inline bool comm_matches(const char *comm)
{
	struct btfpack_comm_filter *f;
	__u32 zero = 0, len;
	bool same = true;

	f = bpf_map_lookup_elem(&comm_filter, &zero);
	if (!f || f->len == 0)
		return false;
	len = f->len;
	/* No early exit: a fixed 16-step loop unrolls, and kernels before 5.3
	 * refuse any loop. */
#pragma unroll
	for (int i = 0; i < BTFPACK_COMM_LEN; i++)
		same &= i >= len || comm[i] == f->prefix[i];
	return same;
}

#endif /* BTFPACK_COMM_FILTER_BPF_H */
