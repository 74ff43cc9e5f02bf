# SPDX-License-Identifier: Apache-2.0
# The host-only package of a static sub-build (BTFPACK_HOST_ONLY +
# BTFPACK_STATIC, cmake/BtfpackStaticSubbuild.cmake): btfpack-host_<ver>_<arch>
# .deb / .rpm / .tar.gz with the static `btfpack` (what hosts run: resolve,
# explain, verify, inspect, install, list, rollback), its man page and the
# host directories. No build side (btfpack-build, libexec), no library, no
# shared-library dependency: it installs on CentOS 7, Amazon Linux 2,
# Ubuntu 18.04 and every other glibc or musl x86_64/aarch64 Linux.
set(BTFPACK_KEYS_DIR /etc/btfpack/keys)
set(BTFPACK_STORE_DIR /var/lib/btfpack)
set(BTFPACK_CACHE_DIR /var/cache/btfpack)

install(FILES ${CMAKE_CURRENT_LIST_DIR}/man/btfpack.1
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/install-layout.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/btfpack-host)
foreach(_d ${BTFPACK_KEYS_DIR} ${BTFPACK_STORE_DIR}/bundles ${BTFPACK_CACHE_DIR})
  install(DIRECTORY DESTINATION ${_d}
    DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
  set(_deb_arch arm64)
else()
  set(_deb_arch amd64)
endif()
set(CPACK_PACKAGE_NAME btfpack-host)
set(CPACK_PACKAGE_VENDOR "btfpack")
set(CPACK_PACKAGE_CONTACT "btfpack maintainers <btfpack@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/btfpack/btfpack")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "host side of btfpack: minimized BTFs for CO-RE eBPF programs (static)")
set(CPACK_PACKAGE_DESCRIPTION
  "The host side of btfpack as one static executable (no shared library, \
no dynamic loader, nothing loaded at run time): on a host whose kernel has \
no BTF it verifies a signed btfpack bundle, identifies the kernel and hands \
the matching minimized BTF to libbpf (btfpack resolve, explain, verify, \
inspect, install, list, rollback). Runs on any Linux of the architecture, \
CentOS 7, Amazon Linux 2 and Ubuntu 18.04 included. The build side \
(btfpack-build) is in the full btfpack package.")
set(CPACK_GENERATOR "DEB;RPM;TGZ")
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES OFF) # stripped at link time (cmake/BtfpackStatic.cmake)
# The offline kit: unpacks at / (tar -xzf btfpack-host-<ver>-<arch>.tar.gz -C /).
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF)
set(CPACK_PACKAGE_FILE_NAME
  btfpack-host-${PROJECT_VERSION}-Linux-${CMAKE_SYSTEM_PROCESSOR})
# Debian: no Depends at all (static; dpkg-shlibdeps has nothing to find).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${_deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bpftool")
# Bundle packages (packaging/bundle-package) depend on "btfpack".
set(CPACK_DEBIAN_PACKAGE_PROVIDES "btfpack (= ${PROJECT_VERSION})")
# RPM: nothing but the rpmlib features rpm 4.11 (CentOS 7) has: a gzip
# payload (Debian's rpm defaults to zstd: rpmlib(PayloadIsZstd), which
# rpm < 4.14 refuses) and no automatic requirements.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_ARCHITECTURE ${CMAKE_SYSTEM_PROCESSOR})
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Base")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_AUTOREQ OFF)
set(CPACK_RPM_PACKAGE_AUTOPROV OFF)
set(CPACK_RPM_PACKAGE_PROVIDES "btfpack = ${PROJECT_VERSION}")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /etc /var /var/lib /var/cache /usr/share/man /usr/share/man/man1
  /usr/share/doc)
set(CPACK_RPM_SPEC_MORE_DEFINE
  "%define _build_id_links none
%define _binary_payload w9.gzdio
%define __os_install_post %{nil}
%define __strip /bin/true")
include(CPack)
