// `apogee admin <cmd>`: mqadmin's subcommands with mqadmin's short flags. Tables go to stdout;
// a failed request prints the broker's code and remark on stderr and exits 1; a usage error
// exits 2.
import type { Command } from 'commander';
import { responseCodeName } from '../../remoting/index.js';
import { AdminApi, AdminLookupError, AdminRequestError } from './admin-api.js';
import { alarmList } from './alarm-commands.js';
import { AdminUsageError, type AdminContext } from './admin-context.js';
import { registerTraceAndDiagnoseCommands } from './diagnose-command.js';
import { registerAclCommands } from './acl-commands.js';
import { registerConnectionCommands } from './connection-commands.js';
import { registerLiteCommands } from './lite-commands.js';
import { addTlsOptions, adminTlsOf } from './admin-tls.js';
import { registerDlqCommands } from './dlq-commands.js';
import { consumerProgress, deleteSubGroup, updateSubGroup } from './group-commands.js';
import { registerMessageCommands } from './message-commands.js';
import { registerOffsetCommands } from './offset-commands.js';
import { brokerStatus, clusterList, getSyncStateSet } from './status-commands.js';
import { deleteTopic, topicList, topicRoute, topicStatus, updateTopic } from './topic-commands.js';

export interface AdminIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

export const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

export type Handler = (ctx: AdminContext, opts: any) => Promise<void>;
/** Adds one `admin` subcommand (with -n) running handler; modules of commands take it to register theirs. */
export type AddSubcommand = (name: string, description: string, handler: Handler) => Command;

/** Adds `admin` and its subcommands to program; each action reports its exit code to done. */
export function registerAdminCommand(program: Command, io: AdminIO, done: (code: number) => void): void {
  const admin = program.command('admin').description('administer topics, groups and brokers (mqadmin commands)');
  const sub: AddSubcommand = (name, description, handler) => {
    const cmd = admin
      .command(name)
      .description(description)
      .option('-n, --namesrvAddr <addr>', 'name servers "host:port;host:port" (default: $NAMESRV_ADDR)')
      .option('--accessKey <ak>', 'sign requests as this ACL account (default: $APOGEE_ACCESS_KEY)')
      .option('--secretKey <sk>', 'its secret key (default: $APOGEE_SECRET_KEY)');
    addTlsOptions(cmd);
    cmd.action(async (opts: Record<string, string | undefined>) => done(await runAdmin(name, io, opts, handler)));
    return cmd;
  };
  const topicTarget = (c: Command): Command =>
    c.option('-c, --clusterName <cluster>', 'every master of this cluster').option('-b, --brokerAddr <addr>', 'this broker only');

  topicTarget(sub('updateTopic', 'create or update a topic', updateTopic))
    .requiredOption('-t, --topic <topic>', 'topic name')
    .option('-r, --readQueueNums <n>', 'read queues (default 8)')
    .option('-w, --writeQueueNums <n>', 'write queues (default 8)')
    .option('-p, --perm <perm>', 'permission: 2 = W, 4 = R, 6 = RW (default 6)')
    .option('-o, --order <bool>', 'ordered topic')
    .option('-a, --attributes <attrs>', 'attributes, "+key=value,+key2=value2"');
  sub('deleteTopic', 'delete a topic from a cluster and the name server', deleteTopic)
    .requiredOption('-c, --clusterName <cluster>', 'cluster to delete the topic from')
    .requiredOption('-t, --topic <topic>', 'topic name');
  sub('topicList', 'list every topic the name server knows', topicList);
  sub('topicRoute', "print a topic's route", topicRoute).requiredOption('-t, --topic <topic>', 'topic name');
  sub('topicStatus', "per queue min/max offset and last update of a topic", topicStatus).requiredOption('-t, --topic <topic>', 'topic name');
  sub('clusterList', 'list clusters and their brokers, with role, epoch, offset and replication lag', clusterList);
  sub('getSyncStateSet', "a broker group's in-sync replica set and each slave's position", getSyncStateSet).requiredOption(
    '-b, --brokerName <name>',
    'broker group name',
  );
  topicTarget(sub('updateSubGroup', 'create or update a subscription group', updateSubGroup))
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .option('-s, --consumeEnable <bool>', 'consumption allowed')
    .option('-m, --consumeFromMinEnable <bool>', 'a new group starts from the earliest offset')
    .option('-d, --consumeBroadcastEnable <bool>', 'broadcasting allowed')
    .option('-o, --consumeMessageOrderly <bool>', 'orderly consumption')
    .option('-q, --retryQueueNums <n>', 'retry queues')
    .option('-r, --retryMaxTimes <n>', 'retries before the dead-letter queue (0..16)')
    .option('-i, --brokerId <n>', 'broker id to consume from')
    .option('-w, --whichBrokerWhenConsumeSlowly <n>', 'broker id when consuming slowly')
    .option('-a, --notifyConsumerIdsChanged <bool>', 'notify consumers when the group changes');
  topicTarget(sub('deleteSubGroup', 'delete a subscription group', deleteSubGroup))
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .option('-r, --removeOffset <bool>', "also remove the group's committed offsets");
  sub('consumerProgress', "a group's progress: per queue broker offset, consumer offset, diff", consumerProgress)
    .requiredOption('-g, --groupName <group>', 'consumer group')
    .option('-t, --topic <topic>', 'only this topic');
  sub('brokerStatus', "a broker's runtime information", brokerStatus)
    .option('-b, --brokerAddr <addr>', 'broker address')
    .option('-c, --clusterName <cluster>', 'every master of this cluster');
  sub('alarmList', 'alarm rules and the state of each alarm, from every broker (or -b / -c)', alarmList)
    .option('-b, --brokerAddr <addr>', 'this broker only')
    .option('-c, --clusterName <cluster>', 'every broker of this cluster');
  // Further families of commands register themselves here, one line each.
  registerTraceAndDiagnoseCommands(sub);
  registerMessageCommands(sub);
  registerDlqCommands(sub);
  registerOffsetCommands(sub);
  registerConnectionCommands(sub);
  registerAclCommands(sub);
  registerLiteCommands(sub);
}

async function runAdmin(name: string, io: AdminIO, opts: Record<string, string | undefined>, handler: Handler): Promise<number> {
  const prefix = `apogee admin ${name}`;
  const namesrv = opts.namesrvAddr ?? io.env.NAMESRV_ADDR;
  if (!namesrv) {
    io.stderr(`${prefix}: no name server: give -n host:port or set NAMESRV_ADDR\n`);
    return EXIT_USAGE;
  }
  let api: AdminApi;
  try {
    api = new AdminApi(namesrv, undefined, credentialsOf(opts, io.env), adminTlsOf(opts, io.env));
  } catch (err) {
    io.stderr(`${prefix}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
  try {
    await handler({ api, out: io.stdout }, opts);
    return 0;
  } catch (err) {
    if (err instanceof AdminUsageError) {
      io.stderr(`${prefix}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof AdminRequestError) {
      io.stderr(`${prefix}: ${err.addr} answered ${responseCodeName(err.code)} (code ${err.code}): ${err.remark}\n`);
      return EXIT_FAILED;
    }
    if (err instanceof AdminLookupError) {
      io.stderr(`${prefix}: ${err.message}\n`);
      return EXIT_FAILED;
    }
    io.stderr(`${prefix}: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  } finally {
    await api.close();
  }
}

/** The signing account from --accessKey/--secretKey, else APOGEE_ACCESS_KEY/APOGEE_SECRET_KEY; none = unsigned. */
function credentialsOf(opts: Record<string, string | undefined>, env: AdminIO['env']): { accessKey: string; secretKey: string } | undefined {
  const accessKey = opts.accessKey ?? env.APOGEE_ACCESS_KEY;
  const secretKey = opts.secretKey ?? env.APOGEE_SECRET_KEY;
  return accessKey && secretKey ? { accessKey, secretKey } : undefined;
}
