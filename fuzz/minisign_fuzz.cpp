// SPDX-License-Identifier: Apache-2.0
// fuzz-libs: btfpack_runtime
//
// minisign public key, secret key and signature files (runtime/src/keys.cpp,
// minisign.cpp). Beyond "no crash": an accepted public key re-encodes to a
// file that parses to the same key; an accepted secret key's public half
// matches and its re-encoding parses to the same key; an accepted signature
// is checked against a key of its own id without crashing, and a parsed
// signature never verifies under a key it was not made by (the fuzzer cannot
// forge Ed25519).
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "btfpack/keys.h"

using namespace btfpack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  if (auto pk = PublicKey::parse(text, "fuzz.pub")) {
    auto again = PublicKey::parse(pk->to_minisign(), "again");
    if (!again || again->id() != pk->id() || again->raw() != pk->raw())
      std::abort();
  }
  if (auto sk = SecretKey::parse(text, "fuzz.key")) {
    auto again = SecretKey::parse(sk->to_minisign(), "again");
    if (!again || again->id() != sk->id() ||
        again->public_key().raw() != sk->public_key().raw())
      std::abort();
  }
  if (auto sig = Signature::parse(text, "fuzz.minisig")) {
    static const PublicKey key = [] {
      auto k = PublicKey::parse(
          "RWSDrtw3mqWKihZFS7jAA+S8rXRxknRcC51xH15wa3CIhZRl0oO5FC9j", "k");
      if (!k)
        std::abort();
      return *k;
    }();
    std::vector<PublicKey> trusted{key};
    std::string_view msg = "btfpack fuzz message";
    auto r = verify_signature(
        {reinterpret_cast<const std::uint8_t *>(msg.data()), msg.size()}, *sig,
        trusted);
    // A match would mean a forged signature for a fixed message and key.
    if (r.ok())
      std::abort();
  }
  return 0;
}
