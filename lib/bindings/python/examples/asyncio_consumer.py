# SPDX-License-Identifier: MIT
"""An asyncio host for the batchpoint engine: the stream read (GetRecords) and the function
call (Lambda Invoke) are coroutines; the engine's callbacks start them as tasks and return at
once; each task completes its request from the loop when it finishes; one driver coroutine
ticks the engine at its next deadline, measured on the loop's clock, or sooner when a
completion wakes it.

    python3 lib/bindings/python/examples/asyncio_consumer.py    (BATCHPOINT_LIBRARY or build/)

The stream and the function here are in-process stand-ins with random delays (SimStream,
SimFunction); a real host puts aiobotocore / an HTTP client behind the same coroutines.
"""
import asyncio
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import batchpoint as bp  # noqa: E402

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
ROLE = "arn:aws:iam::123456789012:role/consumer"
EPOCH_MS = 1700000000000  # the loop's time 0, as epoch milliseconds


class AsyncHost:
    """Engine callbacks -> tasks of @stream.get_records(...) and @function(payload)."""

    def __init__(self, stream, function, loop):
        self.stream, self.function, self.loop = stream, function, loop
        self.engine = None
        self.t0 = loop.time()
        self.wake = asyncio.Event()
        self.tasks = set()
        self.error = None  # the first exception a task could not hand to the engine

    def now_ms(self):
        return EPOCH_MS + int((self.loop.time() - self.t0) * 1000)

    def _spawn(self, coro):
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task):
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.error is None:
            self.error = task.exception()
        self.wake.set()

    # ---- the engine's callbacks: copy what the task needs (views expire), start it ----

    def fetch(self, req):
        self._spawn(self._fetch(req.req_id, req.shard_id, req.position, req.after_seq,
                                req.max_records))

    def invoke(self, req):
        self._spawn(self._invoke(req.req_id, req.payload))

    def deliver(self, req):
        self._spawn(self._deliver(req.req_id, req.record_json))

    # ---- the tasks: await the I/O, then complete the request from the loop ----

    async def _fetch(self, req_id, shard_id, position, after_seq, limit):
        try:
            records = await self.stream.get_records(shard_id, position, after_seq, limit)
            status = 0
        except OSError:
            records, status = [], -1  # a failed read: the engine retries it
        self.engine.complete_fetch(req_id, self.now_ms(), status, records)

    async def _invoke(self, req_id, payload):
        try:
            body = await self.function(payload)
            result = bp.InvokeResult.returned(json.dumps(body or {}).encode())
        except Exception as exc:  # the function failed: Lambda's "Unhandled" function error
            result = bp.InvokeResult.error("Unhandled", json.dumps(
                {"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode())
        self.engine.complete_invoke(req_id, self.now_ms(), result)

    async def _deliver(self, req_id, record_json):
        self.stream.dead_letters.append(json.loads(record_json))
        self.engine.complete_delivery(req_id, self.now_ms(), 0)

    # ---- the driver ----

    async def run(self, done):
        """Tick the engine until done() is true, then drain it (every checkpoint stored)."""
        engine, draining = self.engine, False
        while True:
            if self.error is not None:
                raise self.error
            if not draining and done():
                engine.shutdown(self.now_ms())
                draining = True
            else:
                engine.tick(self.now_ms())
            if draining and engine.drained:
                return
            deadline = engine.next_deadline()
            timeout = None if deadline is None else max(0, deadline - self.now_ms()) / 1000
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def close(self):
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.engine.close()


class SimStream:
    """One Kinesis shard in memory: records appended by a producer, read with delays."""

    def __init__(self, delay=0.004, seed=1):
        self.records, self.cursor, self.dead_letters = [], 0, []
        self.rng, self.delay = random.Random(seed), delay

    def put(self, partition_key, data, now_ms):
        seq = str(1000 + len(self.records))
        self.records.append(bp.Record(seq, now_ms, partition_key, data))
        return seq

    def _index_after(self, seq):
        return next((i for i, r in enumerate(self.records) if int(r.seq) > int(seq)),
                    len(self.records))

    async def get_records(self, shard_id, position, after_seq, limit):
        await asyncio.sleep(self.rng.uniform(0, self.delay))
        if position == "TRIM_HORIZON":
            self.cursor = 0
        elif position == "AFTER_SEQUENCE_NUMBER":
            self.cursor = self._index_after(after_seq)
        elif position == "LATEST":
            self.cursor = len(self.records)
        out = self.records[self.cursor:self.cursor + limit]
        self.cursor += len(out)
        return out


class SimFunction:
    """The Lambda function: keeps what it processed, by partition key, after a delay."""

    def __init__(self, delay=0.006, seed=2):
        self.processed, self.attempts, self.running, self.max_running = [], 0, 0, 0
        self.rng, self.delay = random.Random(seed), delay

    async def __call__(self, payload):
        self.attempts += 1
        event = json.loads(payload)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(self.rng.uniform(0, self.delay))
        finally:
            self.running -= 1
        self.check(event)
        for r in event["Records"]:
            self.processed.append((r["kinesis"]["partitionKey"], r["kinesis"]["sequenceNumber"]))
        return {"batchItemFailures": []}

    def check(self, event):
        """Raise to fail the invocation (a subclass's choice)."""


async def consume(stream, function, produce, total, config=None, host_class=AsyncHost,
                  **engine_options):
    """Run a consumer until @total records are processed (@produce(stream, host) is the
    producer coroutine); return the engine's checkpoint and metrics at the end."""
    loop = asyncio.get_running_loop()
    cfg = config or bp.Config.from_json({
        "EventSourceArn": ARN, "FunctionName": "orders", "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 5, "ParallelizationFactor": 3, "MaximumRetryAttempts": 10})
    host = host_class(stream, function, loop)
    host.engine = bp.Engine(cfg, host, invoke_identity_arn=ROLE, poll_interval_ms=10,
                            **engine_options)
    host.engine.add_shard("shardId-000000000000")
    producer = loop.create_task(produce(stream, host))
    try:
        await host.run(lambda: len({s for _, s in function.processed}) >= total)
        await producer
        return host.engine.checkpoint("shardId-000000000000"), host.engine.metrics()
    finally:
        producer.cancel()
        await host.close()


async def produce_orders(stream, host, n=60, keys=4):
    for i in range(n):
        stream.put(f"customer-{i % keys}", json.dumps({"order": i}).encode(), host.now_ms())
        await asyncio.sleep(0.001)


def main():
    stream, function = SimStream(), SimFunction()
    checkpoint, metrics = asyncio.run(consume(stream, function, produce_orders, 60))
    print(f"processed {len(function.processed)} records in {function.attempts} invocations; "
          f"checkpoint {checkpoint}; invoked_event_count {metrics['invoked_event_count']}")


if __name__ == "__main__":
    main()
