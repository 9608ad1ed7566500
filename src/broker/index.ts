import type { Logger } from '../common/logger.js';
import type { BrokerConfig, RoleHandle } from '../config/index.js';
import { BrokerController } from './broker-controller.js';

export { BrokerController } from './broker-controller.js';
export type { BrokerStartOptions } from './broker-controller.js';
export * from './topic-config.js';
export { hostPortOf, decodeRecord } from './record-view.js';
export { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from './subscription-group-manager.js';

/** Starts a broker; its RoleHandle names the remoting listener as `broker`. */
export async function startBroker(config: BrokerConfig, opts: { logger?: Logger } = {}): Promise<RoleHandle & { controller: BrokerController }> {
  const controller = await BrokerController.start(config, opts);
  let closing: Promise<void> | undefined;
  return {
    controller,
    addresses: { broker: controller.brokerAddr },
    close: () => (closing ??= controller.shutdown()),
  };
}
