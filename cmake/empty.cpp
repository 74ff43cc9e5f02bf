// SPDX-License-Identifier: Apache-2.0
// Placeholder translation unit for a component library with no sources yet.
