# SPDX-License-Identifier: Apache-2.0
# BTFPACK_STATIC: every executable fully static (no PT_INTERP, no DT_NEEDED),
# from Debian's static archives (libbpf.a, libelf.a, libz.a, libzstd.a,
# libcrypto.a) and -static for libc/libstdc++. Used by the static sub-builds
# (cmake/BtfpackStaticSubbuild.cmake), which configure with BTFPACK_HOST_ONLY.

# btfpack_static_executables(target...): the static sub-build's programs:
# the dlopen stand-in linked in, then, after the link, the debug info moved
# to <file>.debug (gnu-debuglink) and the program stripped, so the build
# tree holds what the packages ship.
function(btfpack_static_executables)
  if(NOT BTFPACK_STATIC)
    return()
  endif()
  foreach(_t ${ARGN})
    target_link_libraries(${_t} PRIVATE btfpack_static_noload)
    add_custom_command(TARGET ${_t} POST_BUILD
      COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:${_t}>
              $<TARGET_FILE:${_t}>.debug
      COMMAND ${CMAKE_STRIP} --strip-all $<TARGET_FILE:${_t}>
      COMMAND ${CMAKE_OBJCOPY} --add-gnu-debuglink=$<TARGET_FILE:${_t}>.debug
              $<TARGET_FILE:${_t}>
      WORKING_DIRECTORY $<TARGET_FILE_DIR:${_t}>
      COMMENT "strip ${_t} (debug info in ${_t}.debug)" VERBATIM)
  endforeach()
endfunction()

if(NOT BTFPACK_STATIC)
  return()
endif()
# The stand-ins for glibc's dlopen and resolver (cmake/static_noload.c):
# object files, so they are linked before libcrypto.a and libc.a are searched.
add_library(btfpack_static_noload OBJECT ${PROJECT_SOURCE_DIR}/cmake/static_noload.c)
target_compile_options(btfpack_static_noload PRIVATE -Wall -Wextra
  $<$<BOOL:${BTFPACK_WERROR}>:-Werror>)
if(BTFPACK_SANITIZE)
  message(FATAL_ERROR "BTFPACK_STATIC and BTFPACK_SANITIZE exclude each other "
    "(ASan cannot link static executables)")
endif()
# find_library (pkg-config's IMPORTED_TARGET, FindOpenSSL) takes archives only.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(OPENSSL_USE_STATIC_LIBS TRUE)
add_compile_options(-ffunction-sections -fdata-sections)
add_compile_definitions(BTFPACK_STATIC_BUILD=1)
# --fatal-warnings: glibc warns at link time when a static program uses
# getpwnam, getaddrinfo, dlopen & co. (they would load NSS modules or shared
# objects at run time); any such use fails the build. Those that libcrypto.a
# references (dlopen, getaddrinfo, ...) are answered by cmake/static_noload.c.
add_link_options(-static -Wl,--gc-sections -Wl,--fatal-warnings
  -Wl,--wrap=dlopen)
