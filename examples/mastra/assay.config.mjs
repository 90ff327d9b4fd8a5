// The whole integration: every agent and workflow of the Mastra instance as a target, every scorer as a scorer.
import { fromMastra } from '@assay/mastra';
import { mastra } from './mastra.mjs';

export default fromMastra(mastra, { generateOptions: { maxSteps: 3 } });
