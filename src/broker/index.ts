import { silentLogger, type Logger } from '../common/logger.js';
import { aclUnavailable, type BrokerConfig, type RoleHandle } from '../config/index.js';
import { loadAlarmRules, startBrokerAlarms } from './alarm-view.js';
import { BrokerController } from './broker-controller.js';
import { attachAlarmStatus } from './processor/alarm-processor.js';

export { BrokerController } from './broker-controller.js';
export type { BrokerStartOptions } from './broker-controller.js';
export * from './topic-config.js';
export { hostPortOf, decodeRecord } from './record-view.js';
export { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from './subscription-group-manager.js';

/** Starts a broker; its RoleHandle names the remoting listener as `broker`. */
export async function startBroker(config: BrokerConfig, opts: { logger?: Logger } = {}): Promise<RoleHandle & { controller: BrokerController }> {
  // loadConfig refuses these already; this covers configurations built by hand (issue 11).
  const acl = config.aclEnable ? 'aclEnable' : config.enableAcl ? 'enableAcl' : undefined;
  if (acl) throw new Error(aclUnavailable(acl));
  // A bad alarm rules file refuses the start (ConfigError: file, line, cause) before anything opens.
  const rules = loadAlarmRules(config);
  const controller = await BrokerController.start(config, opts);
  const alarms = rules && startBrokerAlarms(controller, rules, opts.logger ?? silentLogger);
  if (alarms) attachAlarmStatus(controller.store, alarms.engine);
  const shutdown = async (): Promise<void> => {
    if (alarms) {
      attachAlarmStatus(controller.store, undefined);
      await alarms.stop();
    }
    await controller.shutdown();
  };
  let closing: Promise<void> | undefined;
  return {
    controller,
    addresses: controller.haAddr ? { broker: controller.brokerAddr, ha: controller.haAddr } : { broker: controller.brokerAddr },
    close: () => (closing ??= shutdown()),
  };
}
