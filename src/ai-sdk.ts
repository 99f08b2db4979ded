/**
 * The parts of the `ai` package Pantheon calls, imported by name. Callers load this module lazily
 * (`await import('../ai-sdk.ts')`) instead of `await import('ai')`: a dynamic import of the package
 * itself makes the CLI bundle (scripts/build-cli.ts) keep and evaluate all of it, UI-message
 * schemas, embeddings and image generation included; named imports let esbuild leave out what
 * none of these functions reach (docs/performance.md, issue #18).
 */
export { dynamicTool, isStepCount, jsonSchema, streamText, tool } from 'ai';
