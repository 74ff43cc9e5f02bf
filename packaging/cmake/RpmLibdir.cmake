# SPDX-License-Identifier: Apache-2.0
# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): the .rpm puts the
# library directory at /usr/lib64, where RHEL-family loaders look; the .deb
# and the tarball keep CMAKE_INSTALL_LIBDIR (Debian's multiarch dir). One
# install serves every generator; for RPM this moves the staged library
# directory and rewrites the relative paths of the pkg-config and CMake
# files so both stay relocatable. A layout it does not recognise is an
# error, never a half-moved package.
if(NOT CPACK_GENERATOR STREQUAL "RPM")
  return()
endif()
set(_old "${CPACK_BTFPACK_LIBDIR}")
set(_new "${CPACK_BTFPACK_RPM_LIBDIR}")
if(_old STREQUAL _new)
  return()
endif()
set(_usr "${CPACK_TEMPORARY_INSTALL_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")
if(NOT IS_DIRECTORY "${_usr}/${_old}")
  message(FATAL_ERROR "RpmLibdir.cmake: ${_usr}/${_old} is not a directory; "
    "the staged install does not have the library directory it expects")
endif()
if(EXISTS "${_usr}/${_new}")
  message(FATAL_ERROR "RpmLibdir.cmake: ${_usr}/${_new} exists already")
endif()

# Depth of a directory below the prefix: lib/x86_64-linux-gnu -> 2.
function(_depth dir out)
  string(REGEX MATCHALL "[^/]+" _parts "${dir}")
  list(LENGTH _parts _n)
  set(${out} ${_n} PARENT_SCOPE)
endfunction()
_depth("${_old}" _dold)
_depth("${_new}" _dnew)

# edit FILE FROM TO: replace FROM by TO, which must occur.
function(_edit file from to)
  file(READ "${file}" _s)
  string(FIND "${_s}" "${from}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "RpmLibdir.cmake: ${file} does not contain '${from}'")
  endif()
  string(REPLACE "${from}" "${to}" _s "${_s}")
  file(WRITE "${file}" "${_s}")
endfunction()
function(_ups n out)
  set(_u "")
  foreach(_i RANGE 1 ${n})
    string(APPEND _u "../")
  endforeach()
  set(${out} "${_u}" PARENT_SCOPE)
endfunction()

get_filename_component(_parent "${_usr}/${_new}" DIRECTORY)
file(MAKE_DIRECTORY "${_parent}")
file(RENAME "${_usr}/${_old}" "${_usr}/${_new}")
# Drop the directories the move left empty (usr/lib of lib/x86_64-linux-gnu).
get_filename_component(_d "${_usr}/${_old}" DIRECTORY)
while(NOT _d STREQUAL _usr)
  file(GLOB _left "${_d}/*")
  if(_left)
    break()
  endif()
  file(REMOVE_RECURSE "${_d}")
  get_filename_component(_d "${_d}" DIRECTORY)
endwhile()

set(_lib "${_usr}/${_new}")
# pkg-config: prefix=${pcfiledir}/<up to the prefix>, libdir under it.
math(EXPR _n "${_dold} + 1")
_ups(${_n} _uold)
math(EXPR _n "${_dnew} + 1")
_ups(${_n} _unew)
string(REGEX REPLACE "/$" "" _uold "${_uold}")
string(REGEX REPLACE "/$" "" _unew "${_unew}")
_edit("${_lib}/pkgconfig/btfpack.pc" "prefix=\${pcfiledir}/${_uold}\n"
  "prefix=\${pcfiledir}/${_unew}\n")
_edit("${_lib}/pkgconfig/btfpack.pc" "libdir=\${prefix}/${_old}\n"
  "libdir=\${prefix}/${_new}\n")
# CMake package: lib*/cmake/btfpack, the config's prefix and the export's.
set(_cm "${_lib}/cmake/btfpack")
math(EXPR _n "${_dold} + 2")
_ups(${_n} _uold)
math(EXPR _n "${_dnew} + 2")
_ups(${_n} _unew)
_edit("${_cm}/btfpackConfig.cmake" "\${CMAKE_CURRENT_LIST_DIR}/${_uold}\""
  "\${CMAKE_CURRENT_LIST_DIR}/${_unew}\"")
set(_line "get_filename_component(_IMPORT_PREFIX \"\${_IMPORT_PREFIX}\" PATH)\n")
string(REPEAT "${_line}" ${_n} _chain_new)
math(EXPR _n "${_dold} + 2")
string(REPEAT "${_line}" ${_n} _chain_old)
_edit("${_cm}/btfpackTargets.cmake"
  "PATH)\n${_chain_old}if(_IMPORT_PREFIX" "PATH)\n${_chain_new}if(_IMPORT_PREFIX")
file(GLOB _per_config "${_cm}/btfpackTargets-*.cmake")
if(NOT _per_config)
  message(FATAL_ERROR "RpmLibdir.cmake: no btfpackTargets-<config>.cmake in ${_cm}")
endif()
foreach(_f ${_per_config})
  _edit("${_f}" "\${_IMPORT_PREFIX}/${_old}/" "\${_IMPORT_PREFIX}/${_new}/")
endforeach()
