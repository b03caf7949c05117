/* SPDX-License-Identifier: MIT */
/**
 * @file bp_filter.h
 * @brief FilterCriteria (BP_WITH_CODEC): compile Lambda event-filtering patterns once, then
 *        match JSON events and stream records against them.
 *
 * The language is the EventBridge event-pattern language as implemented by aws/event-ruler
 * (FILTERS.md): exact strings, numbers (by literal and by value: `[300]` matches 300,
 * 300.0 and 3.0e2), null, booleans, prefix, suffix, equals-ignore-case, anything-but (value,
 * list, prefix, suffix, equals-ignore-case, wildcard), numeric comparisons and ranges, exists
 * (leaf semantics), cidr (IPv4/IPv6), wildcard, exactly, `$or`, dotted keys, and array
 * consistency (conditions reaching into objects of one array must be met by one element).
 * Duplicate keys in a pattern text: the last occurrence of a path wins, as in event-ruler.
 *
 * The patterns of one filter are OR-ed: an event matches when at least one pattern matches.
 * A filter with no pattern matches every event (no FilterCriteria).
 *
 * What a pattern is evaluated against for a stream record (SEMANTICS.md §7.2, "filter view"):
 * the record exactly as bp_codec encodes it for delivery; for Kinesis plus a top-level member
 * `data` holding the base64-decoded payload parsed as JSON. The payload is decoded and parsed
 * only when some pattern references top-level `data`; if it is then not JSON the record is
 * dropped (::BP_FILTER_DROPPED), whatever the other patterns say (SEMANTICS.md §7.3).
 *
 * Cost: patterns are compiled by bp_filter_add(); matching makes one streaming pass over the
 * event text, skips every subtree no pattern can reach, and allocates nothing once its
 * internal buffers have grown to the largest event seen. Array consistency is decided by a
 * search that is immediate unless the event has arrays of objects that several conditions
 * reach into (the general problem is NP-complete; event-ruler searches as well).
 *
 * Also as in event-ruler (and so EventBridge): exists:false is judged against the array
 * elements chosen for the paths sorted before it; an event key is skipped unless its
 * '.'-separated parts all occur in some pattern path (so `{"a":{"":[..]}}`, path "a.", sees
 * the event key "a." but not `{"a":{"":..}}`); EventBridge's wildcard "Rule is too complex"
 * limit is applied per path (event-ruler's complexity measure, limit 10: 7 is accepted on
 * record, 11 rejected).
 *
 * Not reproduced from event-ruler (deliberately):
 * - trailing text after the pattern object is rejected (Jackson ignores it);
 * - cidr and IP-address strings match only string values holding an IP address of the same
 *   family, compared in full (event-ruler's digit trie decides on a prefix, so there
 *   `0.0.0.0/0` also matches the number 1.0 and an IPv6 address can fall into an IPv4 range);
 * - array consistency is event-ruler's ACFinder semantics (its matcher before 2.0, still
 *   selectable in 2.x): 2.0's default StructuredFinder ignores the values of a path that lie
 *   outside a constrained array as soon as some lie inside it;
 * - every sub-pattern is judged on its own, deterministically: event-ruler 2.0.1 misses some
 *   matches its rules call for (a wildcard beside an anything-but/equals-ignore-case in one
 *   value list; some `$or` sub-patterns sharing keys) and answers a few inputs differently
 *   from run to run (HashSet order);
 * - equals-ignore-case compares characters outside the Basic Multilingual Plane exactly
 *   (event-ruler turns each half of a surrogate pair into "?");
 * - an empty list inside an anything-but object (`{"anything-but":{"prefix":[]}}`) is
 *   rejected (event-ruler accepts it and then fails to build the rule);
 * - patterns nested deeper than 256 levels are rejected, and so is a pattern whose `$or`
 *   groups expand to more than ::BP_FILTER_MAX_COMBINATIONS sub-patterns.
 *
 * A filter is used by one thread at a time.
 */
#ifndef BATCHPOINT_BP_FILTER_H
#define BATCHPOINT_BP_FILTER_H

#include "bp_common.h"
#include "bp_codec.h"

#if BP_WITH_CODEC

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of bp_filter_new(). */
/** Reject the operators Lambda's documentation does not list (FILTERS.md §4.11,
 *  SEMANTICS.md §7.2): anything-but with an object (prefix, suffix, equals-ignore-case,
 *  wildcard), wildcard, cidr, prefix/suffix with equals-ignore-case, and exactly. */
#define BP_FILTER_STRICT_LAMBDA 0x1u

/** Most patterns one filter holds (the raised FilterCriteria quota). */
#define BP_FILTER_MAX_PATTERNS 10

/** Most sub-patterns the `$or` groups of one pattern may expand to. */
#define BP_FILTER_MAX_COMBINATIONS 1024

/** Results of bp_filter_match_record(); anything but BP_FILTER_MATCH is filtered out. */
#define BP_FILTER_NO_MATCH 0 /**< no pattern matches */
#define BP_FILTER_MATCH 1    /**< at least one pattern matches: deliver the record */
#define BP_FILTER_DROPPED                                       \
  2 /**< Kinesis payload is not JSON while a pattern references \
         top-level `data`: dropped without evaluating */

typedef struct bp_filter bp_filter;

/**
 * Create an empty filter (it matches everything until a pattern is added).
 * @param out receives the filter; NULL on failure.
 * @param flags 0 for the full event-ruler language, or ::BP_FILTER_STRICT_LAMBDA.
 * @param alloc allocator hooks (copied), NULL for libc; yajl's memory goes through them too.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p out, unknown flag bits, half-set
 *         allocator); ::BP_ERR_NOMEM.
 */
BP_API int bp_filter_new(bp_filter **out, uint32_t flags, const bp_allocator *alloc);

/** Destroy a filter (NULL is fine). */
BP_API void bp_filter_del(bp_filter *filter);

/**
 * @return the filter's last error message ("" if the last call succeeded); valid until the
 *         next call on the filter. For a rejected pattern it is event-ruler's reason text
 *         (what EventBridge prints after "Event pattern is not valid. Reason: "); Lambda
 *         itself only says "Invalid filter pattern definition.".
 */
BP_API const char *bp_filter_errmsg(const bp_filter *filter);

/**
 * @return the byte offset in the pattern text where a JSON syntax error was found by the
 *         last bp_filter_add(), or SIZE_MAX when the last error was not a syntax error.
 */
BP_API size_t bp_filter_error_offset(const bp_filter *filter);

/**
 * Compile one pattern (the `Pattern` string of a FilterCriteria filter, as sent to AWS) and
 * add it. On any error the filter is unchanged.
 * @param pattern UTF-8 JSON text of @p len bytes (borrowed for the call; need not be
 *        NUL-terminated).
 * @return 0; ::BP_ERR_CONFIG_INVALID (the pattern is invalid: bp_filter_errmsg() gives the
 *         reason); ::BP_ERR_TOO_LARGE (already ::BP_FILTER_MAX_PATTERNS patterns, or @p len
 *         above 16 MiB, refused before the pattern is read);
 *         ::BP_ERR_INVALID_ARGUMENT (NULL filter, NULL @p pattern with @p len > 0);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_filter_add(bp_filter *filter, const char *pattern, size_t len);

/** @return the number of patterns (0 for a NULL filter). */
BP_API int bp_filter_count(const bp_filter *filter);

/**
 * @return 1 if some pattern references top-level `data` (so bp_filter_match_record() decodes
 *         and parses Kinesis payloads, and drops those that are not JSON), else 0.
 */
BP_API int bp_filter_uses_data(const bp_filter *filter);

/**
 * Match a JSON event (one JSON object; the filter view itself, nothing is decoded).
 * @param json UTF-8 JSON text of @p len bytes (borrowed for the call).
 * @param matched out: 1 if some pattern matches (or the filter is empty), else 0.
 * @return 0; ::BP_ERR_INVALID_JSON (not exactly one JSON object; *matched is 0);
 *         ::BP_ERR_INVALID_ARGUMENT (NULL filter or @p matched, NULL @p json with @p len > 0,
 *         @p len above PTRDIFF_MAX: refused before the text is read);
 *         ::BP_ERR_NOMEM (*matched is 0).
 */
BP_API int bp_filter_match_json(bp_filter *filter, const char *json, size_t len, int *matched);

/**
 * Match one stream record through its filter view (see the file comment).
 * @param codec the mapping's codec: its source (Kinesis or DynamoDB) and the strings every
 *        record carries (ARN, region, role) define the view. The codec is used for the call
 *        (its errmsg may change) and not kept.
 * @param shard_id the record's shard (NUL-terminated); required for Kinesis (eventID), may
 *        be NULL for DynamoDB.
 * @param rec the record view, validated as by bp_codec_record_size() when the record itself is
 *        needed (a filter whose patterns all reference only Kinesis `data` reads the payload
 *        alone).
 * @param result out: ::BP_FILTER_MATCH, ::BP_FILTER_NO_MATCH or ::BP_FILTER_DROPPED.
 * @return 0; ::BP_ERR_INVALID_RECORD, ::BP_ERR_INVALID_UTF8 (the record fails the codec's
 *         validation: the message says why); ::BP_ERR_INVALID_BASE64 (a payload flagged
 *         ::BP_RECORD_DATA_BASE64 is not strict base64); ::BP_ERR_INVALID_ARGUMENT (NULL
 *         filter, codec, rec or result, NULL shard_id for Kinesis); ::BP_ERR_NOMEM. On an error
 *         *result is ::BP_FILTER_NO_MATCH.
 */
BP_API int bp_filter_match_record(bp_filter *filter, bp_codec *codec, const char *shard_id,
                                  const bp_record *rec, int *result);

#ifdef __cplusplus
}
#endif

#endif /* BP_WITH_CODEC */

#endif
