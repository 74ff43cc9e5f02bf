# SPDX-License-Identifier: Apache-2.0
# Warning and sanitizer flags shared by every target of the project.
add_library(btfpack_flags INTERFACE)
target_compile_options(btfpack_flags INTERFACE
  -Wall -Wextra $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(BTFPACK_WERROR)
  target_compile_options(btfpack_flags INTERFACE -Werror)
endif()
if(BTFPACK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # GCC 12 reports -Wmaybe-uninitialized inside libstdc++'s <regex> once
  # ASan instruments it (a false positive of the instrumented code, not of
  # ours); the plain -Werror build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(btfpack_flags INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
# Fuzzing build (fuzz/run.sh): clang only; every library is instrumented for
# libFuzzer coverage with ASan+UBSan, and BTFPACK_FUZZING lets a parser skip
# checks that would stop the fuzzer from reaching it (signature checks).
if(BTFPACK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "BTFPACK_FUZZ needs clang: configure with "
      "CC=clang CXX=clang++ (fuzz/run.sh does)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(BTFPACK_FUZZING=1)
endif()
