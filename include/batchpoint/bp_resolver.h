/* placeholder: written by the resolver component */
#ifndef BATCHPOINT_BP_RESOLVER_H
#define BATCHPOINT_BP_RESOLVER_H
#include "bp_common.h"
#endif
