/* placeholder: written by the checkpoint component */
#ifndef BATCHPOINT_BP_CHECKPOINT_H
#define BATCHPOINT_BP_CHECKPOINT_H
#include "bp_common.h"
#endif
