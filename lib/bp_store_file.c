/* SPDX-License-Identifier: MIT */
/* The embedded file store: one crash-safe file per (mapping, shard), compiled only when
 * BP_WITH_FILE_STORE is 1 (it needs POSIX files). */
#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_seqnum.h"
#include "batchpoint/bp_store.h"
#include "bp_store_int.h"

#if BP_WITH_FILE_STORE

/* ---- The file store ---- */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define BP__FS_VERSION 1
/* Longest file name (temporary suffix excluded); longer readable names are hashed. */
#define BP__FS_NAME_MAX 200
#define BP__FS_TMP_SUFFIX ".tmp"
/* "crc32 " + 8 hex digits + "\n" */
#define BP__FS_CRC_LINE 15
/* "BPCK 1 1024 1024 128\n" is 21 bytes; room to spare. */
#define BP__FS_HEAD_MAX 48
#define BP__FS_FILE_MAX \
  (BP__FS_HEAD_MAX + 2 * BP_STORE_MAX_ID_LEN + BP_MAX_SEQNUM_DIGITS + 3 + BP__FS_CRC_LINE)

struct bp_file_store {
  bp_allocator alloc;
  int dirfd;   /* the directory, open for the store's life: *at() calls and its fsync */
  char *dir;   /* its path, for messages (in this block) */
  char *buf;   /* BP__FS_FILE_MAX + 1 bytes of file content (in this block) */
  bp__errmsg err;
  char name[BP__FS_NAME_MAX + 1];
  char tmp[BP__FS_NAME_MAX + sizeof BP__FS_TMP_SUFFIX];
};

/* ---- CRC-32 (IEEE 802.3, reflected, as zlib's crc32), four bits at a time ---- */

static uint32_t fs_crc32(const char *p, size_t n) {
  static const uint32_t nibble[16] = {
      0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
      0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
      0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= (unsigned char)p[i];
    c = (c >> 4) ^ nibble[c & 15];
    c = (c >> 4) ^ nibble[c & 15];
  }
  return c ^ 0xFFFFFFFFu;
}

/* ---- File names ---- */

static int fs_plain(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

static size_t fs_escaped_len(const char *id, size_t n) {
  size_t len = 0;
  for (size_t i = 0; i < n; i++) len += fs_plain((unsigned char)id[i]) ? 1 : 3;
  return len;
}

static char *fs_escape(char *o, const char *id, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (fs_plain(c)) {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  return o;
}

static uint64_t fs_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* FNV-1a over (mapping length, mapping, shard), forwards or backwards, from @p h. */
static uint64_t fs_hash(uint64_t h, int backwards, const char *m, size_t mn, const char *s,
                        size_t sn) {
  const uint64_t prime = UINT64_C(0x100000001B3);
  size_t total = 2 + mn + sn;
  for (size_t k = 0; k < total; k++) {
    size_t i = backwards ? total - 1 - k : k;
    unsigned char c;
    if (i < 2) c = (unsigned char)(mn >> (8 * i));
    else if (i < 2 + mn) c = (unsigned char)m[i - 2];
    else c = (unsigned char)s[i - 2 - mn];
    h = (h ^ c) * prime;
  }
  return fs_mix(h);
}

/* fs->name = "bp.<esc mapping>+<esc shard>.ckpt", or "bp.h.<hash>.ckpt" when that is longer
 * than BP__FS_NAME_MAX; fs->tmp = name + ".tmp". Escaped ids never hold '+', hashed names
 * never hold '+': distinct ids give distinct readable names, never a hashed one. */
static void fs_make_names(bp_file_store *fs, const char *m, size_t mn, const char *s,
                          size_t sn) {
  size_t len = 3 + fs_escaped_len(m, mn) + 1 + fs_escaped_len(s, sn) + 5;
  char *o = fs->name;
  if (len <= BP__FS_NAME_MAX) {
    memcpy(o, "bp.", 3);
    o = fs_escape(o + 3, m, mn);
    *o++ = '+';
    o = fs_escape(o, s, sn);
  } else {
    uint64_t h1 = fs_hash(UINT64_C(0xCBF29CE484222325), 0, m, mn, s, sn);
    uint64_t h2 = fs_hash(UINT64_C(0x84222325CBF29CE4), 1, m, mn, s, sn);
    snprintf(o, BP__FS_NAME_MAX, "bp.h.%016llx%016llx", (unsigned long long)h1,
             (unsigned long long)h2);
    o += strlen(o);
  }
  memcpy(o, ".ckpt", 6);
  len = (size_t)(o - fs->name) + 5;
  memcpy(fs->tmp, fs->name, len);
  memcpy(fs->tmp + len, BP__FS_TMP_SUFFIX, sizeof BP__FS_TMP_SUFFIX);
}

/* ---- File content ---- */

static size_t fs_format(char *buf, const char *m, size_t mn, const char *s, size_t sn,
                        const char *seq, size_t qn) {
  int h = snprintf(buf, BP__FS_HEAD_MAX, "BPCK %d %zu %zu %zu\n", BP__FS_VERSION, mn, sn, qn);
  size_t len = (size_t)h;
  memcpy(buf + len, m, mn);
  len += mn;
  buf[len++] = '\n';
  memcpy(buf + len, s, sn);
  len += sn;
  buf[len++] = '\n';
  memcpy(buf + len, seq, qn);
  len += qn;
  buf[len++] = '\n';
  /* The buffer has BP__FS_FILE_MAX + 1 bytes: room for the line and snprintf's NUL. */
  snprintf(buf + len, BP__FS_CRC_LINE + 1, "crc32 %08lx\n", (unsigned long)fs_crc32(buf, len));
  return len + BP__FS_CRC_LINE;
}

/* A decimal number of 1..5 digits without a leading zero, then @p sep; advances *p past both.
 * -1: no such number; -2: the number (in *out) is not followed by @p sep. */
static int fs_number(const char **p, const char *end, char sep, size_t *out) {
  const char *q = *p;
  size_t v = 0, digits = 0;
  while (q < end && *q >= '0' && *q <= '9' && digits < 6) {
    v = v * 10 + (size_t)(*q - '0');
    digits++;
    q++;
  }
  if (digits == 0 || digits > 5 || (digits > 1 && **p == '0')) return -1;
  *out = v;
  if (q >= end || *q != sep) return -2;
  *p = q + 1;
  return 0;
}

static int fs_hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int fs_corrupt(bp_file_store *fs, const char *why) {
  return bp__error(&fs->err, BP_ERR_CORRUPT, "checkpoint file '%.100s/%.100s' %s", fs->dir,
                   fs->name, why);
}

static int fs_parse(bp_file_store *fs, size_t len, const char *m, size_t mn, const char *s,
                    size_t sn, char *seq_out, size_t seq_cap, size_t *seq_len) {
  const char *buf = fs->buf;
  if (len == 0) return fs_corrupt(fs, "is empty");
  if (len > BP__FS_FILE_MAX) return fs_corrupt(fs, "is larger than any checkpoint file");
  if (len < BP__FS_CRC_LINE + 1) return fs_corrupt(fs, "is truncated");

  /* The CRC first: every later field is trusted only once it matches. */
  const char *tail = buf + len - BP__FS_CRC_LINE;
  uint32_t stored = 0;
  if (memcmp(tail, "crc32 ", 6) != 0 || tail[14] != '\n')
    return fs_corrupt(fs, "has no CRC line (truncated or damaged)");
  for (int i = 6; i < 14; i++) {
    int v = fs_hexval(tail[i]);
    if (v < 0) return fs_corrupt(fs, "has no CRC line (truncated or damaged)");
    stored = (stored << 4) | (uint32_t)v;
  }
  size_t body = len - BP__FS_CRC_LINE;
  uint32_t computed = fs_crc32(buf, body);
  if (stored != computed)
    return bp__error(&fs->err, BP_ERR_CORRUPT,
                     "checkpoint file '%.100s/%.100s' fails its CRC (stored %08lx, computed "
                     "%08lx)",
                     fs->dir, fs->name, (unsigned long)stored, (unsigned long)computed);

  const char *p = buf, *end = buf + body;
  size_t version, fm, fsn, fq;
  if (body < 5 || memcmp(p, "BPCK ", 5) != 0) return fs_corrupt(fs, "has a bad magic");
  p += 5;
  int vr = fs_number(&p, end, ' ', &version);
  if (vr == -1) return fs_corrupt(fs, "has a bad header");
  if (version != BP__FS_VERSION) /* a later format may lay out the rest differently */
    return bp__error(&fs->err, BP_ERR_UNSUPPORTED,
                     "checkpoint file '%.100s/%.100s' has format version %zu (this library "
                     "reads %d)",
                     fs->dir, fs->name, version, BP__FS_VERSION);
  if (vr != 0 || fs_number(&p, end, ' ', &fm) != 0 || fs_number(&p, end, ' ', &fsn) != 0 ||
      fs_number(&p, end, '\n', &fq) != 0)
    return fs_corrupt(fs, "has a bad header");
  if ((size_t)(end - p) != fm + 1 + fsn + 1 + fq + 1 || p[fm] != '\n' ||
      p[fm + 1 + fsn] != '\n' || end[-1] != '\n')
    return fs_corrupt(fs, "has field lengths that do not match its size");
  if (fm != mn || memcmp(p, m, mn) != 0 || fsn != sn || memcmp(p + fm + 1, s, sn) != 0)
    return fs_corrupt(fs, "belongs to another mapping or shard");
  const char *seq = p + fm + 1 + fsn + 1;
  if (bp_seqnum_validate(seq, fq) != 0)
    return fs_corrupt(fs, "does not hold a valid sequence number");
  if (fq > seq_cap)
    return bp__error(&fs->err, BP_ERR_BUFFER_TOO_SMALL,
                     "checkpoint of %zu digits does not fit in %zu bytes", fq, seq_cap);
  memcpy(seq_out, seq, fq);
  *seq_len = fq;
  return 0;
}

/* ---- System calls: EINTR, short writes, errno text ---- */

static int fs_io_error(bp_file_store *fs, int e, const char *what, const char *name) {
  char text[128];
  if (strerror_r(e, text, sizeof text) != 0) snprintf(text, sizeof text, "errno %d", e);
  return bp__error(&fs->err, BP_ERR_IO, "%s '%.100s/%.100s': %s", what, fs->dir, name, text);
}

static int fs_openat(int dirfd, const char *name, int flags, mode_t mode) {
  int fd;
  do fd = openat(dirfd, name, flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

static int fs_write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (w == 0) {
      errno = EIO;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int fs_read_all(int fd, char *p, size_t cap, size_t *got) {
  size_t n = 0;
  while (n < cap) {
    ssize_t r = read(fd, p + n, cap - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *got = n;
  return 0;
}

static int fs_fsync(int fd) {
  int r;
  do r = fsync(fd);
  while (r != 0 && errno == EINTR);
  return r;
}

/* A name that is missing: not found, unless the directory itself has been removed. */
static int fs_missing(bp_file_store *fs) {
  struct stat st;
  if (fstat(fs->dirfd, &st) == 0 && st.st_nlink == 0)
    return bp__error(&fs->err, BP_ERR_IO, "checkpoint directory '%.200s' has been removed",
                     fs->dir);
  return BP_STORE_NOT_FOUND;
}

static int fs_begin(bp_file_store *fs, const char *m, const char *s, size_t *mn, size_t *sn) {
  bp__errmsg_clear(&fs->err);
  const char *why = bp__store_id_problem(m, mn);
  if (why)
    return bp__error(&fs->err, BP_ERR_INVALID_ARGUMENT, "mapping id %s (1..%d bytes)", why,
                     BP_STORE_MAX_ID_LEN);
  why = bp__store_id_problem(s, sn);
  if (why)
    return bp__error(&fs->err, BP_ERR_INVALID_ARGUMENT, "shard id %s (1..%d bytes)", why,
                     BP_STORE_MAX_ID_LEN);
  fs_make_names(fs, m, *mn, s, *sn);
  return 0;
}

/* ---- The operations ---- */

static int fs_op_load(const char *m, const char *s, char *seq_out, size_t seq_cap,
                      size_t *seq_len, void *user_data) {
  bp_file_store *fs = user_data;
  size_t mn, sn, got;
  if (seq_len) *seq_len = 0;
  if (!fs) return BP_ERR_INVALID_ARGUMENT;
  int rc = fs_begin(fs, m, s, &mn, &sn);
  if (rc) return rc;
  if (!seq_out || !seq_len)
    return bp__error(&fs->err, BP_ERR_INVALID_ARGUMENT, "seq_out and seq_len are required");

  int fd = fs_openat(fs->dirfd, fs->name, O_RDONLY | O_NOCTTY, 0);
  if (fd < 0) {
    if (errno == ENOENT) return fs_missing(fs);
    return fs_io_error(fs, errno, "cannot open", fs->name);
  }
  if (fs_read_all(fd, fs->buf, BP__FS_FILE_MAX + 1, &got) != 0) {
    int e = errno;
    close(fd);
    return fs_io_error(fs, e, "cannot read", fs->name);
  }
  close(fd); /* read-only: nothing to lose */
  return fs_parse(fs, got, m, mn, s, sn, seq_out, seq_cap, seq_len);
}

/* Write fs->tmp, fsync it, rename it over fs->name, fsync the directory. */
static int fs_op_save(const char *m, const char *s, const char *seq, size_t seq_len,
                      void *user_data) {
  bp_file_store *fs = user_data;
  size_t mn, sn;
  if (!fs) return BP_ERR_INVALID_ARGUMENT;
  int rc = fs_begin(fs, m, s, &mn, &sn);
  if (rc) return rc;
  if (bp_seqnum_validate(seq, seq_len) != 0)
    return bp__error(&fs->err, BP_ERR_INVALID_SEQNUM,
                     "checkpoint is not a sequence number (1..%d digits, no leading zero)",
                     BP_MAX_SEQNUM_DIGITS);
  size_t len = fs_format(fs->buf, m, mn, s, sn, seq, seq_len);

  /* A leftover of a crashed save (or anything else by that name) goes first, so that the
   * exclusive create below never follows a symbolic link or appends to old bytes. */
  if (unlinkat(fs->dirfd, fs->tmp, 0) != 0 && errno != ENOENT)
    return fs_io_error(fs, errno, "cannot remove stale", fs->tmp);
  int fd = fs_openat(fs->dirfd, fs->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, 0666);
  if (fd < 0) return fs_io_error(fs, errno, "cannot create", fs->tmp);
  const char *what = NULL;
  if (fs_write_all(fd, fs->buf, len) != 0) what = "cannot write";
  else if (fs_fsync(fd) != 0) what = "cannot fsync";
  if (what) {
    int e = errno;
    close(fd);
    unlinkat(fs->dirfd, fs->tmp, 0);
    return fs_io_error(fs, e, what, fs->tmp);
  }
  /* EINTR from close: the descriptor is closed (Linux, and POSIX 2024 forbids otherwise),
   * and the data is already synced. */
  if (close(fd) != 0 && errno != EINTR) {
    int e = errno;
    unlinkat(fs->dirfd, fs->tmp, 0);
    return fs_io_error(fs, e, "cannot close", fs->tmp);
  }
  if (renameat(fs->dirfd, fs->tmp, fs->dirfd, fs->name) != 0) {
    int e = errno;
    unlinkat(fs->dirfd, fs->tmp, 0);
    return fs_io_error(fs, e, "cannot rename to", fs->name);
  }
  if (fs_fsync(fs->dirfd) != 0)
    return fs_io_error(fs, errno, "cannot fsync directory of", fs->name);
  return 0;
}

static int fs_op_remove(const char *m, const char *s, void *user_data) {
  bp_file_store *fs = user_data;
  size_t mn, sn;
  if (!fs) return BP_ERR_INVALID_ARGUMENT;
  int rc = fs_begin(fs, m, s, &mn, &sn);
  if (rc) return rc;
  if (unlinkat(fs->dirfd, fs->tmp, 0) != 0 && errno != ENOENT)
    return fs_io_error(fs, errno, "cannot remove", fs->tmp);
  if (unlinkat(fs->dirfd, fs->name, 0) != 0) {
    if (errno == ENOENT) return fs_missing(fs);
    return fs_io_error(fs, errno, "cannot remove", fs->name);
  }
  if (fs_fsync(fs->dirfd) != 0)
    return fs_io_error(fs, errno, "cannot fsync directory of", fs->name);
  return 0;
}

static const char *fs_op_errmsg(void *user_data) {
  const bp_file_store *fs = user_data;
  return fs ? fs->err.text : "";
}

static const bp_store_ops fs_ops = {BP_STORE_OPS_VERSION, fs_op_load, fs_op_save,
                                    fs_op_remove, fs_op_errmsg};

/* ---- Life cycle ---- */

int bp_file_store_new(bp_file_store **out, const char *dir, const bp_allocator *alloc,
                      char *errbuf, size_t errlen) {
  bp_allocator a;
  if (errbuf && errlen) errbuf[0] = '\0';
  if (out) *out = NULL;
  if (!out || !dir || !dir[0])
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "out and a non-empty directory are required");
  if (bp__alloc_copy(&a, alloc) != 0)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "allocator hooks must be all set or all NULL");
  size_t dlen = strlen(dir);
  size_t fixed = sizeof(bp_file_store) + BP__FS_FILE_MAX + 1 + 1;
  if (dlen > SIZE_MAX - fixed)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "directory name too long");
  bp_file_store *fs = bp__malloc(&a, fixed + dlen);
  if (!fs) return bp__errbuf(errbuf, errlen, BP_ERR_NOMEM, "out of memory");
  memset(fs, 0, sizeof *fs);
  fs->alloc = a;
  fs->buf = (char *)(fs + 1);
  fs->dir = fs->buf + BP__FS_FILE_MAX + 1;
  memcpy(fs->dir, dir, dlen + 1);
  bp__errmsg_clear(&fs->err);

  int fd;
  do fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    char text[128];
    if (strerror_r(e, text, sizeof text) != 0) snprintf(text, sizeof text, "errno %d", e);
    bp__free(&a, fs);
    return bp__errbuf(errbuf, errlen, BP_ERR_IO,
                      "cannot open checkpoint directory '%.200s': %s", dir, text);
  }
  fs->dirfd = fd;
  *out = fs;
  return 0;
}

void bp_file_store_del(bp_file_store *fs) {
  if (!fs) return;
  close(fs->dirfd);
  bp_allocator a = fs->alloc;
  bp__free(&a, fs);
}

const bp_store_ops *bp_file_store_ops(void) { return &fs_ops; }

const char *bp_file_store_errmsg(const bp_file_store *fs) { return fs ? fs->err.text : ""; }

#endif /* BP_WITH_FILE_STORE */
