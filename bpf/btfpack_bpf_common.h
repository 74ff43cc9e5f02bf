/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Definitions shared by the BPF programs and their C++ loaders. */
#ifndef BTFPACK_BPF_COMMON_H
#define BTFPACK_BPF_COMMON_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define BTFPACK_COMM_LEN 16

/* The value of each program's comm_filter map (key 0): events come only
 * from tasks whose comm starts with prefix[0..len). */
struct btfpack_comm_filter {
	char prefix[BTFPACK_COMM_LEN];
	__u32 len;
};

#endif /* BTFPACK_BPF_COMMON_H */
