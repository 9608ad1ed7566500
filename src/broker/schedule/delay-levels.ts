// Delay levels are parsed in common (the cluster proxy reads a broker's messageDelayLevel too).
export { parseDelayLevels } from '../../common/delay-levels.js';
