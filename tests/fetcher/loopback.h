// SPDX-License-Identifier: Apache-2.0
//
// The socket pieces the tests' HTTP servers share (FaultServer,
// RecordingServer): a listening socket on 127.0.0.1 with a free port, and
// a send that writes everything or fails.
#pragma once

#include <cstddef>

namespace btfpack::test {

// listen_loopback returns a listening TCP socket on 127.0.0.1 and sets
// `port` to the port the kernel chose, or returns -1.
int listen_loopback(int &port);

// send_all writes all `n` bytes of `p` to `fd` (no SIGPIPE), retrying on
// EINTR; false when the peer is gone.
bool send_all(int fd, const char *p, std::size_t n);

} // namespace btfpack::test
