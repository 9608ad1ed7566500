// mqadmin's ACL 1.0 commands against brokers with aclEnable: updateAclConfig, deleteAclConfig,
// updateGlobalWhiteAddr, clusterAclConfigVersion / getAclConfigVersion and getAclConfig (the
// accounts without their secrets). The broker writes plain_acl.yml and applies it at once; these
// requests need an admin account, so sign them (--accessKey/--secretKey or APOGEE_ACCESS_KEY /
// APOGEE_SECRET_KEY). The account being edited is named with -a/-s (long names --aclAccessKey /
// --aclSecretKey, since --accessKey/--secretKey are the signing account).
import { RequestCode } from '../../remoting/index.js';
import { jsonBody } from './admin-api.js';
import type { AddSubcommand } from './admin-command.js';
import { AdminUsageError, boolOption, targetAddrs, targetOf, type AdminContext } from './admin-context.js';
import { formatTable, formatTime } from './table.js';

const PERM = /^(PUB|SUB|PUB\|SUB|SUB\|PUB|DENY)$/;

function permOption(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!PERM.test(raw.trim())) throw new AdminUsageError(`option ${name}: expected PUB, SUB, PUB|SUB or DENY, got "${raw}"`);
  return raw.trim();
}

function permListOption(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.lastIndexOf('=');
    if (eq <= 0 || !PERM.test(entry.slice(eq + 1))) throw new AdminUsageError(`option ${name}: "${entry}": expected name=PUB|SUB|PUB|SUB|DENY`);
  }
  return raw;
}

async function forEachTarget(ctx: AdminContext, opts: { clusterName?: string; brokerAddr?: string }, code: number, ext: Record<string, string | undefined>, what: string): Promise<void> {
  for (const addr of await targetAddrs(ctx, targetOf(opts))) {
    await ctx.api.brokerOk(addr, code, ext);
    ctx.out(`${what} on ${addr}: OK\n`);
  }
}

async function updateAclConfig(ctx: AdminContext, o: Record<string, string | undefined>): Promise<void> {
  const ext = {
    accessKey: o.aclAccessKey,
    secretKey: o.aclSecretKey,
    whiteRemoteAddress: o.whiteRemoteAddress,
    defaultTopicPerm: permOption('-i', o.defaultTopicPerm),
    defaultGroupPerm: permOption('-u', o.defaultGroupPerm),
    topicPerms: permListOption('-t', o.topicPerms),
    groupPerms: permListOption('-g', o.groupPerms),
    admin: boolOption('-m', o.admin)?.toString(),
  };
  await forEachTarget(ctx, o, RequestCode.UPDATE_AND_CREATE_ACL_CONFIG, ext, `updateAclConfig ${o.aclAccessKey}`);
}

async function deleteAclConfig(ctx: AdminContext, o: Record<string, string | undefined>): Promise<void> {
  await forEachTarget(ctx, o, RequestCode.DELETE_ACL_CONFIG, { accessKey: o.aclAccessKey }, `deleteAclConfig ${o.aclAccessKey}`);
}

async function updateGlobalWhiteAddr(ctx: AdminContext, o: Record<string, string | undefined>): Promise<void> {
  await forEachTarget(ctx, o, RequestCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, { globalWhiteAddrs: o.globalWhiteRemoteAddresses ?? '' }, 'updateGlobalWhiteAddr');
}

async function aclConfigVersion(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string }): Promise<void> {
  const rows: string[][] = [];
  for (const addr of await targetAddrs(ctx, targetOf(o))) {
    const r = await ctx.api.brokerOk(addr, RequestCode.GET_BROKER_CLUSTER_ACL_INFO);
    const v = JSON.parse(r.extFields.version ?? '{}') as { timestamp?: number; counter?: number };
    rows.push([r.extFields.clusterName ?? '', r.extFields.brokerName ?? '', addr, String(v.counter ?? ''), v.timestamp ? formatTime(v.timestamp) : '']);
  }
  ctx.out(formatTable(['#Cluster Name', '#Broker Name', '#Broker Addr', '#AclFileVersion', '#LastUpdateTime'], rows));
}

interface AclConfigBody {
  globalWhiteAddrs: string[];
  plainAccessConfigs: { accessKey: string; whiteRemoteAddress: string; admin: boolean; defaultTopicPerm: string; defaultGroupPerm: string; topicPerms: string[]; groupPerms: string[] }[];
}

async function getAclConfig(ctx: AdminContext, o: { clusterName?: string; brokerAddr?: string }): Promise<void> {
  for (const addr of await targetAddrs(ctx, targetOf(o))) {
    const body = jsonBody<AclConfigBody>(await ctx.api.brokerOk(addr, RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG), 'ACL config');
    ctx.out(`${addr}  globalWhiteRemoteAddresses: ${body.globalWhiteAddrs.join(',') || '-'}\n`);
    const rows = body.plainAccessConfigs.map((a) => [a.accessKey, String(a.admin), a.whiteRemoteAddress || '-', a.defaultTopicPerm, a.defaultGroupPerm, a.topicPerms.join(',') || '-', a.groupPerms.join(',') || '-']);
    ctx.out(formatTable(['#AccessKey', '#Admin', '#WhiteRemoteAddress', '#DefaultTopicPerm', '#DefaultGroupPerm', '#TopicPerms', '#GroupPerms'], rows));
  }
}

export function registerAclCommands(sub: AddSubcommand): void {
  const target = (name: string, description: string, handler: (ctx: AdminContext, opts: any) => Promise<void>) =>
    sub(name, description, handler).option('-c, --clusterName <cluster>', 'every master of this cluster').option('-b, --brokerAddr <addr>', 'this broker only');
  target('updateAclConfig', 'create or update an ACL account in plain_acl.yml (needs an admin account)', updateAclConfig)
    .requiredOption('-a, --aclAccessKey <ak>', 'the account to create or update')
    .option('-s, --aclSecretKey <sk>', 'its secret key (required for a new account)')
    .option('-w, --whiteRemoteAddress <addr>', 'addresses that need no signature')
    .option('-i, --defaultTopicPerm <perm>', 'PUB, SUB, PUB|SUB or DENY')
    .option('-u, --defaultGroupPerm <perm>', 'PUB, SUB, PUB|SUB or DENY')
    .option('-t, --topicPerms <list>', '"topicA=DENY,topicB=PUB|SUB"')
    .option('-g, --groupPerms <list>', '"groupA=SUB,groupB=DENY"')
    .option('-m, --admin <bool>', 'admin account');
  target('deleteAclConfig', 'delete an ACL account from plain_acl.yml', deleteAclConfig).requiredOption('-a, --aclAccessKey <ak>', 'the account to delete');
  target('updateGlobalWhiteAddr', 'replace globalWhiteRemoteAddresses', updateGlobalWhiteAddr).requiredOption(
    '-g, --globalWhiteRemoteAddresses <addrs>',
    'comma-separated address patterns ("" clears)',
  );
  target('clusterAclConfigVersion', "the ACL file version of each broker (-c) or one broker (-b)", aclConfigVersion);
  target('getAclConfigVersion', 'same as clusterAclConfigVersion', aclConfigVersion);
  target('getAclConfig', 'the ACL accounts of each broker, without secrets', getAclConfig);
}
