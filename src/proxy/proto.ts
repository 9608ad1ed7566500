// Loads apache.rocketmq.v2 from the rocketmq-client-nodejs package's proto/ folder (a
// dependency; the schema is not copied into this repository).
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { ResponseBatch } from './response-batch.js';
import { encodeAckMessageResponse, encodeSendMessageResponse } from './unary-encoder.js';

const require = createRequire(import.meta.url);

function protoRoot(): string {
  const pkg = require.resolve('rocketmq-client-nodejs/package.json');
  return join(dirname(pkg), 'proto');
}

export interface MessagingServiceDefinition {
  service: grpc.ServiceDefinition;
}

let cached: grpc.ServiceDefinition | undefined;

export const RECEIVE_MESSAGE_PATH = '/apache.rocketmq.v2.MessagingService/ReceiveMessage';

/** Field names stay camelCase, enums are numbers, int64 are JS numbers, oneofs name their case. */
export function loadMessagingService(): grpc.ServiceDefinition {
  if (cached) return cached;
  const root = protoRoot();
  const def = protoLoader.loadSync(join(root, 'apache/rocketmq/v2/service.proto'), {
    includeDirs: [root],
    keepCase: false,
    longs: Number,
    enums: Number,
    defaults: false,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    apache: { rocketmq: { v2: { MessagingService: { service: grpc.ServiceDefinition } } } };
  };
  cached = pkg.apache.rocketmq.v2.MessagingService.service;
  encodeReceiveResponsesDirectly(cached);
  codeHotUnaryDirectly(cached);
  return cached;
}

let schema: protobuf.Root | undefined;

/** The v2 schema as a protobufjs Root (camelCase field names). */
function schemaRoot(): protobuf.Root {
  if (schema) return schema;
  const root = protoRoot();
  const pb = new protobuf.Root();
  // Imports are relative to the proto folder; the well-known google types are built into protobufjs.
  pb.resolvePath = (_origin, target) => (isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(root, target));
  pb.loadSync(join(root, 'apache/rocketmq/v2/service.proto'), { keepCase: false });
  schema = pb;
  return pb;
}

/** The protobufjs type of ReceiveMessageResponse (camelCase field names). */
export function receiveMessageResponseType(): protobuf.Type {
  return schemaRoot().lookupType('apache.rocketmq.v2.ReceiveMessageResponse');
}

/**
 * Unary methods every message pays for (issue 17): one SendMessage per message from the 5.x
 * clients, one AckMessage per consumed message. Their answers are encoded by hand
 * (unary-encoder.ts) or, for a shape it does not take, by protobufjs directly: never through
 * proto-loader's fromObject deep copy (handlers build schema-shaped objects: camelCase
 * names, numbers for enums and int64). AckMessageRequest, which has no int64 or enum field, is
 * decoded into protobufjs's message object without the toObject copy: absent strings read as ''
 * and absent messages as null, which every reader of it treats as missing.
 */
function codeHotUnaryDirectly(service: grpc.ServiceDefinition): void {
  const root = schemaRoot();
  const handWritten: Record<string, (value: object) => Buffer | undefined> = { SendMessage: encodeSendMessageResponse, AckMessage: encodeAckMessageResponse };
  for (const name of ['SendMessage', 'AckMessage']) {
    const method = service[name] as grpc.MethodDefinition<unknown, object>;
    const type = root.lookupType(`apache.rocketmq.v2.${name}Response`);
    const fast = handWritten[name];
    method.responseSerialize = (value: object): Buffer => {
      const direct = fast(value);
      if (direct) return direct;
      const bytes = type.encode(value).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
  }
  const ackRequest = root.lookupType('apache.rocketmq.v2.AckMessageRequest');
  (service.AckMessage as grpc.MethodDefinition<unknown, object>).requestDeserialize = (buf: Buffer) => ackRequest.decode(buf);
}

/**
 * ReceiveMessage streams one response per delivered message, the hot path of consumption.
 * Delivered messages usually arrive already encoded (delivery-encoder.ts) and pass as they are.
 * Other responses are encoded with protobufjs directly: proto-loader would deep-copy each object
 * through fromObject first, and the handlers build objects of exactly the schema's shape
 * (camelCase names, numbers for enums and int64, Buffers for bytes).
 */
function encodeReceiveResponsesDirectly(service: grpc.ServiceDefinition): void {
  const type = receiveMessageResponseType();
  const method = service.ReceiveMessage as grpc.MethodDefinition<unknown, object>;
  if (method.path !== RECEIVE_MESSAGE_PATH) throw new Error(`unexpected ReceiveMessage path ${method.path}`);
  method.responseSerialize = (value: object): Buffer => {
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof ResponseBatch) throw new Error('a ResponseBatch reached the serializer: the response-batch interceptor is not installed');
    const bytes = type.encode(value).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}
