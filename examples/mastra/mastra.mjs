/**
 * The Mastra project under test, as a Mastra user writes it: an agent on an AI SDK model with a
 * tool, a workflow that asks the agent and tidies its answer, and a scorer.
 * The model is the local server of model-server.mjs (MODEL_URL).
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { Mastra } from '@mastra/core';
import { Agent } from '@mastra/core/agent';
import { createScorer } from '@mastra/core/evals';
import { createTool } from '@mastra/core/tools';
import { createStep, createWorkflow } from '@mastra/core/workflows';
import { z } from 'zod';

const CAPITALS = { france: 'Paris', japan: 'Tokyo', kenya: 'Nairobi', peru: 'Lima', canada: 'Ottawa', italy: 'Rome' };

const model = createOpenAICompatible({ name: 'local', baseURL: process.env.MODEL_URL, apiKey: 'offline' });

const capital = createTool({
  id: 'capital',
  description: 'The capital city of a country',
  inputSchema: z.object({ country: z.string() }),
  execute: async ({ country }) => ({ capital: CAPITALS[country.trim().toLowerCase()] ?? null }),
});

export const capitals = new Agent({
  id: 'capitals',
  name: 'Capitals',
  description: 'Answers with a country’s capital, using the capital tool',
  instructions: 'Answer with the name of the capital only. Use the capital tool.',
  model: model.chatModel('local-model'),
  tools: { capital },
});

const ask = createStep({
  id: 'ask',
  inputSchema: z.string(),
  outputSchema: z.object({ answer: z.string() }),
  execute: async ({ inputData, mastra }) => {
    const r = await mastra.getAgent('capitals').generate(inputData, { maxSteps: 3 });
    return { answer: r.text };
  },
});
const tidy = createStep({
  id: 'tidy',
  inputSchema: z.object({ answer: z.string() }),
  outputSchema: z.string(),
  execute: async ({ inputData }) => {
    if (inputData.answer === 'I do not know.') throw new Error('the agent did not know');
    return inputData.answer.trim().toUpperCase();
  },
});
export const shout = createWorkflow({ id: 'shout', inputSchema: z.string(), outputSchema: z.string() })
  .then(ask)
  .then(tidy)
  .commit();

export const exact = createScorer({ id: 'exact', description: 'The answer is the capital (any case)' })
  .generateScore(({ run }) => (String(run.output).toLowerCase() === String(run.groundTruth).toLowerCase() ? 1 : 0))
  .generateReason(({ score, run }) => (score ? 'correct' : `expected ${run.groundTruth}`));

export const mastra = new Mastra({ agents: { capitals }, workflows: { shout }, scorers: { exact }, logger: false });
