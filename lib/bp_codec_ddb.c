/* placeholder */
#include "bp_codec_int.h"
typedef int bp__placeholder_bp_codec_ddb;
int bp__ddb_record_size(bp_codec *c, const bp_record *r, size_t index, size_t *size) { (void)c;(void)r;(void)index;(void)size; return BP_ERR_UNSUPPORTED; }
char *bp__ddb_record_put(const bp_codec *c, const bp_record *r, char *out) { (void)c;(void)r; return out; }
