/* SPDX-License-Identifier: MIT */
/*
 * Internals of the FilterCriteria module, shared by bp_filter.c (object, record view),
 * bp_filter_compile.c (pattern -> conditions and sub-rules), bp_filter_value.c (value
 * matchers: numbers, IP addresses, case folding, wildcards) and bp_filter_match.c (the
 * streaming matcher and the array-consistency search).
 *
 * Model (event-ruler's): a pattern compiles to conditions (a path plus the OR-ed matchers of
 * one value list) and to sub-rules (the `$or` expansion: sets of conditions, AND-ed, kept in
 * Java string order of their paths because exists:false is judged against the array
 * positions chosen for the paths sorted before it). The event is one pass of (path, leaf)
 * pairs; every leaf that satisfies a condition is recorded with its array membership.
 *
 * Codec layer: included by bp_filter*.c only.
 */
#ifndef BP_FILTER_INT_H
#define BP_FILTER_INT_H

#include "bp_json_int.h"
#include "batchpoint/bp_filter.h"

/* ---- Matchers ---- */

enum {
  BP__FM_EXACT_STR,  /* string equals pool[str, len) */
  BP__FM_EXACT_RAW,  /* number/null/true/false whose token text equals pool[str, len) */
  BP__FM_NUM_EQ,     /* comparable number equal to lo */
  BP__FM_RANGE,      /* comparable number within lo..hi */
  BP__FM_IP,         /* string holding an IP address within ip_lo..ip_hi (ip_len bytes) */
  BP__FM_PREFIX,     /* string starts with pool[str, len) */
  BP__FM_SUFFIX,     /* string ends with pool[str, len) */
  BP__FM_PREFIX_EIC, /* case alternatives (bp__feic encoding) match a prefix */
  BP__FM_SUFFIX_EIC, /* ... a suffix (encoded last character first) */
  BP__FM_EIC,        /* ... the whole string */
  BP__FM_WILDCARD,   /* bp__fwild encoding matches the whole string */
  BP__FM_EXISTS,     /* any leaf */
  BP__FM_AB_STR,     /* anything-but: strings (a set of len items) */
  BP__FM_AB_NUM,     /* anything-but: numbers (len doubles) */
  BP__FM_AB_PREFIX,  /* anything-but prefix set */
  BP__FM_AB_SUFFIX,  /* anything-but suffix set */
  BP__FM_AB_EIC,     /* anything-but equals-ignore-case set (bp__feic items) */
  BP__FM_AB_WILDCARD /* anything-but wildcard set (bp__fwild items) */
};

typedef struct bp__fmatch {
  uint8_t kind;
  uint8_t lo_open, hi_open; /* BP__FM_RANGE: strict bounds */
  uint8_t has_lo, has_hi;   /* BP__FM_RANGE: bounded sides */
  uint8_t ip_len;           /* BP__FM_IP: 4 or 16 */
  uint32_t str;             /* pool offset of the operand (or of the first set item) */
  uint32_t len;             /* its byte length, or the set's item count */
  double lo, hi;
  uint8_t ip_lo[16], ip_hi[16];
} bp__fmatch;

/*
 * Pool encodings (all lengths are 4-byte little-endian-agnostic memcpy'd uint32):
 * - set item: u32 n, then n bytes (AB_STR/AB_PREFIX/AB_SUFFIX: the string; AB_EIC: a feic;
 *   AB_WILDCARD: a fwild); AB_NUM: the doubles back to back.
 * - feic: per character (u8 a, a bytes, u8 b, b bytes): its lower- and upper-case UTF-8
 *   forms (b = 0 when both are the same).
 * - fwild: u32 nseg, then nseg x (u32 n, n bytes): the literal segments between wildcards.
 */

/* ---- Conditions and sub-rules ---- */

typedef struct bp__fcond {
  uint32_t pattern; /* index of its pattern */
  uint32_t path;    /* pool offset of the path (keys joined with '.') */
  uint32_t path_len;
  uint32_t first; /* its matchers: m[first, first + count) */
  uint32_t count;
  uint32_t slot;      /* path slot after the index is built */
  uint8_t absence;    /* the list holds {"exists": false} */
  uint8_t referenced; /* some sub-rule uses it (not overridden by a later duplicate) */
} bp__fcond;

typedef struct bp__fsub {
  uint32_t pattern;
  uint32_t first; /* condition ids: sc[first, first + count), in Java path order */
  uint32_t count;
  int32_t last_absence; /* position of the last condition with an absence alternative, -1 */
} bp__fsub;

/* Byte trie over the referenced paths; node 0 is the empty path. */
#define BP__FT_NONE 0u
#define BP__FT_DEAD UINT32_MAX
typedef struct bp__ftrie {
  uint32_t child;   /* first child, BP__FT_NONE */
  uint32_t sibling; /* next sibling, BP__FT_NONE */
  uint32_t dot;     /* the child for '.', BP__FT_NONE */
  int32_t slot;     /* path slot ending here, -1 */
  uint32_t seg_first; /* a key's start node (the root, a '.' node): its segments are */
  uint32_t seg_count; /* seg[seg_first, seg_first + seg_count) */
  uint8_t byte;
} bp__ftrie;

/* A segment: the bytes (no '.') from a key's start node to a node where a path ends or a
 * '.' follows, so a key spelling them exactly leads there (bp__filter_key_node's fast way). */
typedef struct bp__fseg {
  uint32_t start; /* its start node */
  uint32_t node;
  uint32_t off; /* pool offset of its bytes (in some condition's path) */
  uint32_t len;
} bp__fseg;

typedef struct bp__fslot {
  uint32_t first; /* condition ids: slot_conds[first, first + count) */
  uint32_t count;
  uint8_t track; /* some condition here has an absence alternative: record every leaf */
} bp__fslot;

/* The members of the Kinesis record view (bp_filter.c), their trie nodes kept by the index. */
enum {
  BP__FV_KINESIS, /* top level */
  BP__FV_EVENT_SOURCE,
  BP__FV_EVENT_VERSION,
  BP__FV_EVENT_ID,
  BP__FV_EVENT_NAME,
  BP__FV_INVOKE_ARN,
  BP__FV_REGION,
  BP__FV_SOURCE_ARN,
  BP__FV_SCHEMA, /* in `kinesis` */
  BP__FV_PARTITION_KEY,
  BP__FV_SEQ,
  BP__FV_DATA,
  BP__FV_ARRIVAL,
  BP__FV_ENCRYPTION,
  BP__FV_COUNT
};

/* ---- Per-event state ---- */

/* Leaves recorded for one condition (hits) or one tracked path (occurrences). */
typedef struct bp__frec {
  uint32_t gen;  /* event generation; stale when != the filter's */
  int32_t head;  /* list of refs with an array membership, -1 */
  int32_t last;  /* membership node of the last ref (consecutive duplicates are skipped) */
  uint8_t free_; /* a leaf outside every array (or only in arrays of scalars) */
} bp__frec;

typedef struct bp__fref {
  int32_t node;
  int32_t next;
} bp__fref;

/* One element (object or array) of an array of containers: event-ruler's array membership
 * is the chain of these from a leaf to the root. */
typedef struct bp__fnode {
  int32_t parent; /* -1: outside every array */
  uint32_t arr;   /* the array's id (one per array in the event) */
  uint32_t depth; /* 1 + parent's depth */
} bp__fnode;

enum { BP__FL_OBJ, BP__FL_ARR };

typedef struct bp__flevel {
  uint8_t kind;
  uint8_t root;                     /* the event's top-level object: keys walk without a '.' */
  uint8_t element;                  /* this container is an element of an array: it made a node */
  uint32_t trie;                    /* trie node of this container's path */
  uint32_t key;                     /* BP__FL_OBJ: trie node of the current key, BP__FT_DEAD */
  int32_t memb;                     /* membership node of leaves directly inside, -1 */
  uint32_t arr, index;              /* BP__FL_ARR: array id, elements so far */
  uint32_t saved_nodes, saved_refs; /* element: undo marks for nodes nobody refers to */
} bp__flevel;

/* ---- The object ---- */

struct bp_filter {
  bp_allocator alloc;
  bp__errmsg err;
  uint32_t flags;
  bp__json_pool json;
  int npatterns;
  uint8_t pat_data[BP_FILTER_MAX_PATTERNS];  /* pattern references top-level `data` */
  uint32_t pat_sub[BP_FILTER_MAX_PATTERNS];  /* first sub-rule of each pattern */
  uint32_t pat_nsub[BP_FILTER_MAX_PATTERNS]; /* and how many */

  /* Compiled patterns (all of them, appended pattern by pattern). */
  bp__buf pool;
  bp__fmatch *m;
  size_t nm, m_cap;
  bp__fcond *c;
  size_t nc, c_cap;
  bp__fsub *s;
  size_t ns, s_cap;
  uint32_t *sc;
  size_t nsc, sc_cap;

  /* Index over the referenced conditions, rebuilt after each pattern. */
  bp__ftrie *trie;
  size_t ntrie, trie_cap;
  bp__fseg *seg; /* grouped by start node */
  size_t nseg, seg_cap;
  bp__fslot *slot;
  size_t nslot, slot_cap;
  uint32_t *slot_conds;
  size_t nslot_conds, slot_conds_cap;
  uint32_t *steps; /* event-ruler's "used field steps": pool offsets of the '.'-split
                      segments of every path (Java split), sorted; (offset, length) pairs */
  size_t nsteps, steps_cap;
  int uses_data;          /* some pattern references top-level `data` */
  int needs_record;       /* some condition path is not under top-level `data` */
  int needs_kinesis_data; /* some condition sits on `kinesis.data` itself */
  uint32_t view_key[BP__FV_COUNT]; /* trie node of each view member's key, BP__FT_DEAD */
  uint32_t view_tested;            /* bit i: some condition tests view member i */

  /* Per-event state (grown, never shrunk). */
  uint32_t gen;
  bp__frec *crec; /* one per condition */
  size_t crec_cap;
  bp__frec *srec; /* one per slot */
  size_t srec_cap;
  bp__fref *refs;
  size_t nrefs, refs_cap;
  bp__fnode *nodes;
  size_t nnodes, nodes_cap;
  bp__flevel *lv;
  size_t nlv, lv_cap;
  uint32_t next_arr;
  size_t dead;       /* depth inside a subtree no path reaches */
  int constrained;   /* some hit or occurrence lies in an array of containers */
  int oom;           /* a per-event buffer could not grow */
  int not_object;    /* the event text is not an object */
  size_t text_depth; /* container depth within the text being parsed */
  int members_mode;  /* the text's top-level object is the event's root */

  bp__buf scratch; /* encoded DynamoDB record; Kinesis base64 data or eventID */
  bp__buf payload; /* decoded Kinesis payload */
  bp__buf unesc;   /* the event's escaped string being decoded (bp__json_scan) */
};

/* ---- Growing arrays ---- */

/** Make room for @p need elements of @p size in *p (capacity *cap). @return 0 or NOMEM. */
int bp__filter_grow(const bp_allocator *a, void **p, size_t *cap, size_t need, size_t size);

/* ---- Value helpers (bp_filter_value.c) ---- */

/** A JSON number token as event-ruler's ComparableNumber sees it: @return 1 and *d if the
 *  token's decimal value is exactly that of the shortest representation of its nearest
 *  double (finite; -0 reads as 0), else 0. */
int bp__filter_comparable(const char *s, size_t n, double *d);

/** Java's InetAddress literal parsing behind event-ruler's CIDR: @return 4 or 16 (bytes in
 *  @p out; IPv4-mapped IPv6 becomes 4), 0 if @p s is not an IP address literal, -1 if it
 *  looks like one (passes event-ruler's regex) but does not parse. */
int bp__filter_ip_parse(const char *s, size_t n, uint8_t out[16]);

/** Case forms of a BMP code point (bp_filter_case.c): writes the lower-case form
 *  (*nlower code points) and the upper-case form; @return the upper form's length. */
size_t bp__filter_case(uint32_t cp, uint32_t lower[3], size_t *nlower, uint32_t upper[3]);

/** Append the case alternatives of UTF-8 [s, s+n) (feic encoding), characters in reverse
 *  order when @p reverse. @return 0 or NOMEM. */
int bp__filter_eic_encode(bp__buf *pool, const char *s, size_t n, int reverse);
/** Match a feic encoding against [s, s+n): @p mode 0 whole, 1 prefix, 2 suffix. */
int bp__filter_eic_match(const uint8_t *enc, size_t enc_len, const char *s, size_t n, int mode);

/** Parse a wildcard operand (event-ruler's WildcardParser over the quoted value).
 *  @return 0, or -1 with @p msg filled ("Consecutive wildcard characters at pos N", ...). */
int bp__filter_wild_check(const char *s, size_t n, char *msg, size_t msg_len);
/** Append the fwild encoding of a checked operand. @return 0 or NOMEM. */
int bp__filter_wild_encode(bp__buf *pool, const char *s, size_t n);
int bp__filter_wild_match(const uint8_t *enc, const char *s, size_t n);
/** Byte length of the fwild encoding at @p enc. */
size_t bp__filter_wild_size(const uint8_t *enc);
/** EventBridge's "rule too complex" measure over the wildcard operands (fwild encodings) of
 *  one path: the most NFA states one input can keep active, capped at @p cap (<= 15).
 *  @return the measure, or BP_ERR_NOMEM. */
int bp__filter_wild_complexity(const bp_allocator *a, const uint8_t *const *encs, size_t n,
                               int cap);

/** Java String.compareTo order of two UTF-8 strings (UTF-16 code unit order). */
int bp__filter_java_cmp(const char *a, size_t an, const char *b, size_t bn);

/* ---- Compile (bp_filter_compile.c, bp_filter_syntax.c) ---- */

/** Word the first syntax error of a pattern text that yajl rejected, as Jackson would
 *  (event-ruler's reason text) into @p msg, with its byte offset in *at.
 *  @return 1, or 0 if the scan finds the text to be JSON after all. */
int bp__filter_syntax_message(const char *text, size_t n, char *msg, size_t msg_len, size_t *at);

/** Compile one pattern text as pattern number f->npatterns, appending to the compiled arrays.
 *  On error the arrays may hold partial data: the caller truncates them.
 *  @return 0; BP_ERR_CONFIG_INVALID; BP_ERR_NOMEM. */
int bp__filter_compile(bp_filter *f, const char *text, size_t len);

/* ---- Matching (bp_filter_match.c) ---- */

/** Rebuild the trie and slots over every referenced condition (and the view's key nodes).
 *  @return 0 or NOMEM. */
int bp__filter_index(bp_filter *f);
/** The trie node an object key leads to from its object's node @p parent (@p root: the
 *  event's top level), as a parse would find it: BP__FT_DEAD when no path goes on. */
uint32_t bp__filter_key_node(const bp_filter *f, uint32_t parent, int root, const char *k,
                             size_t n);
/** The same by walking the trie byte by byte (the general way bp__filter_key_node takes
 *  when its segments neither match nor rule the key out). */
uint32_t bp__filter_key_walk(const bp_filter *f, uint32_t parent, int root, const char *k,
                             size_t n);
/** Fill f->view_key (bp_filter.c), once the index is built. */
void bp__filter_view_index(bp_filter *f);
/** Start an event (new generation, empty root object). @return 0 or NOMEM. */
int bp__filter_begin(bp_filter *f);
/** Feed a JSON object text whose members are the root's members. */
int bp__filter_feed_members(bp_filter *f, const char *text, size_t n);
/** Feed a JSON text as the value of the root member @p key. */
int bp__filter_feed_value(bp_filter *f, const char *key, size_t key_len, const char *text,
                          size_t n);
/** Test a scalar of the event that no array holds, at trie node @p node (a
 *  bp__filter_key_node() result; BP__FT_DEAD or a node without conditions: nothing), as
 *  parsing it there would: a string (its decoded bytes) or a number (its JSON text).
 *  Records the hits of the current event (after bp__filter_begin). */
void bp__filter_leaf_string(bp_filter *f, uint32_t node, const char *s, size_t n);
void bp__filter_leaf_number(bp_filter *f, uint32_t node, const char *s, size_t n);
/** Evaluate the patterns over what was fed. @return 1 match, 0 none, or BP_ERR_NOMEM. */
int bp__filter_eval(bp_filter *f);

#endif
