/* SPDX-License-Identifier: MIT */
/* bpconsume: what the command writes while it runs (bpconsume_out.c). */
#ifndef BPCONSUME_H
#define BPCONSUME_H

#include <stdio.h>

#include "bp_aws.h"

/* How events are written: not at all, for a person, or as NDJSON. */
enum { OUT_QUIET, OUT_TRACE, OUT_JSON };

typedef struct bpc_out bpc_out;

/* Events go to @p f in @p mode; @p status_line: a status line on stderr (a terminal). */
bpc_out *bpc_out_new(FILE *f, int mode, int status_line, int64_t start_ms);
void bpc_out_del(bpc_out *o);

/* One engine event (the add-on's on_event chain). Also notes activity for --until-idle. */
int bpc_out_event(bp_engine *e, const bp_engine_event *ev, void *user_data);

/* The last time a record was read, invoked, resolved or delivered (ms). */
int64_t bpc_out_last_activity(const bpc_out *o);

/* Refresh the status line (at most once a second), or clear it (@p final). */
void bpc_out_status(bpc_out *o, bp_engine *e, int64_t now, int final);

/* The closing summary: one line (or one JSON object) of totals. */
void bpc_out_summary(bpc_out *o, bp_engine *e, const bp_aws *aws, int64_t now);

#endif
