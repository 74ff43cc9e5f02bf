/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Definitions shared by the BPF programs and their C++ loaders. */
#ifndef BTFPACK_BPF_COMMON_H
#define BTFPACK_BPF_COMMON_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define BTFPACK_COMM_LEN 16

#endif /* BTFPACK_BPF_COMMON_H */
