// SPDX-License-Identifier: Apache-2.0
//
// Linked into every static executable (cmake/BtfpackStatic.cmake). Debian's
// libcrypto.a references glibc's dlopen family (OpenSSL's DSO loader for
// engines and provider modules) and its resolver (BIO_lookup, BIO sockets).
// In a static program glibc would serve those by loading shared objects and
// NSS modules at run time, which the static btfpack never does. These
// definitions take their place: loading and name lookups always fail, so
// nothing is read from disk, and the link uses none of glibc's versions
// (whose link-time warnings -Wl,--fatal-warnings turns into errors, so a new
// use fails the build instead of loading something on a host).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stddef.h>

static char btfpack_noload_msg[] =
    "dynamic loading is not available in the static btfpack";

// Linked with -Wl,--wrap=dlopen: glibc's libc.a always brings its own
// dlopen object (for its static start-up), whose link-time warning fires on
// any reference to `dlopen`; wrapped, libcrypto's reference lands here.
void *__wrap_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode) {
  (void)file;
  (void)mode;
  return NULL;
}
void *dlsym(void *restrict handle, const char *restrict name) {
  (void)handle;
  (void)name;
  return NULL;
}
int dlclose(void *handle) {
  (void)handle;
  return 0;
}
char *dlerror(void) {
  return btfpack_noload_msg;
}
int dladdr(const void *addr, Dl_info *info) {
  (void)addr;
  (void)info;
  return 0;
}

int getaddrinfo(const char *restrict node, const char *restrict service,
                const struct addrinfo *restrict hints,
                struct addrinfo **restrict res) {
  (void)node;
  (void)service;
  (void)hints;
  *res = NULL;
  return EAI_FAIL;
}
void freeaddrinfo(struct addrinfo *res) {
  (void)res;
}
int getnameinfo(const struct sockaddr *restrict addr, socklen_t addrlen,
                char *restrict host, socklen_t hostlen, char *restrict serv,
                socklen_t servlen, int flags) {
  (void)addr;
  (void)addrlen;
  (void)host;
  (void)hostlen;
  (void)serv;
  (void)servlen;
  (void)flags;
  return EAI_FAIL;
}
struct hostent *gethostbyname(const char *name) {
  (void)name;
  h_errno = NO_RECOVERY;
  return NULL;
}
