/* SPDX-License-Identifier: MIT */
/**
 * @file bp_features.h
 * @brief Compile-time profile of a batchpoint build.
 *
 * The full library is the default. Firmware builds that bring their own JSON define
 * BP_CORE_ONLY (the Makefile does so for `make CORE_ONLY=1`), which drops the codec layer and
 * with it yajl and libb64. A build may also name its own profile file with
 * -DBP_CONFIG_FILE="my_bp_config.h"; that file is included first and may define any of the
 * macros below. bp_feature_enabled() reports the profile at run time.
 *
 * The copy `make install` installs is generated: it fixes the values the library was built
 * with (its BP_BUILT_PROFILE line), so a program needs no -D of its own to match the library,
 * and a contradicting definition is an #error.
 *
 * - BP_WITH_CODEC      1: event/failure-record encoders, response classifier, config JSON
 *                      parser (needs yajl). 0 in a core-only build.
 * - BP_WITH_FILE_STORE 1: the embedded file checkpoint store (needs POSIX files).
 * - BP_WITH_STDIO      1: helpers that format log text with the C library's stdio.
 * - BP_MAX_SEQNUM_DIGITS  longest accepted sequence number (Kinesis: 128 digits).
 */
#ifndef BATCHPOINT_BP_FEATURES_H
#define BATCHPOINT_BP_FEATURES_H

#ifdef BP_CONFIG_FILE
#include BP_CONFIG_FILE
#endif

/* BP_BUILT_PROFILE: the installed copy fixes the build's values here (gen_features.sh). */

#ifndef BP_WITH_CODEC
#ifdef BP_CORE_ONLY
#define BP_WITH_CODEC 0
#else
#define BP_WITH_CODEC 1
#endif
#endif

#ifndef BP_WITH_FILE_STORE
#define BP_WITH_FILE_STORE 1
#endif

#ifndef BP_WITH_STDIO
#define BP_WITH_STDIO 1
#endif

#ifndef BP_MAX_SEQNUM_DIGITS
#define BP_MAX_SEQNUM_DIGITS 128
#endif

#if defined(BP_CORE_ONLY) && BP_WITH_CODEC
#error "BP_CORE_ONLY excludes the codec: do not also set BP_WITH_CODEC to 1"
#endif
#if BP_MAX_SEQNUM_DIGITS < 1 || BP_MAX_SEQNUM_DIGITS > 4096
#error "BP_MAX_SEQNUM_DIGITS must be between 1 and 4096"
#endif

#endif
