export { registerBenchCommand, type BenchIO } from './bench-command.js';
export { LatencyHistogram } from './latency-histogram.js';
