// Loads apache.rocketmq.v2 from the rocketmq-client-nodejs package's proto/ folder (a
// dependency; the schema is not copied into this repository).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

function protoRoot(): string {
  const pkg = require.resolve('rocketmq-client-nodejs/package.json');
  return join(dirname(pkg), 'proto');
}

export interface MessagingServiceDefinition {
  service: grpc.ServiceDefinition;
}

let cached: grpc.ServiceDefinition | undefined;

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
  return cached;
}
