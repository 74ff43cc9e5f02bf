// SPDX-License-Identifier: Apache-2.0
/*
 * taskstate: a libbpf-tools-style tool (parse args -> open skeleton -> set
 * rodata -> load -> attach -> poll -> print) printing the scheduler state
 * of tasks as they are switched out. It runs on kernels without BTF through
 * btfpack: the only differences from a libbpf-tools tool are the include
 * below (was "btf_helpers.h"), the opts naming the skeleton's object for
 * the staleness check and the environment as a trust root (use_env), and
 * linking libbtfpack (was btf_helpers.o and the embedded
 * min_core_btfs.tar.gz).
 *
 *   taskstate -c COMM_PREFIX [-n COUNT] [-t SECONDS] [-v]
 *
 * The BTF comes from the installed bundle (/var/lib/btfpack/current,
 * keys in /etc/btfpack/keys; $BTFPACK_STORE, $BTFPACK_KEYS_DIR move them,
 * as this tool opts in with use_env).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <btfpack/btf_helpers.h>

#include "taskstate.h"
#include "taskstate.skel.h"

static volatile sig_atomic_t exiting;
static long remaining = 10;

static void sig_int(int signo) {
  (void)signo;
  exiting = 1;
}

static void handle_event(void *ctx, int cpu, void *data, __u32 size) {
  /* Perf samples are only 4-byte aligned: copy before reading u64 fields
   * (UBSan: misaligned access). */
  struct taskstate_event ev;
  const struct taskstate_event *e = &ev;
  (void)ctx;
  (void)cpu;
  if (size < sizeof(ev))
    return;
  memcpy(&ev, data, sizeof(ev));
  printf("%-16.16s pid %-7u core_pid %-7u state %-6lld (tp %lld, %s) "
         "reset_on_fork %u\n",
         e->helper_comm, e->helper_pid, e->core_pid, (long long)e->core_state,
         (long long)e->tp_prev_state,
         e->core_state_is_new ? "__state" : "state", e->core_reset_on_fork);
  if (--remaining <= 0)
    exiting = 1;
}

int main(int argc, char **argv) {
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  struct taskstate_bpf *obj = NULL;
  struct perf_buffer *pb = NULL;
  const char *comm = "sh";
  int timeout = 5, verbose = 0, opt, err;

  while ((opt = getopt(argc, argv, "c:n:t:v")) != -1) {
    switch (opt) {
    case 'c':
      comm = optarg;
      break;
    case 'n':
      remaining = strtol(optarg, NULL, 10);
      break;
    case 't':
      timeout = (int)strtol(optarg, NULL, 10);
      break;
    case 'v':
      verbose++;
      break;
    default:
      fprintf(stderr,
              "usage: %s [-c COMM_PREFIX] [-n COUNT] [-t SECONDS] "
              "[-v]\n",
              argv[0]);
      return 2;
    }
  }
  btfpack_route_libbpf_logs(verbose);

  /* The bytes the skeleton embeds: a bundle made for another build of
   * this program is refused (-ESTALE) instead of loading wrong offsets. */
  struct btfpack_object self = {"taskstate.bpf.o", NULL, 0};
  self.data = taskstate_bpf__elf_bytes(&self.size);
  BTFPACK_OPTS(bopts, .objects = &self, .objects_cnt = 1, .use_env = 1);
  err = btfpack_ensure_core_btf_opts(&open_opts, &bopts);
  if (err) {
    fprintf(stderr, "failed to fetch necessary BTF for CO-RE: %s\n",
            btfpack_last_error());
    return 1;
  }

  obj = taskstate_bpf__open_opts(&open_opts);
  if (!obj) {
    fprintf(stderr, "failed to open BPF object\n");
    err = 1;
    goto cleanup;
  }
  err = taskstate_bpf__load(obj);
  if (err) {
    fprintf(stderr, "failed to load BPF object: %d\n", err);
    goto cleanup;
  }
  /* The comm filter is a map, not .rodata, so it works on 4.14 kernels. */
  struct btfpack_comm_filter filter = {0};
  __u32 zero = 0;
  strncpy(filter.prefix, comm, sizeof(filter.prefix) - 1);
  filter.len = (__u32)strlen(filter.prefix);
  err = bpf_map__update_elem(obj->maps.comm_filter, &zero, sizeof(zero),
                             &filter, sizeof(filter), BPF_ANY);
  if (err) {
    fprintf(stderr, "failed to set the comm filter: %d\n", err);
    goto cleanup;
  }
  err = taskstate_bpf__attach(obj);
  if (err) {
    fprintf(stderr, "failed to attach BPF programs: %d\n", err);
    goto cleanup;
  }
  pb = perf_buffer__new(bpf_map__fd(obj->maps.events), 16, handle_event, NULL,
                        NULL, NULL);
  if (!pb) {
    err = -errno;
    fprintf(stderr, "failed to open perf buffer: %d\n", err);
    goto cleanup;
  }
  signal(SIGINT, sig_int);
  time_t end = time(NULL) + timeout;
  while (!exiting && time(NULL) < end) {
    err = perf_buffer__poll(pb, 100);
    if (err < 0 && err != -EINTR) {
      fprintf(stderr, "error polling perf buffer: %s\n", strerror(-err));
      goto cleanup;
    }
    err = 0;
  }

cleanup:
  perf_buffer__free(pb);
  taskstate_bpf__destroy(obj);
  cleanup_core_btf(&open_opts);
  return err != 0;
}
