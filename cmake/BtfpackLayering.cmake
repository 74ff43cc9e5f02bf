# SPDX-License-Identifier: Apache-2.0
# runtime/ is what every host links: it must never pull in libcurl, the
# fetcher or the generation pipeline (docs: ARCHITECTURE.md).
foreach(_t btfpack_runtime btfpack_base btfpack_kernel_release btfpack_archive_index)
  get_target_property(_deps ${_t} LINK_LIBRARIES)
  if(_deps MATCHES "CURL|LIBCURL|btfgen|fetcher")
    message(FATAL_ERROR "${_t} must not depend on libcurl/fetcher/btfgen: ${_deps}")
  endif()
endforeach()
get_target_property(_ai btfpack_archive_index LINK_LIBRARIES)
if(_ai MATCHES "btfpack_runtime|LIBBPF")
  message(FATAL_ERROR "archive-index must not depend on runtime or libbpf: ${_ai}")
endif()
# The host `btfpack` program starts with the runtime's libraries only; the
# build side runs in btfpack-build (cli/build_side.h).
foreach(_t btfpack btfpack_cli_host)
  get_target_property(_deps ${_t} LINK_LIBRARIES)
  if(_deps MATCHES "CURL|LIBARCHIVE|btfgen|fetcher")
    message(FATAL_ERROR "${_t} must link the runtime only: ${_deps}")
  endif()
endforeach()
# libbtfpack holds archive-index's kernel release model only, not the
# index and mirror scanner.
get_target_property(_rt btfpack_runtime LINK_LIBRARIES)
if(_rt MATCHES "btfpack_archive_index")
  message(FATAL_ERROR "btfpack_runtime must link btfpack_kernel_release, not "
                      "the whole btfpack_archive_index: ${_rt}")
endif()
