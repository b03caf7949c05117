/* SPDX-License-Identifier: MIT */
/*
 * The record handler of the Lambda custom-runtime example and of the Powertools conformance
 * test (test/handler/): a record fails when it is marked failing. A rule over bytes, so that
 * Powertools' side (test/handler/powertools_ref.js) evaluates it exactly the same way:
 *   Kinesis:  the decoded data contains the bytes "fail":true or the bytes FAIL;
 *   DynamoDB: dynamodb.NewImage has an attribute "fail" of type BOOL whose value is true.
 */
#ifndef MARKED_H
#define MARKED_H

#include <batchpoint.h>
#include <batchpoint/bp_handler.h>

/* A bp_handler_fn: 0 when the record succeeds, 1 when it is marked failing (with a reason
 * kept through bp_handler_fail_reason()); an image the attribute reader rejects fails too. */
int marked_on_record(bp_handler *h, const bp_handler_record *rec, void *user_data);

#endif
