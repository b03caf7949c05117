// SPDX-License-Identifier: MIT
// TypeScript declarations of the batchpoint Node binding (index.js).
/// <reference types="node" />

export class BatchpointError extends Error {
  /** the bp_err code (negative) */
  code: number;
  /** bp_err_name(code), e.g. "BP_ERR_CONFIG_INVALID" */
  codeName: string;
  /** AWS's exception name for configuration rejections, else undefined/null */
  awsType?: string | null;
  /** AWS's HTTP status for configuration rejections (400) */
  httpStatus?: number | null;
}
export class ConfigError extends BatchpointError {}
export class InvalidArgumentError extends BatchpointError {}
export class StateError extends BatchpointError {}
export class ResourceError extends BatchpointError {}
export class FatalError extends BatchpointError {}
/** BP_ERR_BATCH_FAILED (-21): every record of a non-empty event failed. */
export class BatchFailedError extends BatchpointError {
  /** the {batchItemFailures} response naming every record */
  response: PartialItemFailureResponse;
  /** what each failed record's handler threw, in record order */
  recordErrors: unknown[];
}
/** Powertools' name for BatchFailedError (the same class). */
export { BatchFailedError as FullBatchFailureError };

export class Config {
  /** Parses a CreateEventSourceMapping request body; throws ConfigError with AWS's message. */
  static fromJSON(body: string | Buffer | object): Config;
  readonly source: 'none' | 'kinesis' | 'dynamodb';
  readonly batchSize: number;
  readonly eventSourceArn: string | null;
  readonly functionName: string | null;
  /** FunctionName when given as an ARN, else null; resolveFunctionArn() completes the rest */
  readonly functionArn: string | null;
  /** the function's full ARN (the account from EventSourceArn unless given), or null */
  resolveFunctionArn(account?: string | null): string | null;
  readonly maximumBatchingWindowInSeconds: number;
  readonly parallelizationFactor: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | null;
  /** StartingPositionTimestamp in epoch ms, or null */
  readonly startingPositionTimestampMs: number | null;
  /** -1: infinite */
  readonly maximumRetryAttempts: number;
  /** -1: infinite */
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly reportBatchItemFailures: boolean;
  readonly tumblingWindowInSeconds: number;
  readonly enabled: boolean;
  /** the on-failure destination ARN, or null */
  readonly onFailureDestination: string | null;
  readonly metricsEventCount: boolean;
  /** the FilterCriteria patterns, as given */
  readonly filters: string[];
  close(): void;
}

/** A record given to a fetch completion or handed to invoke/deliver. */
export interface StreamRecord {
  seq: string;
  arrivalMs: number;
  partitionKey?: string;
  data?: Buffer | Uint8Array | string;
  dataBase64?: boolean;
  encryptionType?: string;
  eventId?: string;
  eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** DynamoDB StreamRecord JSON (a string when handed out; a string or object when given) */
  dynamodb?: string | object;
  userIdentity?: string | object;
}

export type Position = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'AFTER_SEQUENCE_NUMBER' |
  'CONTINUE';
export interface FetchRequest {
  reqId: number | bigint; shardId: string; from: Position; maxRecords: number;
  afterSeq: string | null; timestampMs: number; maxBytes: number;
}
export interface InvokeRequest {
  reqId: number | bigint; shardId: string; lane: number; attempt: number; flags: number;
  retry: boolean; split: boolean; remainder: boolean; final: boolean; terminatedEarly: boolean;
  records: StreamRecord[]; windowStartMs: number; windowEndMs: number; state: string | null;
  /** the encoded Lambda event (full build) */
  payload: Buffer | null;
}
export interface DeliveryRequest {
  reqId: number | bigint; shardId: string; lane: number;
  destinationType: 'OTHER' | 'SQS' | 'SNS' | 'S3'; destination: string;
  recordJson: string | null; s3Key: string | null;
  condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  approximateInvokeCount: number; timestampMs: number; records: StreamRecord[];
}
export interface CheckpointRequest {
  reqId: number | bigint; shardId: string; seq: string; final: boolean;
}
export interface EngineEvent {
  type: number; detail: number; nowMs: number; shardId: string | null; lane: number;
  flags: number; firstSeq: string | null; lastSeq: string | null; count: number; value: number;
  message: string | null;
}
/** What a fetch resolves to: the records, or them and the shard's end. Reject with
 *  `{ throttled: true }` for a throttled read; any other rejection is a failed read. */
export type FetchResult = StreamRecord[] | { records: StreamRecord[]; shardEnd?: boolean };
/** What an invoke resolves to: the response body, or the details of the attempt. A rejection
 *  is a function error ("Unhandled", or err.functionError), err.throttled a throttle. */
export type InvokeResult = undefined | null | string | Buffer | Uint8Array | {
  body?: string | Buffer | object; functionError?: string; throttled?: boolean;
  requestId?: string; executedVersion?: string;
};

/** Each host function returns a Promise (the completion is made when it settles), or
 *  Engine.PENDING: the host completes the request itself with engine.complete(reqId, value)
 *  or engine.reject(reqId, err) -- synchronous calls, allowed inside the callback (before it
 *  returns) or at any later moment, so a host with its own clock decides the order. */
export interface Host {
  fetch(req: FetchRequest): Promise<FetchResult> | typeof Engine.PENDING;
  invoke(req: InvokeRequest): Promise<InvokeResult> | typeof Engine.PENDING;
  /** required when the configuration names an on-failure destination; reject = failed */
  deliver?(req: DeliveryRequest): Promise<unknown> | typeof Engine.PENDING;
  storeCheckpoint?(req: CheckpointRequest): Promise<unknown> | typeof Engine.PENDING;
  /** synchronous; a throw is fatal to the engine */
  onEvent?(ev: EngineEvent): void;
}

export interface EngineOptions {
  invokeIdentityArn?: string; awsRegion?: string; mappingUuid?: string; seed?: number | bigint;
  maxBufferedRecords?: number; filterFlags?: number; maxBufferedBytes?: number;
  backoffBaseMs?: number; backoffCapMs?: number; pollIntervalMs?: number;
  fetchErrorRetryMs?: number; wouldblockRetryMs?: number; maxFetchRecords?: number;
  functionAccount?: string;
  /** checkpoints are saved to (and resumed from) this store when the host has no
   *  storeCheckpoint; the engine keeps it open until the engine is closed */
  store?: FileStore;
  /** the time of completions (ms since the epoch); Date.now by default */
  clock?: () => number;
}

export interface EngineMetrics {
  polledEventCount: number; filteredOutEventCount: number; invokedEventCount: number;
  failedInvokeEventCount: number; droppedEventCount: number;
  onFailureDestinationDeliveredEventCount: number; destinationDeliveryFailures: number;
  invocations: number; throttledAttempts: number; fetches: number; checkpointsStored: number;
  iteratorAgeMs: number; bufferedRecords: number; bufferedBytes: number;
}

export class Engine {
  /** returned by a host function that completes its request with complete()/reject() */
  static readonly PENDING: unique symbol;
  constructor(config: Config | string | object, host: Host, options?: EngineOptions);
  /** completes request reqId (answered Engine.PENDING) with what its Promise would resolve
   *  to (FetchResult, InvokeResult, anything for a delivery or checkpoint), at options.clock();
   *  synchronous, inside a callback or after it; throws the library's error */
  complete(reqId: number | bigint, value?: FetchResult | InvokeResult | unknown): void;
  /** fails request reqId (answered Engine.PENDING) as a rejection with err would */
  reject(reqId: number | bigint, err?: Error | { throttled?: boolean; functionError?: string }): void;
  addShard(shardId: string, opts?: { parentId?: string | null;
    adjacentParentId?: string | null; checkpoint?: string | null }): void;
  tick(nowMs?: number): void;
  setEnabled(enabled: boolean, nowMs?: number): void;
  shutdown(nowMs?: number): void;
  readonly drained: boolean;
  readonly idle: boolean;
  /** absolute ms of the next due work; null when only completions can make progress */
  nextDeadline(): number | null;
  /** resolves when every request's Promise has settled and been completed */
  settled(): Promise<void>;
  metrics(shardId?: string | null): EngineMetrics;
  checkpoint(shardId: string): string | null;
  shardState(shardId: string): 'WAITING' | 'ACTIVE' | 'ENDING' | 'ENDED';
  close(): void;
}

/** The library's durable checkpoint store over an existing directory (bp_file_store). */
export class FileStore {
  constructor(directory: string);
  readonly directory: string;
  /** the shard's checkpoint, or null when it has none */
  load(mappingId: string, shardId: string): string | null;
  save(mappingId: string, shardId: string, seq: string | bigint | number): void;
  /** false when there was no checkpoint */
  remove(mappingId: string, shardId: string): boolean;
  /** deferred while an engine uses the store */
  close(): void;
}

export type FilterPattern = string | Buffer | Uint8Array | object;
export interface FilterOptions extends CodecOptions {
  /** only the operators Lambda documents (BP_FILTER_STRICT_LAMBDA) */
  strict?: boolean;
}
/** FilterCriteria patterns, OR-ed. Invalid patterns throw ConfigError (code -11, message
 *  "Invalid filter pattern definition.", `reason` event-ruler's text). */
export class Filter {
  constructor(...patterns: FilterPattern[]);
  constructor(patterns: FilterPattern[], options?: FilterOptions);
  add(pattern: FilterPattern): this;
  readonly size: number;
  /** a JSON event (text, bytes or object), or a StreamRecord through its filter view */
  matches(eventOrRecord: string | Buffer | Uint8Array | object | StreamRecord): boolean;
  matchRecord(record: StreamRecord, shardId?: string): 'match' | 'no-match' | 'dropped';
  close(): void;
}
/** The error of FilterCriteria rejections carries event-ruler's reason. */
export interface FilterPatternError extends ConfigError { reason: string }

export interface CodecOptions {
  source?: 'kinesis' | 'dynamodb';
  eventSourceArn?: string;
  invokeIdentityArn?: string;
  awsRegion?: string | null;
  functionArn?: string | null;
}
export interface WindowFields {
  startMs: number; endMs: number; state?: string | Buffer | object | null;
  isFinal?: boolean; isTerminatedEarly?: boolean;
}
export interface EncodeOptions {
  shardId?: string;
  window?: WindowFields | null;
  /** 'string': the text instead of a Buffer */
  as?: 'buffer' | 'string';
  /** false: no copy; a view of the Buffer the Codec keeps and reuses, valid until the next
   *  encodeEvent or close() on that Codec (for encodeEvent(): on the kept codec of the same
   *  options, shared by the process) */
  copy?: boolean;
  /** the caller's memory the event is written into; the result is a Buffer over its first
   *  bytes. Too small: an InvalidArgumentError (code -3) whose `needed` is the length. */
  into?: Uint8Array | null;
}
export interface ClassifyOptions {
  reportBatchItemFailures?: boolean;
  requireState?: boolean;
}
export interface ClassifyResult {
  outcome: 'success' | 'partial' | 'failure';
  outcomeCode: number;
  reason: 'none' | 'not_reporting' | 'empty' | 'invalid_json' | 'not_object' |
    'failures_not_list' | 'bad_item' | 'unknown_identifier' | 'state_missing';
  /** partial: the batch index retried from */
  failedIndex: number | null;
  failedItemIdentifier: string | null;
  failedCount: number;
  /** the response's `state` object text, when it has one */
  state: string | null;
  message: string | null;
}
export type BatchEntry = string | { seq?: string; sequenceNumber?: string };
export class Codec {
  constructor(options?: CodecOptions);
  readonly source: 'kinesis' | 'dynamodb';
  encodeEvent(records: StreamRecord[], options: EncodeOptions & { as: 'string' }): string;
  encodeEvent(records: StreamRecord[], options?: EncodeOptions): Buffer;
  classifyResponse(batch: BatchEntry[], body: string | Buffer | null | undefined,
    options?: ClassifyOptions): ClassifyResult;
  close(): void;
}
export function encodeEvent(records: StreamRecord[],
  options: CodecOptions & EncodeOptions & { as: 'string' }): string;
export function encodeEvent(records: StreamRecord[], options?: CodecOptions & EncodeOptions): Buffer;
export function classifyResponse(batch: BatchEntry[], body: string | Buffer | null | undefined,
  options?: CodecOptions & ClassifyOptions): ClassifyResult;

/** One record of a Lambda event as the record handler sees it (a copy). */
export class HandlerRecord {
  readonly index: number;
  readonly source: 'kinesis' | 'dynamodb' | null;
  readonly sequenceNumber: string;
  readonly seq: string;
  readonly arrivalMs: number;
  /** Kinesis: the decoded data (of the user record when de-aggregated); DynamoDB: null */
  readonly data: Buffer | null;
  readonly eventId: string | null; readonly eventName: string | null;
  readonly eventSource: string | null; readonly eventSourceArn: string | null;
  readonly awsRegion: string | null; readonly eventVersion: string | null;
  readonly invokeIdentityArn: string | null; readonly arrivalText: string | null;
  readonly partitionKey: string | null; readonly kinesisSchemaVersion: string | null;
  readonly encryptionType: string | null; readonly dataBase64: string | null;
  readonly dynamodbJson: string | null; readonly keysJson: string | null;
  readonly newImageJson: string | null; readonly oldImageJson: string | null;
  readonly userIdentityJson: string | null; readonly streamViewType: string | null;
  readonly sizeBytes: number | null;
  readonly aggregated: boolean;
  readonly subSequenceNumber: number | null;
  readonly explicitHashKey: string | null;
  /** data parsed as JSON */
  json(): any;
}
export interface PartialItemFailureResponse {
  batchItemFailures: { itemIdentifier: string }[];
  /** tumbling-window events */
  state?: object;
}
export type RecordHandler<C = unknown> = (record: HandlerRecord, context?: C) => unknown;
export interface ProcessorOptions {
  stopAtFirstFailure?: boolean;
  /** KPL aggregates handed over as their user records */
  deaggregate?: boolean;
}
export interface ProcessOptions<C = unknown> {
  /** default true (Powertools); ignored with stopAtFirstFailure */
  processInParallel?: boolean;
  /** default true: all records failed -> BatchFailedError */
  throwOnFullBatchFailure?: boolean;
  context?: C;
}
export type LambdaEvent = string | Buffer | Uint8Array | object;
export class BatchProcessor {
  constructor(options?: ProcessorOptions);
  readonly stopAtFirstFailure: boolean;
  /** the failed records of the last event */
  failures: { index: number; itemIdentifier: string; error: unknown }[];
  process<C>(event: LambdaEvent, handler: RecordHandler<C>,
    options?: ProcessOptions<C>): Promise<PartialItemFailureResponse>;
  processSync<C>(event: LambdaEvent, handler: RecordHandler<C>,
    options?: Omit<ProcessOptions<C>, 'processInParallel'>): PartialItemFailureResponse;
  close(): void;
}
export function processPartialResponse<C>(event: LambdaEvent, handler: RecordHandler<C>,
  options?: ProcessorOptions & ProcessOptions<C> & { processor?: BatchProcessor }):
  Promise<PartialItemFailureResponse>;
export function processPartialResponseSync<C>(event: LambdaEvent, handler: RecordHandler<C>,
  options?: ProcessorOptions & Omit<ProcessOptions<C>, 'processInParallel'> &
    { processor?: BatchProcessor }): PartialItemFailureResponse;

export const library: string;
export function version(): string;
