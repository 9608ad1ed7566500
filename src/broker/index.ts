import { silentLogger, type Logger } from '../common/logger.js';
import { aclEnabled, defaultAclConfigFile, type BrokerConfig, type RoleHandle } from '../config/index.js';
import { AclService } from './acl/index.js';
import { loadAlarmRules, startBrokerAlarms } from './alarm-view.js';
import { BrokerController } from './broker-controller.js';
import { attachAlarmStatus } from './processor/alarm-processor.js';

export { BrokerController } from './broker-controller.js';
export type { BrokerStartOptions } from './broker-controller.js';
export * from './topic-config.js';
export { hostPortOf, decodeRecord } from './record-view.js';
export { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from './subscription-group-manager.js';

const aclServices = new WeakMap<BrokerController, AclService>();

/** The ACL of a broker started with aclEnable (its gRPC endpoint checks with it too), else undefined. */
export function aclServiceOf(controller: BrokerController): AclService | undefined {
  return aclServices.get(controller);
}

/** Starts a broker; its RoleHandle names the remoting listener as `broker`. */
export async function startBroker(config: BrokerConfig, opts: { logger?: Logger } = {}): Promise<RoleHandle & { controller: BrokerController }> {
  const logger = opts.logger ?? silentLogger;
  // A missing or malformed plain_acl.yml refuses the start (file, line, cause) before anything opens.
  const acl = aclEnabled(config)
    ? AclService.open({ file: config.aclConfigFile || defaultAclConfigFile(undefined), logger, brokerName: config.brokerName, clusterName: config.brokerClusterName })
    : undefined;
  // A bad alarm rules file refuses the start (ConfigError: file, line, cause) before anything opens.
  const rules = loadAlarmRules(config);
  const controller = await BrokerController.start(config, { ...opts, requestHooks: acl ? [acl.remotingHook()] : [] });
  if (acl) {
    acl.registerProcessors(controller.remotingServer, () => controller.brokerAddr);
    acl.watch();
    aclServices.set(controller, acl);
  }
  const alarms = rules && startBrokerAlarms(controller, rules, opts.logger ?? silentLogger);
  if (alarms) attachAlarmStatus(controller.store, alarms.engine);
  const shutdown = async (): Promise<void> => {
    if (alarms) {
      attachAlarmStatus(controller.store, undefined);
      await alarms.stop();
    }
    await controller.shutdown();
    acl?.close();
  };
  let closing: Promise<void> | undefined;
  return {
    controller,
    addresses: controller.haAddr ? { broker: controller.brokerAddr, ha: controller.haAddr } : { broker: controller.brokerAddr },
    close: () => (closing ??= shutdown()),
  };
}
