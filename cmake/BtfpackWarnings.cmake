# SPDX-License-Identifier: Apache-2.0
# Warning and sanitizer flags shared by every target of the project.
add_library(btfpack_flags INTERFACE)
target_compile_options(btfpack_flags INTERFACE
  -Wall -Wextra -Wshadow=local -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(BTFPACK_WERROR)
  target_compile_options(btfpack_flags INTERFACE -Werror)
endif()
if(BTFPACK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
