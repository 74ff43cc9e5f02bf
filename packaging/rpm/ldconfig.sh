# SPDX-License-Identifier: Apache-2.0
# libbtfpack.so.N was added or removed: refresh the linker cache.
/sbin/ldconfig || :
