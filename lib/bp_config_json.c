/* placeholder */
#include "bp_codec_int.h"
typedef int bp__placeholder_bp_config_json;
