/* SPDX-License-Identifier: MIT */
/**
 * @file bp_common.h
 * @brief Base layer: export macro, error codes, allocator hooks, arena allocator, version
 *        and feature queries.
 *
 * Conventions used by every batchpoint header:
 * - Fallible functions return int: 0 on success, a negative ::bp_err value on failure.
 *   Functions that count return a value >= 0 on success. An error return means no callback
 *   or completion for that operation will follow.
 * - Codes at or below ::BP_ERR_FATAL leave the object unusable: only its _del is allowed.
 * - Strings are pointer + length unless the parameter is a name (then NUL-terminated).
 * - No function is variadic and no struct is passed or returned by value (FFI-safe).
 *
 * How structs grow. Every public struct the host fills and the library reads (bp_record,
 * bp_engine_opts, bp_invoke_result, bp_codec_opts, ...) starts with `uint32_t struct_size`:
 * set it with the type's `bp_X_init(&x, sizeof x)` (the size is the caller's: the library
 * writes exactly that many bytes, so a host built with older headers is safe) or its
 * BP_X_INIT initializer (in C, a designated initializer with `.struct_size = sizeof(bp_X)`
 * does too). Members are only
 * ever appended. The library refuses a struct_size of 0 or below the type's first published
 * size (::BP_ERR_INVALID_ARGUMENT, the message names the struct), reads the members an
 * older host's struct_size covers and takes the others as 0 (their default), and ignores
 * the tail of a struct_size larger than it knows (a newer host on an older library).
 * Arrays of host-filled structs are walked with each element's struct_size as the stride.
 * Structs the library fills for the host (requests, events, metrics, classification and
 * resolver results) also start with struct_size, set by the library, and end with a
 * `reserved` tail that the library zeroes: room for members appended later. When the host
 * passes such a struct as an out-parameter it sets struct_size first (bp_X_init()) and the
 * library writes only that many bytes. Tables of callbacks (::bp_transport, bp_store_ops)
 * grow differently: they carry a `version` number instead, because they hold functions,
 * not data, and a host names the version of the table it was compiled with. Three structs
 * are frozen: ::bp_allocator (copied at creation; a different allocator interface would be
 * a new type), ::bp_err_desc (rows of a static table) and ::bp_version_info (it has `age`).
 */
#ifndef BATCHPOINT_BP_COMMON_H
#define BATCHPOINT_BP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "bp_features.h"
#include "bp_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BP_STATIC)
#define BP_API
#elif defined(BP_BUILDING) && (defined(__GNUC__) || defined(__clang__))
#define BP_API __attribute__((visibility("default")))
#else
#define BP_API
#endif

/** The static initializer of a growable struct: its struct_size set, every other member 0
 *  (each type has its own BP_X_INIT built on this). */
#ifdef __cplusplus
#define BP_STRUCT_INIT(type) {sizeof(type)}
#else
#define BP_STRUCT_INIT(type) {.struct_size = sizeof(type)}
#endif

/** Lambda's synchronous invocation payload limit: 6 MB = 6,291,456 bytes (inclusive),
 *  measured on the encoded event. */
#define BP_MAX_EVENT_BYTES 6291456u

/** "No deadline": the value a deadline query returns when nothing is scheduled (INT64_MAX). */
#define BP_NO_DEADLINE 9223372036854775807LL

/**
 * Error codes. 0 is success; every error is negative. Range: -1 .. -99 recoverable,
 * -900 and below fatal for the object that returned it.
 */
typedef enum bp_err {
  BP_OK = 0,
  BP_ERR_INVALID_ARGUMENT = -1,  /**< a NULL, misaligned or out-of-range argument */
  BP_ERR_NOMEM = -2,             /**< the allocator returned NULL; the object is unchanged */
  BP_ERR_BUFFER_TOO_SMALL = -3,  /**< a caller buffer is too short for the result */
  BP_ERR_INVALID_SEQNUM = -4,    /**< not a decimal sequence number (digits, no leading 0) */
  BP_ERR_INVALID_UTF8 = -5,      /**< a string is not valid UTF-8 */
  BP_ERR_INVALID_BASE64 = -6,    /**< bad alphabet, bad padding or trailing data */
  BP_ERR_INVALID_JSON = -7,      /**< text that must be JSON is not (or not the right type) */
  BP_ERR_TOO_LARGE = -8,         /**< a size exceeds a documented limit */
  BP_ERR_RANGE = -9,             /**< a time or number outside the representable range */
  BP_ERR_CONFIG_UNKNOWN = -10,   /**< no configuration parameter by that name */
  BP_ERR_CONFIG_INVALID = -11,   /**< a parameter value AWS would reject (see the message) */
  BP_ERR_UNSUPPORTED = -12,      /**< the feature is not in this build (see bp_features.h) */
  BP_ERR_INVALID_STATE = -13,    /**< the call is not allowed in the object's current state */
  BP_ERR_WOULDBLOCK = -14,       /**< callback return: not now, ask again later */
  BP_ERR_IN_CALLBACK = -15,      /**< a driving call was made from inside a callback */
  BP_ERR_UNKNOWN_REQUEST = -16,  /**< a completion names no request in flight */
  BP_ERR_CANCELLED = -17,        /**< the operation was cancelled (object destroyed) */
  BP_ERR_INVALID_RECORD = -18,   /**< a record view fails validation (see the message) */
  BP_ERR_CORRUPT = -19,          /**< stored data fails its integrity check (bad magic, CRC,
                                      length or ids): never read as "no data" */
  BP_ERR_IO = -20,               /**< an operating-system I/O call failed (errno text in errmsg) */
  BP_ERR_BATCH_FAILED = -21,     /**< every record of a batch failed (bp_handler.h): the
                                      function reports an error; its response is still set */
  BP_ERR_FATAL = -900,           /**< threshold: codes <= this are fatal */
  BP_ERR_CALLBACK_FAILURE = -901,/**< a host callback failed; the object is unusable */
  BP_ERR_INTERNAL = -902         /**< an internal invariant broke (a bug: please report) */
} bp_err;

/** @return 1 if @p code is fatal (<= ::BP_ERR_FATAL), else 0. */
BP_API int bp_err_is_fatal(int code);

/** @return static English text for @p code; never NULL (unknown codes get a generic text). */
BP_API const char *bp_strerror(int code);

/** @return the code's name ("BP_ERR_NOMEM"), or "BP_ERR_UNKNOWN" for an unknown code. */
BP_API const char *bp_err_name(int code);

/** One row of the error table, for bindings that generate their enums. Frozen (rows of a
 *  static table; see "How structs grow"). */
typedef struct bp_err_desc {
  int code;            /**< the ::bp_err value */
  const char *name;    /**< "BP_ERR_NOMEM" */
  const char *message; /**< same text as bp_strerror(code) */
} bp_err_desc;

/**
 * The whole error table (static storage, valid for the life of the process).
 * @param tab out: first row. @param n out: number of rows.
 */
BP_API void bp_err_descs(const bp_err_desc **tab, size_t *n);

/**
 * Allocator hooks. Every object copies this struct at creation and never keeps the caller's
 * pointer. A NULL `bp_allocator *` (or a struct whose three functions are all NULL) means the
 * C library's malloc/realloc/free. The functions must be all set or all NULL. `realloc` with a
 * NULL pointer must behave like malloc; `free` must accept NULL. Frozen: no struct_size (a
 * different allocator interface would be a new type).
 */
typedef struct bp_allocator {
  void *(*malloc)(size_t size, void *ud);
  void *(*realloc)(void *ptr, size_t size, void *ud);
  void (*free)(void *ptr, void *ud);
  void *ud; /**< passed unchanged to each hook */
} bp_allocator;

/* ---- Arena: an allocator over a caller buffer (no malloc at all) ---- */

/** An arena that carves allocations out of a caller buffer. Opaque; lives inside the buffer. */
typedef struct bp_arena bp_arena;

/**
 * Set up an arena in @p buf and fill @p alloc_out with hooks that allocate from it.
 * The arena's own bookkeeping lives at the start of @p buf; the buffer must outlive every
 * object created with the returned allocator. First-fit with coalescing: freed memory is
 * reused, so an engine that creates and destroys parsers keeps a bounded footprint.
 * @param out       receives the arena handle (points into @p buf); NULL on failure.
 * @param buf       caller memory, aligned to _Alignof(max_align_t).
 * @param len       its length in bytes.
 * @param alloc_out receives the allocator hooks (ud = the arena).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL argument, misaligned @p buf, or a @p len no
 *         buffer can have: above PTRDIFF_MAX or past the end of the address space);
 *         ::BP_ERR_BUFFER_TOO_SMALL (@p len cannot hold the bookkeeping and one block).
 */
BP_API int bp_arena_init(bp_arena **out, void *buf, size_t len, bp_allocator *alloc_out);

/**
 * Usage figures of an arena, each optional (NULL to skip).
 * @param used bytes handed out now (payload + block headers).
 * @param high_water the largest @p used seen since init.
 * @param capacity bytes available for blocks.
 * @param failures allocation requests the arena could not satisfy.
 */
BP_API void bp_arena_stats(const bp_arena *arena, size_t *used, size_t *high_water,
                           size_t *capacity, size_t *failures);

/* ---- Version and build profile ---- */

/** Runtime version information. Frozen: `age` says its layout. */
typedef struct bp_version_info {
  int age;                    /**< layout version of this struct: 1 */
  int version_num;            /**< BP_VERSION_NUM of the linked library */
  const char *version_string; /**< BP_VERSION_STRING of the linked library */
} bp_version_info;

/** @return the linked library's BP_VERSION_NUM. */
BP_API int bp_version_num(void);
/** @return the linked library's BP_VERSION_STRING (static). */
BP_API const char *bp_version_string(void);
/**
 * @param least_num the oldest acceptable BP_VERSION_NUM (0 for any).
 * @return static version info, or NULL if the linked library is older than @p least_num.
 */
BP_API const bp_version_info *bp_version(int least_num);

/**
 * @param name "CODEC", "FILE_STORE" or "STDIO" (NUL-terminated, case-sensitive).
 * @return 1 if the feature is compiled in, 0 if not or the name is unknown.
 */
BP_API int bp_feature_enabled(const char *name);

#ifdef __cplusplus
}
#endif

#endif
