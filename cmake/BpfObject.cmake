# SPDX-License-Identifier: Apache-2.0
# btfpack_bpf_object(NAME SOURCE [DEPENDS header...])
#
# Compiles a CO-RE BPF program the libbpf-bootstrap way, once per
# architecture, against the committed bpf/vmlinux/<arch>/vmlinux.h:
#   ${CMAKE_BINARY_DIR}/bpf/<NAME>.bpf.o         x86_64 (-D__TARGET_ARCH_x86)
#   ${CMAKE_BINARY_DIR}/bpf/arm64/<NAME>.bpf.o   arm64  (-D__TARGET_ARCH_arm64)
#   ${CMAKE_BINARY_DIR}/bpf/<NAME>.skel.h        bpftool gen skeleton (x86_64)
# and defines:
#   <NAME>_bpf_objects   custom target building both objects
#   <NAME>_skel          INTERFACE library: include dir of the skeleton,
#                        libbpf, and a dependency on the objects
# DWARF is stripped (llvm-strip -g) as libbpf-tools does; .BTF and .BTF.ext
# stay, and bpftool gen min_core_btf gives the same output either way.
find_program(BPF_LLVM_STRIP NAMES llvm-strip llvm-strip-14)
if(NOT BPF_LLVM_STRIP)
  message(FATAL_ERROR "llvm-strip not found (BPF programs): apt-get install llvm")
endif()

set(BTFPACK_BPF_OUT_DIR ${CMAKE_BINARY_DIR}/bpf CACHE INTERNAL "")
set(BTFPACK_BPF_ARCHES x86_64 arm64 CACHE INTERNAL "")

function(btfpack_bpf_object name src)
  cmake_parse_arguments(B "" "" "DEPENDS" ${ARGN})
  get_filename_component(src ${src} ABSOLUTE)
  get_filename_component(src_dir ${src} DIRECTORY)
  set(vmlinux_root ${PROJECT_SOURCE_DIR}/bpf/vmlinux)
  set(outputs)
  foreach(arch ${BTFPACK_BPF_ARCHES})
    if(arch STREQUAL "x86_64")
      set(target_arch x86)
      set(out_dir ${BTFPACK_BPF_OUT_DIR})
    else()
      set(target_arch ${arch})
      set(out_dir ${BTFPACK_BPF_OUT_DIR}/${arch})
    endif()
    set(obj ${out_dir}/${name}.bpf.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${target_arch}
              -Wall -Werror
              -I${vmlinux_root}/${arch} -I${src_dir} -idirafter /usr/include
              -c ${src} -o ${obj}
      COMMAND ${BPF_LLVM_STRIP} -g ${obj}
      DEPENDS ${src} ${vmlinux_root}/${arch}/vmlinux.h ${B_DEPENDS}
      COMMENT "BPF ${name}.bpf.o (${arch})" VERBATIM)
    list(APPEND outputs ${obj})
  endforeach()
  # The skeleton embeds the object of the architecture being built for
  # (arm64 in the aarch64 static sub-build).
  if(CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
    set(skel_obj ${BTFPACK_BPF_OUT_DIR}/arm64/${name}.bpf.o)
  else()
    set(skel_obj ${BTFPACK_BPF_OUT_DIR}/${name}.bpf.o)
  endif()
  set(skel ${BTFPACK_BPF_OUT_DIR}/${name}.skel.h)
  add_custom_command(OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${skel_obj} > ${skel}
    DEPENDS ${skel_obj}
    COMMENT "BPF skeleton ${name}.skel.h" VERBATIM)
  add_custom_target(${name}_bpf_objects ALL DEPENDS ${outputs} ${skel})
  add_library(${name}_skel INTERFACE)
  target_include_directories(${name}_skel INTERFACE ${BTFPACK_BPF_OUT_DIR})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF PkgConfig::LIBELF)
  add_dependencies(${name}_skel ${name}_bpf_objects)
  set_property(GLOBAL APPEND PROPERTY BTFPACK_BPF_OBJECTS
    ${BTFPACK_BPF_OUT_DIR}/${name}.bpf.o)
endfunction()
