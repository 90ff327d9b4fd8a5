/**
 * What a config's `model` holds: an AI SDK language model (e.g. `openai('gpt-4o-mini')` — any
 * provider's model object has these fields) or a gateway model id string. Declared here, not
 * imported from `ai`, so that Assay's types need no AI SDK where no model is used (`ai` is an
 * optional peer dependency).
 */
export type LanguageModel =
  | string
  | { readonly specificationVersion: string; readonly provider: string; readonly modelId: string };
