// Imported first by the TLS suite: grpc-js reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH once, when it is
// loaded, and rocketmq-client-nodejs' sslEnabled uses those default roots; so the test CA is made
// and named here, before anything loads grpc-js.
import { hasOpenssl, makeTestCerts, type TestCerts } from './tls-certs.js';

export const opensslAvailable = hasOpenssl();
export const certs: TestCerts | undefined = opensslAvailable ? makeTestCerts() : undefined;
if (certs) process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = certs.ca;
