// Every request and response header declared once, with the wire types that client, broker,
// name server and proxy share. See header-codec.ts for how a schema is encoded and decoded.
export * from './header-codec.js';
export * from './json-body.js';
export * from './route.js';
export * from './topic-config.js';
export * from './data-version.js';
export * from './subscription-group.js';
export * from './register-broker.js';
export * from './send.js';
export * from './pull.js';
export * from './pop.js';
export * from './offsets.js';
export * from './transaction.js';
export * from './recall.js';
export * from './admin.js';
export * from './namesrv.js';
export * from './operations.js';
