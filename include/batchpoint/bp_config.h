/* placeholder: written by the configuration module */
#ifndef BATCHPOINT_BP_CONFIG_H
#define BATCHPOINT_BP_CONFIG_H
#include "bp_common.h"
#endif
