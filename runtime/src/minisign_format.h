// SPDX-License-Identifier: Apache-2.0
//
// minisign's binary layouts and limits (jedisct1/minisign src/minisign.h),
// shared by keys.cpp and minisign.cpp.
#pragma once

#include <cstddef>
#include <string_view>

namespace btfpack::detail {

constexpr std::string_view MS_SIGALG = "Ed";        // legacy, and key files
constexpr std::string_view MS_SIGALG_HASHED = "ED"; // BLAKE2b-512 prehash
constexpr std::string_view MS_KDF_NONE{"\0\0", 2};
constexpr std::string_view MS_KDF_SCRYPT = "Sc";
constexpr std::string_view MS_CHKALG = "B2";
constexpr std::string_view MS_COMMENT_PREFIX = "untrusted comment: ";
constexpr std::string_view MS_TRUSTED_PREFIX = "trusted comment: ";
constexpr std::size_t MS_COMMENT_MAX = 1024;         // COMMENTMAXBYTES
constexpr std::size_t MS_TRUSTED_COMMENT_MAX = 8192; // TRUSTEDCOMMENTMAXBYTES
constexpr std::size_t MS_KEYNUM = 8;

// Public key: sig_alg[2] keynum[8] pk[32].
constexpr std::size_t MS_PUBKEY_BYTES = 2 + 8 + 32;
// Signature: sig_alg[2] keynum[8] sig[64].
constexpr std::size_t MS_SIG_BYTES = 2 + 8 + 64;
// Secret key: sig_alg[2] kdf_alg[2] chk_alg[2] kdf_salt[32]
// kdf_opslimit_le[8] kdf_memlimit_le[8] keynum[8] sk[64] chk[32], where
// sk = seed[32] || pk[32] and chk = BLAKE2b-256(sig_alg || keynum || sk).
constexpr std::size_t MS_SECKEY_BYTES = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
constexpr std::size_t MS_SK_OFF_KEYNUM = 2 + 2 + 2 + 32 + 8 + 8;
constexpr std::size_t MS_SK_OFF_SK = MS_SK_OFF_KEYNUM + 8;
constexpr std::size_t MS_SK_OFF_CHK = MS_SK_OFF_SK + 64;

// A signature file is four lines; more than this is not one.
constexpr std::size_t MS_SIG_FILE_MAX =
    MS_COMMENT_MAX + 128 + MS_TRUSTED_COMMENT_MAX + 128;

} // namespace btfpack::detail
