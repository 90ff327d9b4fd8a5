/**
 * The AI SDK (`ai`) is an optional peer dependency: only `model` targets and the `llm-judge`
 * scorer use it, and a config that has one already imports a provider from it.
 */
import { importOptional } from '../optional.js';

export const loadAiSdk = () => importOptional(() => import('ai'), ['ai'], 'A model target or the llm-judge scorer');
