/* placeholder */
#include "bp_int.h"
typedef int bp__placeholder_batch;
