/* SPDX-License-Identifier: MIT */
/**
 * @file bp_version.h
 * @brief batchpoint version: the single source of the version number.
 *
 * Compile-time macros describe the headers you compiled against; bp_version_num(),
 * bp_version_string() and bp_version() describe the library you linked at run time.
 * MAJOR changes on any ABI break (and is the shared library's soname), MINOR on additions.
 */
#ifndef BATCHPOINT_BP_VERSION_H
#define BATCHPOINT_BP_VERSION_H

#define BP_VERSION_MAJOR 0
/* 0.2: the ABI changed (struct_size members, reserved tails, one name per concept). */
#define BP_VERSION_MINOR 2
#define BP_VERSION_PATCH 0
/** 0xMMmmpp: major, minor, patch, two hex digits each. */
#define BP_VERSION_NUM ((BP_VERSION_MAJOR << 16) | (BP_VERSION_MINOR << 8) | BP_VERSION_PATCH)
#define BP_VERSION_STRING "0.2.0"

#endif
