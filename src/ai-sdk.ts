/**
 * The AI SDK's tool builders, loaded lazily by the code that makes tools (`await
 * import('../ai-sdk.ts')`). They come from `@ai-sdk/provider-utils`, where the `ai` package gets
 * them: the CLI bundle (scripts/build-cli.ts) wraps a lazily loaded module whole, so importing them
 * from `ai` would evaluate that package's top level (its zod schemas for UI and model messages)
 * in every run. The tool loop's own pieces come from `ai/internal` (src/run/step-loop.ts).
 */
export { asSchema, dynamicTool, jsonSchema, tool } from '@ai-sdk/provider-utils';
