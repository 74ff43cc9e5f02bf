// SPDX-License-Identifier: Apache-2.0
//
// CFree<F>: a unique_ptr deleter for any C library handle, so every handle is
// owned at the first line that receives it:
//   using BtfPtr = std::unique_ptr<struct btf, CFree<btf__free>>;
#pragma once

#include <memory>

namespace btfpack {

template <auto Free> struct CFree {
  template <typename T> void operator()(T *p) const noexcept {
    if (p)
      Free(p);
  }
};

template <typename T, auto Free>
using CHandle = std::unique_ptr<T, CFree<Free>>;

} // namespace btfpack
