/* SPDX-License-Identifier: MIT */
/**
 * @file batchpoint.h
 * @brief Umbrella header: everything this build of batchpoint offers.
 *
 * batchpoint gives a program the record-batching and checkpointing semantics of AWS
 * Lambda's event source mapping for Kinesis Data Streams and DynamoDB Streams, without
 * Lambda. See README.md for a tour and each header for the reference.
 */
#ifndef BATCHPOINT_H
#define BATCHPOINT_H

#include "batchpoint/bp_common.h"
#include "batchpoint/bp_batch.h"
#include "batchpoint/bp_bisect.h"
#include "batchpoint/bp_checkpoint.h"
#include "batchpoint/bp_config.h"
#include "batchpoint/bp_resolver.h"
#include "batchpoint/bp_store.h"
#include "batchpoint/bp_seqnum.h"
#include "batchpoint/bp_time.h"
#include "batchpoint/bp_record.h"
#include "batchpoint/bp_engine.h"
#if BP_WITH_CODEC
#include "batchpoint/bp_codec.h"
#include "batchpoint/bp_filter.h"
#include "batchpoint/bp_kpl.h"
#include "batchpoint/bp_handler.h"
#endif

#endif
