/**
 * Statistics for comparing runs: pure functions, no storage, no I/O. Checked against scipy and
 * statsmodels (packages/core/test/stats/).
 */
export { binomialHalfCdf, mcnemarExact } from './binomial.js';
export { holm } from './holm.js';
export { type MeanSums, meanInterval } from './mean.js';
export { type PairedDifference, type PairedOptions, pairedDifference } from './paired.js';
export { type Interval, wilson, zFor } from './proportion.js';
