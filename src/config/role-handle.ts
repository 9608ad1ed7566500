/**
 * What starting any role returns. `addresses` maps listener names (namesrv, broker, grpc,
 * http) to the "host:port" actually bound, so port 0 can be used everywhere. `close` stops
 * accepting, lets in-flight work finish, flushes, and resolves once everything is released;
 * calling it twice is harmless.
 */
export interface RoleHandle {
  readonly addresses: Readonly<Record<string, string>>;
  close(): Promise<void>;
}
