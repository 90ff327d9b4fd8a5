export {
  binOf,
  histogramBins,
  type ScorerStatsAggregate,
  scorerStats,
} from './histogram.js';
export {
  buildRunSummary,
  DEFAULT_PASS_THRESHOLD,
  medianOf,
  medianWindow,
  nearestRankIndex,
  passRate,
  passThresholdOf,
  repetitionSpread,
  type ScorerAggregate,
  type SummaryAggregates,
  scorerSummary,
  usageSummary,
} from './summary.js';
