// SPDX-License-Identifier: Apache-2.0
/*
 * static_agent: a libbpf-tools-style loader built as ONE static binary:
 * libbpf.a, libelf.a, libz.a, libbtfpack.a, libcrypto.a, libzstd.a and a
 * static libc (`ldd static_agent`: "not a dynamic executable"). It is what
 * an agent for old distros ships: nothing to install besides a bundle and
 * a key.
 *
 *   static_agent [-B BUNDLE] [-k KEY.pub] [-p] [-t SECONDS] [-v]
 *
 * It resolves the BTF with the handle API (btfpack_resolve), loads the
 * taskstate skeleton with it (btf_custom_path), forks a child that sleeps
 * under a known comm, and checks what the CO-RE reads give for that child
 * against ground truth: task->pid equals the helper's pid, task->__state
 * (or ->state) is TASK_INTERRUPTIBLE, and the field variant matches the
 * kernel version. -p uses the bundle even when the kernel has its own BTF.
 * Exit 0: every check passed; 1: a check failed or nothing was seen;
 * 77: not privileged enough to load BPF here.
 *
 * Built with STATIC_AGENT_EMBEDDED (examples/embedded_agent), the bundle
 * and its key are linked into the binary by btfpack_embed_bundle()
 * (cmake/BtfpackEmbed.cmake) and resolved from memory; -B and -k then add
 * nothing but are refused, so one file carries agent, programs and BTF.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <btfpack/btfpack.h>

#include "taskstate.h"
#include "taskstate.skel.h"
#ifdef STATIC_AGENT_EMBEDDED
#include <btfpack_embedded.h>
#define AGENT "embedded_agent"
#else
#define AGENT "static_agent"
#endif

#define CHILD_COMM "stagent-sleep"
#define TASK_INTERRUPTIBLE 1

static pid_t child_pid;
static int kernel_has_new_state;
static long seen, bad;

static void handle_event(void *ctx, int cpu, void *data, __u32 size) {
  struct taskstate_event e;
  (void)ctx;
  (void)cpu;
  if (size < sizeof(e))
    return;
  memcpy(&e, data, sizeof(e)); /* perf samples are 4-byte aligned only */
  if (e.helper_pid != (__u32)child_pid)
    return;
  seen++;
  int ok = e.core_pid == e.helper_pid && e.core_state == TASK_INTERRUPTIBLE &&
           e.core_state_is_new == (__u32)kernel_has_new_state &&
           e.core_reset_on_fork == 0;
  if (!ok)
    bad++;
  printf("%s pid %u core_pid %u core_state %lld (%s) reset_on_fork %u\n",
         ok ? "ok " : "BAD", e.helper_pid, e.core_pid, (long long)e.core_state,
         e.core_state_is_new ? "__state" : "state", e.core_reset_on_fork);
}

static int new_state_field(void) {
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
    return 1;
  return major > 5 || (major == 5 && minor >= 14);
}

/* sleeper blocks in read(2) (TASK_INTERRUPTIBLE) until the agent sends a
 * byte, again and again, and exits when the pipe closes. (nanosleep would
 * sleep freezable: TASK_INTERRUPTIBLE|TASK_FREEZABLE on 6.1+.) */
static void sleeper(int rfd) {
  char byte;
  prctl(PR_SET_NAME, CHILD_COMM, 0, 0, 0);
  while (read(rfd, &byte, 1) != 0)
    ;
  _exit(0);
}

int main(int argc, char **argv) {
  const char *bundle = NULL, *key = NULL;
  int prefer = 0, timeout = 5, verbose = 0, opt, err;
  struct taskstate_bpf *obj = NULL;
  struct perf_buffer *pb = NULL;
  struct btfpack_btf *btf = NULL;
  int ret = 1;

  while ((opt = getopt(argc, argv, "B:k:pt:v")) != -1) {
    switch (opt) {
    case 'B':
      bundle = optarg;
      break;
    case 'k':
      key = optarg;
      break;
    case 'p':
      prefer = 1;
      break;
    case 't':
      timeout = atoi(optarg);
      break;
    case 'v':
      verbose++;
      break;
    default:
      fprintf(stderr,
              "usage: %s [-B BUNDLE] [-k KEY.pub] [-p] [-t SECONDS]"
              " [-v]\n",
              argv[0]);
      return 2;
    }
  }
#ifdef STATIC_AGENT_EMBEDDED
  if (bundle || key) {
    fprintf(stderr,
            "%s: the bundle and its key are embedded; -B and -k "
            "are for static_agent\n",
            argv[0]);
    return 2;
  }
#endif
  btfpack_route_libbpf_logs(verbose);
  kernel_has_new_state = new_state_field();

  /* The staleness check on the bytes the skeleton embeds. */
  struct btfpack_object self = {"taskstate.bpf.o", NULL, 0};
  self.data = taskstate_bpf__elf_bytes(&self.size);
  const char *keys[] = {key, NULL};
  BTFPACK_OPTS(bo, .bundle_path = bundle, .key_paths = key ? keys : NULL,
               .prefer_bundle = prefer, .objects = &self, .objects_cnt = 1);
#ifdef STATIC_AGENT_EMBEDDED
  btfpack_embedded_opts(&bo);
  printf("bundle: %s (%zu bytes)\n", bo.bundle_data_name, bo.bundle_size);
#endif
  btf = btfpack_resolve(&bo);
  if (!btf) {
    fprintf(stderr, AGENT ": no BTF for this host (%s): %s\n", strerror(errno),
            btfpack_last_error());
    return 1;
  }
  printf("btf %s: %s\n",
         btfpack_btf__path(btf) ? btfpack_btf__path(btf) : "native",
         btfpack_btf__summary(btf));

  LIBBPF_OPTS(bpf_object_open_opts, open_opts,
              .btf_custom_path = btfpack_btf__path(btf));
  obj = taskstate_bpf__open_opts(&open_opts);
  if (!obj) {
    fprintf(stderr, AGENT ": failed to open BPF object: %s\n", strerror(errno));
    goto cleanup;
  }
  err = taskstate_bpf__load(obj);
  if (err == -EPERM || err == -EACCES) {
    fprintf(stderr,
            AGENT ": not allowed to load BPF here (%s): "
                  "run as root or with CAP_BPF+CAP_PERFMON\n",
            strerror(-err));
    ret = 77;
    goto cleanup;
  }
  if (err) {
    fprintf(stderr, AGENT ": failed to load BPF object: %s\n", strerror(-err));
    goto cleanup;
  }
  /* The hand-off is no longer needed once the object is loaded. */
  btfpack_btf__free(btf);
  btf = NULL;

  struct btfpack_comm_filter filter = {0};
  __u32 zero = 0;
  strncpy(filter.prefix, CHILD_COMM, sizeof(filter.prefix) - 1);
  filter.len = (__u32)strlen(filter.prefix);
  err = bpf_map__update_elem(obj->maps.comm_filter, &zero, sizeof(zero),
                             &filter, sizeof(filter), BPF_ANY);
  if (!err)
    err = taskstate_bpf__attach(obj);
  if (err) {
    fprintf(stderr, AGENT ": failed to attach: %s\n", strerror(-err));
    goto cleanup;
  }
  pb = perf_buffer__new(bpf_map__fd(obj->maps.events), 16, handle_event, NULL,
                        NULL, NULL);
  if (!pb) {
    fprintf(stderr, AGENT ": failed to open perf buffer: %s\n",
            strerror(errno));
    goto cleanup;
  }
  int wake[2];
  if (pipe(wake) != 0) {
    perror(AGENT ": pipe");
    goto cleanup;
  }
  fflush(stdout);
  child_pid = fork();
  if (child_pid < 0) {
    perror(AGENT ": fork");
    goto cleanup;
  }
  if (child_pid == 0) {
    close(wake[1]);
    sleeper(wake[0]);
  }
  close(wake[0]);
  time_t end = time(NULL) + timeout;
  while (seen < 5 && time(NULL) < end) {
    if (write(wake[1], "x", 1) != 1)
      break;
    err = perf_buffer__poll(pb, 50);
    if (err < 0 && err != -EINTR) {
      fprintf(stderr, AGENT ": polling: %s\n", strerror(-err));
      break;
    }
  }
  close(wake[1]);
  waitpid(child_pid, NULL, 0);
  printf("%ld events of pid %d checked, %ld wrong\n", seen, (int)child_pid,
         bad);
  ret = seen > 0 && bad == 0 ? 0 : 1;

cleanup:
  perf_buffer__free(pb);
  taskstate_bpf__destroy(obj);
  btfpack_btf__free(btf);
  return ret;
}
