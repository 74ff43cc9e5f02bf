# SPDX-License-Identifier: Apache-2.0
# The all-static host side, built by the default build as sub-builds of this
# same source tree (BTFPACK_HOST_ONLY + BTFPACK_STATIC):
#   <build>/static/x86_64/    native
#   <build>/static/aarch64/   cross (cmake/toolchain-aarch64-linux-gnu.cmake),
#                             when the cross toolchain and the :arm64 static
#                             libraries are installed (scripts/install-deps.sh)
# each with the normal layout: cli/btfpack, bpf/btfpack-bpf-demo,
# tests/vm/btfpack-vm-capi-loader, examples/taskstate/taskstate_example,
# all static and stripped (debug info beside them in <name>.debug).
# BTFPACK_STATIC_DIR_<arch> names the directory, empty when not built.
include(ExternalProject)
set(BTFPACK_STATIC_DIR_x86_64 "")
set(BTFPACK_STATIC_DIR_aarch64 "")
set(BTFPACK_STATIC_ARCHES "")

if(BTFPACK_SANITIZE)
  message(STATUS "static sub-builds: off (BTFPACK_SANITIZE: ASan cannot link "
    "static executables); their tests are not registered")
  return()
endif()
if(NOT BTFPACK_STATIC_SUBBUILDS)
  message(STATUS "static sub-builds: off (BTFPACK_STATIC_SUBBUILDS=OFF); "
    "their tests are not registered")
  return()
endif()
if(BTFPACK_FUZZ)
  message(STATUS "static sub-builds: off (BTFPACK_FUZZ)")
  return()
endif()

set(_native ${CMAKE_SYSTEM_PROCESSOR})
if(NOT _native MATCHES "^(x86_64|aarch64)$")
  message(STATUS "static sub-builds: off (unsupported build machine ${_native})")
  return()
endif()

function(_btfpack_static_subbuild arch)
  set(_dir ${PROJECT_BINARY_DIR}/static/${arch})
  set(_args
    -DBTFPACK_HOST_ONLY=ON -DBTFPACK_STATIC=ON
    -DBTFPACK_STATIC_SUBBUILDS=OFF
    -DBTFPACK_BUILD_TESTS=OFF -DBTFPACK_BUILD_BENCH=OFF
    -DBTFPACK_WERROR=${BTFPACK_WERROR}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DCMAKE_INSTALL_PREFIX=${CMAKE_INSTALL_PREFIX}
    -DCMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER}
    -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
    ${ARGN})
  ExternalProject_Add(btfpack_static_${arch}
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_dir}
    PREFIX ${PROJECT_BINARY_DIR}/static/ep-${arch}
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS ${_args}
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    BUILD_BYPRODUCTS ${_dir}/cli/btfpack ${_dir}/bpf/btfpack-bpf-demo
      ${_dir}/tests/vm/btfpack-vm-capi-loader
      ${_dir}/examples/taskstate/taskstate_example)
  set(BTFPACK_STATIC_DIR_${arch} ${_dir} PARENT_SCOPE)
endfunction()

# Native: the same compilers as this build.
_btfpack_static_subbuild(${_native}
  -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER})
list(APPEND BTFPACK_STATIC_ARCHES ${_native})
message(STATUS "static sub-build ${_native}: ${BTFPACK_STATIC_DIR_${_native}}")

# Cross aarch64 from x86_64: needs the cross compiler and the arm64 archives.
if(_native STREQUAL "x86_64")
  find_program(BTFPACK_AARCH64_CXX aarch64-linux-gnu-g++)
  set(_missing "")
  if(NOT BTFPACK_AARCH64_CXX)
    list(APPEND _missing "aarch64-linux-gnu-g++ (crossbuild-essential-arm64)")
  endif()
  foreach(_a libbpf:libbpf-dev libelf:libelf-dev libz:zlib1g-dev
             libzstd:libzstd-dev libcrypto:libssl-dev)
    string(REPLACE ":" ";" _a ${_a})
    list(GET _a 0 _lib)
    list(GET _a 1 _pkg)
    if(NOT EXISTS /usr/lib/aarch64-linux-gnu/${_lib}.a)
      list(APPEND _missing "/usr/lib/aarch64-linux-gnu/${_lib}.a (${_pkg}:arm64)")
    endif()
  endforeach()
  if(_missing)
    string(REPLACE ";" ", " _missing "${_missing}")
    message(STATUS "static sub-build aarch64: off, missing ${_missing}; "
      "scripts/install-deps.sh installs them (dpkg --add-architecture arm64)")
  else()
    _btfpack_static_subbuild(aarch64
      -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/toolchain-aarch64-linux-gnu.cmake)
    list(APPEND BTFPACK_STATIC_ARCHES aarch64)
    message(STATUS "static sub-build aarch64: ${BTFPACK_STATIC_DIR_aarch64}")
  endif()
endif()
set(BTFPACK_STATIC_DIR_x86_64 ${BTFPACK_STATIC_DIR_x86_64})
set(BTFPACK_STATIC_DIR_aarch64 ${BTFPACK_STATIC_DIR_aarch64})
