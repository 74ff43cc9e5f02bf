# SPDX-License-Identifier: Apache-2.0
# Every outside dependency, found once, with an error that names the Debian
# package to install (scripts/install-deps.sh installs them all).
find_package(PkgConfig QUIET)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

macro(btfpack_pkg var module pkg)
  pkg_check_modules(${var} IMPORTED_TARGET ${module})
  if(NOT ${var}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${pkg} "
                        "(or run scripts/install-deps.sh)")
  endif()
  if(BTFPACK_STATIC)
    # Static links (cmake/BtfpackStatic.cmake): the archive found above
    # (CMAKE_FIND_LIBRARY_SUFFIXES .a) plus `pkg-config --static`'s private
    # libraries, which -static resolves to their archives too.
    if(NOT ${var}_LINK_LIBRARIES MATCHES "\\.a(;|$)")
      message(FATAL_ERROR "${module}: no static archive (${${var}_LINK_LIBRARIES}): "
        "apt-get install ${pkg} (Debian's -dev packages ship the .a)")
    endif()
    set(_priv ${${var}_STATIC_LIBRARIES})
    list(REMOVE_ITEM _priv ${${var}_LIBRARIES})
    set_property(TARGET PkgConfig::${var} APPEND PROPERTY
      INTERFACE_LINK_LIBRARIES ${_priv})
  endif()
endmacro()

btfpack_pkg(LIBBPF "libbpf>=1.0" libbpf-dev)
if(NOT BTFPACK_HOST_ONLY)
  btfpack_pkg(LIBCURL "libcurl>=7.74" libcurl4-openssl-dev)
  btfpack_pkg(LIBARCHIVE "libarchive>=3.4" libarchive-dev)
endif()
btfpack_pkg(LIBZSTD "libzstd>=1.4" libzstd-dev)
btfpack_pkg(LIBELF "libelf" libelf-dev)

find_package(OpenSSL 3.0 QUIET)
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR "OpenSSL 3 not found: apt-get install libssl-dev")
endif()
find_package(nlohmann_json 3.10 QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "nlohmann_json not found: apt-get install nlohmann-json3-dev")
endif()
find_package(CLI11 QUIET)
if(NOT CLI11_FOUND)
  message(FATAL_ERROR "CLI11 not found: apt-get install libcli11-dev")
endif()
find_package(Threads REQUIRED)
if(BTFPACK_BUILD_TESTS AND NOT BTFPACK_HOST_ONLY)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "GoogleTest not found: apt-get install libgtest-dev libgmock-dev")
  endif()
  include(GoogleTest)
endif()

find_program(BPFTOOL bpftool PATHS /usr/sbin /sbin)
if(NOT BPFTOOL)
  message(FATAL_ERROR "bpftool not found: apt-get install bpftool")
endif()
find_program(BPF_CLANG NAMES clang clang-14)
if(NOT BPF_CLANG)
  message(FATAL_ERROR "clang not found (BPF programs): apt-get install clang")
endif()
