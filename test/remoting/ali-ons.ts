// The real ali-ons protocol classes, loaded from node_modules (CommonJS) so tests can check
// our codec against what that client actually puts on the wire and how it reads replies.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface AliCommand {
  code: number;
  opaque: number;
  flag: number;
  remark?: string;
  extFields: Record<string, unknown>;
  customHeader?: Record<string, unknown>;
  body: Buffer | null | undefined;
  language: string;
  version: number;
  isResponseType: boolean;
  encode(): Buffer;
}

export interface AliCommandClass {
  new (options: { code: number; customHeader?: Record<string, unknown>; opaque?: number; flag?: number; remark?: string }): AliCommand;
  createRequestCommand(code: number, customHeader?: Record<string, unknown>): AliCommand;
  decode(packet: Buffer): AliCommand;
}

export interface AliChannel {
  invoke(command: AliCommand, timeout: number): Promise<AliCommand>;
  close(): void;
  ready(): Promise<void>;
  once(event: string, cb: (...args: unknown[]) => void): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  beforeRequest(command: AliCommand): void;
}

export const AliRemotingCommand = require('ali-ons/lib/protocol/command/remoting_command.js') as AliCommandClass;
export const AliChannelClass = require('ali-ons/lib/channel.js') as new (
  address: string,
  options?: { accessKey?: string; secretKey?: string; logger?: unknown },
) => AliChannel;
