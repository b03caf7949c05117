// SPDX-License-Identifier: MIT
// Compares, event by event, Powertools' outputs (powertools_ref.js) with ours (handler_ref)
// under the rules of each event's category (gen_events.js says them):
//   valid      equal byte for byte, whitespace outside strings aside;
//   window     ours = Powertools' with the event's own state first: {"state":S,<the rest>};
//   malformed  ours rejects ("error BP_ERR_..."); Powertools' outcome equals meta.pt when set
//              ("rejects": it threw; "accepts": it answered). Where Powertools answers and we
//              reject, the difference is listed (AWS never delivers such an event: §1).
// With EVENTS and OURS_STOP (ours under BP_HANDLER_STOP_AT_FIRST_FAILURE) it also checks that
// mode: from the first record Powertools reports failed, every record is reported (all of
// them: FullBatchFailureError), as Powertools' SqsFifoPartialProcessor does.
// Usage: node compare.js META REF OURS [EVENTS OURS_STOP]   exit 1 on any mismatch (all listed)
'use strict';
const fs = require('fs');

const lines = (f) => { const l = fs.readFileSync(f, 'utf8').split('\n'); if (l[l.length - 1] === '') l.pop(); return l; };
const [metaFile, refFile, oursFile] = process.argv.slice(2);
const metas = lines(metaFile).map((l) => JSON.parse(l));
const ref = lines(refFile), ours = lines(oursFile);
const [eventsFile, stopFile] = process.argv.slice(5);
const events = eventsFile ? lines(eventsFile) : null, stop = stopFile ? lines(stopFile) : null;

// What stop-at-first-failure answers, from Powertools' answer r for event text t.
function stopExpected(t, r) {
  if (!r.startsWith('{')) return r;
  const failed = JSON.parse(r).batchItemFailures;
  if (!failed.length) return r;
  const seqs = JSON.parse(t).Records.map((x) => (x.kinesis ? x.kinesis.sequenceNumber : x.dynamodb.SequenceNumber));
  const k = seqs.indexOf(failed[0].itemIdentifier);
  if (k === 0) return 'error FullBatchFailureError';
  return JSON.stringify({ batchItemFailures: seqs.slice(k).map((q) => ({ itemIdentifier: q })) });
}

// Drops whitespace outside JSON strings.
function squeeze(t) {
  let o = '', inStr = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (inStr) {
      o += c;
      if (c === '\\') o += t[++i];
      else if (c === '"') inStr = false;
    } else if (c === '"') { inStr = true; o += c; } else if (!' \t\r\n'.includes(c)) o += c;
  }
  return o;
}

const bad = [], differences = [];
const counts = { valid: 0, window: 0, malformed: 0 };
if (ref.length !== metas.length || ours.length !== metas.length || (stop && stop.length !== metas.length))
  bad.push(`line counts: ${metas.length} events, ${ref.length} Powertools outputs, ${ours.length} of ours` +
    (stop ? `, ${stop.length} of ours stopping at the first failure` : ''));
for (let i = 0; i < Math.min(metas.length, ref.length, ours.length); i++) {
  const m = metas[i], r = ref[i], o = ours[i];
  counts[m.cat]++;
  const where = `event ${i + 1} (${m.name})`;
  if (m.cat === 'valid') {
    if (squeeze(r) !== squeeze(o)) bad.push(`${where}: Powertools ${r} | ours ${o}`);
    if (stop && squeeze(stopExpected(events[i], r)) !== squeeze(stop[i]))
      bad.push(`${where}: stop at first failure: want ${stopExpected(events[i], r)} | ours ${stop[i]}`);
  } else if (m.cat === 'window') {
    const withState = (x) => (x.startsWith('{') ? `{"state":${m.state},${x.slice(1)}` : x);
    if (squeeze(withState(r)) !== squeeze(o)) bad.push(`${where}: Powertools ${r} (state ${m.state}) | ours ${o}`);
    if (stop && squeeze(withState(stopExpected(events[i], r))) !== squeeze(stop[i]))
      bad.push(`${where}: stop at first failure: want ${withState(stopExpected(events[i], r))} | ours ${stop[i]}`);
  } else {
    if (stop && !stop[i].startsWith('error BP_ERR_')) bad.push(`${where}: malformed, ours (stop at first failure) answered ${stop[i]}`);
    const ptRejects = r.startsWith('error ');
    if (!o.startsWith('error BP_ERR_')) bad.push(`${where}: malformed, ours answered ${o}`);
    if (m.pt && (m.pt === 'rejects') !== ptRejects) bad.push(`${where}: Powertools was expected to ${m.pt.slice(0, -1)}, got ${r}`);
    if (!ptRejects) differences.push(`${m.name}: Powertools ${r}; ours ${o}`);
  }
}
process.stdout.write(`conformance: ${counts.valid} valid events equal${stop ? ' (and as stop-at-first-failure wants)' : ''}, ${counts.window} window events equal but for the state, ` +
  `${counts.malformed} malformed events rejected (${differences.length} of them accepted by Powertools)\n`);
if (process.env.BP_CONFORMANCE_VERBOSE) for (const d of differences) process.stdout.write(`  difference: ${d}\n`);
if (bad.length) {
  process.stdout.write(`conformance: ${bad.length} mismatch(es):\n${bad.slice(0, 40).map((b) => '  ' + b).join('\n')}\n`);
  process.exit(1);
}
