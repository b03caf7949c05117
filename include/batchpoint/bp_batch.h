/* placeholder: written by the batch component */
#ifndef BATCHPOINT_BP_BATCH_H
#define BATCHPOINT_BP_BATCH_H
#include "bp_common.h"
#endif
