// The `apogee` command line: one subcommand per role, every schema key as `--key value`,
// configuration errors on stderr with exit code 2, the ready line on stdout.
import { Command, CommanderError, Option } from 'commander';
import { createLogger, type LogLevel, type Logger } from '../common/logger.js';
import {
  ConfigError,
  ROLE_SCHEMAS,
  loadConfig,
  type ConfigSchema,
  type RawValue,
  type Role,
  type RoleHandle,
} from '../config/index.js';
import { ROLE_STARTERS, readyLine, type RoleStarter } from './roles.js';
import { registerAdminCommand } from './admin/index.js';
import { registerBenchCommand } from './bench/index.js';

/** Exit code for anything the user got wrong on the command line or in the config file. */
export const EXIT_USAGE = 2;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const ROLE_DESCRIPTIONS: Record<Role, string> = {
  namesrv: 'run a name server (route registry)',
  broker: 'run a broker (stores and serves messages)',
  proxy: 'run a gRPC v2 proxy for 5.x clients',
  standalone: 'run name server, broker, proxy and console in one process',
  console: 'run the web console and its JSON API for a cluster (-n name servers)',
};

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

/** What a started command leaves running: close it on a signal. */
export interface Running {
  handles: RoleHandle[];
  logger: Logger;
}

class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function addKeyOptions(cmd: Command, schema: ConfigSchema): void {
  for (const [key, spec] of Object.entries(schema)) {
    const short = key === 'namesrvAddr' ? '-n, ' : '';
    const flags = spec.type === 'bool' ? `${short}--${key} [bool]` : `${short}--${key} <value>`;
    cmd.addOption(new Option(flags, `${spec.doc} (default: ${JSON.stringify(spec.default)})`));
  }
}

function flagsOf(opts: Record<string, unknown>, schema: ConfigSchema): Record<string, RawValue> {
  const out: Record<string, RawValue> = {};
  for (const key of Object.keys(schema)) {
    const v = opts[key];
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') out[key] = v;
  }
  return out;
}

async function startRole(role: Role, opts: Record<string, unknown>, io: CliIO): Promise<Running> {
  const schema: ConfigSchema = ROLE_SCHEMAS[role];
  let config;
  try {
    config = loadConfig(role, { file: opts.config as string | undefined, env: io.env, flags: flagsOf(opts, schema) });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`apogee ${role}: ${err.message}\n`);
      throw new CliExit(EXIT_USAGE);
    }
    throw err;
  }
  const logger = createLogger(opts.logLevel as LogLevel).child({ role });
  try {
    const starter = ROLE_STARTERS[role] as RoleStarter<Role>;
    const handles = await starter(config, { logger });
    io.stdout(`${readyLine(handles)}\n`);
    return { handles, logger };
  } catch (err) {
    // Files that keys name are read as the role starts (alarmRulesFile): their errors are configuration errors too.
    if (err instanceof ConfigError) {
      io.stderr(`apogee ${role}: ${err.message}\n`);
      throw new CliExit(EXIT_USAGE);
    }
    io.stderr(`apogee ${role}: failed to start: ${(err as Error).message}\n`);
    throw new CliExit(1);
  }
}

/**
 * Parses argv and starts the chosen role. Resolves with the running role, or with an exit
 * code when nothing is left running (help, usage or configuration errors, start failures).
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<Running | number> {
  let running: Running | undefined;
  const program = new Command('apogee')
    .description('Apogee, a RocketMQ-compatible message broker')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const role of Object.keys(ROLE_SCHEMAS) as Role[]) {
    const cmd = program
      .command(role)
      .description(ROLE_DESCRIPTIONS[role])
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .option('-c, --config <file>', 'Java-properties config file (broker.conf form)')
      .addOption(new Option('--logLevel <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('info'));
    addKeyOptions(cmd, ROLE_SCHEMAS[role]);
    cmd.action(async (opts: Record<string, unknown>) => {
      running = await startRole(role, opts, io);
    });
  }
  // Tools (admin, bench) run to completion and report an exit code instead of a running role.
  let toolExit: number | undefined;
  registerAdminCommand(program, io, (code) => (toolExit = code));
  registerBenchCommand(program, io, (code) => (toolExit = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CliExit) return err.code;
    if (err instanceof CommanderError) {
      const fine = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
      return fine ? 0 : EXIT_USAGE;
    }
    throw err;
  }
  return toolExit ?? running ?? 0;
}

/** Closes handles last-started first (the broker before its name server). */
export async function closeAll(handles: readonly RoleHandle[]): Promise<void> {
  for (const h of [...handles].reverse()) await h.close();
}
