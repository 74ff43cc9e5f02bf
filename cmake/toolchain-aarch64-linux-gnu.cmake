# SPDX-License-Identifier: Apache-2.0
# Cross-build for arm64 with Debian's cross toolchain (crossbuild-essential-arm64)
# and the multiarch :arm64 -dev packages (scripts/install-deps.sh installs
# both): the aarch64 static sub-build <build>/static/aarch64 uses this file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")
set(CMAKE_OBJCOPY aarch64-linux-gnu-objcopy CACHE FILEPATH "")
# Libraries come from /usr/lib/aarch64-linux-gnu (CMAKE_LIBRARY_ARCHITECTURE,
# taken from the compiler), headers from /usr/include[/aarch64-linux-gnu];
# pkg-config reads the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Programs (bpftool, clang for the BPF objects) run on the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
find_program(_btfpack_qemu_aarch64 qemu-aarch64-static)
if(_btfpack_qemu_aarch64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_btfpack_qemu_aarch64})
endif()
