/* placeholder: written by the bisect component */
#ifndef BATCHPOINT_BP_BISECT_H
#define BATCHPOINT_BP_BISECT_H
#include "bp_common.h"
#endif
