// SPDX-License-Identifier: Apache-2.0
//
// Result<T>: the value-or-error type every btfpack library function returns.
// Library code never prints and never exits; it returns an Error whose message
// names the file and the cause ("read bundle /x: truncated header"), and the
// CLI turns it into a message and an exit status. g++ 12 lacks a usable
// std::expected in C++20, hence this small type.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace btfpack {

// Errc classifies an error so callers (and the CLI's exit codes and JSON)
// can react without parsing the message.
enum class Errc {
  invalid_argument = 1, // caller passed something unusable
  not_found,            // file, entry or kernel does not exist
  io,                   // read/write/syscall failure
  corrupt,              // input is malformed or truncated
  bad_signature,        // signature or key check failed
  digest_mismatch,      // content does not match its recorded digest
  expired,              // bundle outside its validity window
  unsupported,          // newer format version, unknown algorithm
  no_match,             // no BTF for this host under the policy
  stale,                // bundle made for other BPF objects
  downgrade,            // refused rollback to a lower bundle version
  timeout,              // a subprocess or transfer took too long
  failed,               // an external tool failed
  internal,             // a bug
};

// errc_name returns a stable lowercase name ("not_found") for JSON output.
const char *errc_name(Errc c) noexcept;

// Error carries a classification and a human message (lowercase, no period).
struct Error {
  Errc code = Errc::internal;
  std::string message;
};

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

// Result holds either a T or an Error.
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T &value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T &value() const & {
    assert(ok());
    return std::get<0>(v_);
  }
  T &&value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }

  const Error &error() const & {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error &&error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

private:
  std::variant<T, Error> v_;
};

// Result<void> carries only success or an Error.
template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error err) : err_(std::move(err)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error &error() const & {
    assert(!ok_);
    return err_;
  }
  Error &&error() && {
    assert(!ok_);
    return std::move(err_);
  }

private:
  Error err_;
  bool ok_ = true;
};

// Ok returns a successful Result<void>.
inline Result<void> ok() {
  return {};
}

// with_context prefixes an error's message: "open bundle /x: <cause>".
inline Error with_context(Error e, const std::string &context) {
  e.message = context + ": " + e.message;
  return e;
}

} // namespace btfpack

// BTFPACK_TRY(var, expr): evaluate a Result, return its error from the
// enclosing function, else move the value into a new variable `var`.
#define BTFPACK_CONCAT_(a, b) a##b
#define BTFPACK_CONCAT(a, b) BTFPACK_CONCAT_(a, b)
#define BTFPACK_TRY(var, expr)                                                 \
  auto BTFPACK_CONCAT(_r_, __LINE__) = (expr);                                 \
  if (!BTFPACK_CONCAT(_r_, __LINE__).ok())                                     \
    return std::move(BTFPACK_CONCAT(_r_, __LINE__)).error();                   \
  auto var = std::move(BTFPACK_CONCAT(_r_, __LINE__)).value()

// BTFPACK_CHECK(expr): for Result<void>; return the error if any.
#define BTFPACK_CHECK(expr)                                                    \
  do {                                                                         \
    auto _rc = (expr);                                                         \
    if (!_rc.ok())                                                             \
      return std::move(_rc).error();                                           \
  } while (0)
