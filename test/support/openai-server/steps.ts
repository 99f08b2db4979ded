/**
 * Step validation (for `script()` and scenario files) and the per-model FIFO queues.
 */
import type { ErrorStatus, Step, StepKind } from './types.ts';

export const ERROR_STATUSES: readonly ErrorStatus[] = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529];

const STEP_KEYS: Record<StepKind, readonly string[]> = {
  text: ['text', 'chunks', 'usage', 'chunkDelayMs', 'finishReason', 'reasoning'],
  echo: ['prefix', 'chunkDelayMs'],
  slow: ['text', 'chunkDelayMs', 'chunks', 'usage'],
  tool_calls: ['calls', 'text', 'usage', 'chunkDelayMs'],
  status: ['status', 'retryAfter', 'retryAfterMs', 'body', 'message', 'headers'],
  hang: ['text'],
  reset: [],
  bad_json: ['body'],
  truncated: ['text', 'abrupt'],
};
const COMMON_KEYS = ['type', 'repeat', 'forever', 'delayMs', 'after'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new TypeError(`${path}: ${message}`);
}

function checkNumber(step: Record<string, unknown>, key: string, path: string, required = false): void {
  const value = step[key];
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`${path}.${key}`, `expected a number >= 0, found ${JSON.stringify(value)}`);
  }
}

function checkString(step: Record<string, unknown>, key: string, path: string, required = false): void {
  const value = step[key];
  if (value === undefined && !required) return;
  if (typeof value !== 'string') fail(`${path}.${key}`, `expected a string, found ${JSON.stringify(value)}`);
}

function checkChunks(step: Record<string, unknown>, path: string): void {
  const chunks = step.chunks;
  if (chunks === undefined) return;
  if (!Array.isArray(chunks) || chunks.some((chunk) => typeof chunk !== 'string')) {
    fail(`${path}.chunks`, 'expected an array of strings');
  }
  if (typeof step.text === 'string' && chunks.join('') !== step.text) {
    fail(`${path}.chunks`, 'the chunks do not join to `text`');
  }
}

function checkUsage(step: Record<string, unknown>, path: string): void {
  const usage = step.usage;
  if (usage === undefined) return;
  if (!isRecord(usage)) fail(`${path}.usage`, 'expected an object {prompt_tokens?, completion_tokens?, cached_tokens?, reasoning_tokens?}');
  for (const key of Object.keys(usage)) {
    if (!['prompt_tokens', 'completion_tokens', 'cached_tokens', 'reasoning_tokens'].includes(key)) fail(`${path}.usage.${key}`, 'unknown key');
    checkNumber(usage, key, `${path}.usage`);
  }
}

function checkCalls(step: Record<string, unknown>, path: string): void {
  const calls = step.calls;
  if (!Array.isArray(calls) || calls.length === 0) fail(`${path}.calls`, 'expected a non-empty array');
  calls.forEach((call: unknown, index) => {
    const at = `${path}.calls[${index}]`;
    if (!isRecord(call)) fail(at, 'expected {name, arguments, id?}');
    checkString(call, 'name', at, true);
    checkString(call, 'id', at);
    const args = call.arguments;
    if (typeof args !== 'string' && !isRecord(args)) fail(`${at}.arguments`, 'expected an object or a string');
  });
}

/** Checks one step and returns it typed; throws a TypeError naming the path of the problem. */
export function validateStep(value: unknown, path = 'step'): Step {
  if (!isRecord(value)) fail(path, `expected a step object, found ${JSON.stringify(value)}`);
  const type = value.type;
  if (typeof type !== 'string' || !Object.hasOwn(STEP_KEYS, type)) {
    fail(`${path}.type`, `expected one of ${Object.keys(STEP_KEYS).join(', ')}, found ${JSON.stringify(type)}`);
  }
  const kind = type as StepKind;
  const allowed = new Set([...COMMON_KEYS, ...STEP_KEYS[kind]]);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(`${path}.${key}`, `unknown key for a '${kind}' step`);
  }
  const repeat = value.repeat;
  if (repeat !== undefined && (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 1)) {
    fail(`${path}.repeat`, `expected an integer >= 1, found ${JSON.stringify(repeat)}`);
  }
  if (value.forever !== undefined && typeof value.forever !== 'boolean') fail(`${path}.forever`, 'expected a boolean');
  checkNumber(value, 'delayMs', path);
  if (value.after !== undefined && !(value.after instanceof Promise)) fail(`${path}.after`, 'expected a promise');
  checkNumber(value, 'chunkDelayMs', path, kind === 'slow');
  checkUsage(value, path);
  switch (kind) {
    case 'text':
      if (value.text === undefined && value.chunks === undefined) fail(path, "a 'text' step needs `text` or `chunks`");
      checkString(value, 'text', path);
      checkChunks(value, path);
      if (value.finishReason !== undefined && !['stop', 'length', 'content_filter'].includes(String(value.finishReason))) {
        fail(`${path}.finishReason`, 'expected stop, length or content_filter');
      }
      break;
    case 'slow':
      checkString(value, 'text', path, true);
      checkChunks(value, path);
      break;
    case 'echo':
      checkString(value, 'prefix', path);
      break;
    case 'tool_calls':
      checkCalls(value, path);
      checkString(value, 'text', path);
      break;
    case 'status':
      if (!ERROR_STATUSES.includes(value.status as ErrorStatus)) {
        fail(`${path}.status`, `expected one of ${ERROR_STATUSES.join(', ')}, found ${JSON.stringify(value.status)}`);
      }
      if (value.retryAfter !== undefined && typeof value.retryAfter !== 'string') checkNumber(value, 'retryAfter', path);
      checkNumber(value, 'retryAfterMs', path);
      checkString(value, 'message', path);
      if (value.headers !== undefined && (!isRecord(value.headers) || Object.values(value.headers).some((v) => typeof v !== 'string'))) {
        fail(`${path}.headers`, 'expected an object of strings');
      }
      break;
    case 'hang':
    case 'truncated':
      checkString(value, 'text', path);
      if (value.abrupt !== undefined && typeof value.abrupt !== 'boolean') fail(`${path}.abrupt`, 'expected a boolean');
      break;
    case 'bad_json':
      checkString(value, 'body', path);
      break;
    case 'reset':
      break;
  }
  return value as unknown as Step;
}

interface QueuedStep {
  step: Step;
  remaining: number;
}

/** Per-model FIFO queues of steps with `repeat` and `forever`. */
export function createStepQueues(): {
  push: (model: string, steps: readonly Step[]) => void;
  next: (model: string) => Step | undefined;
  pending: (model: string) => number;
  models: () => string[];
  clear: () => void;
} {
  const queues = new Map<string, QueuedStep[]>();
  return {
    push(model, steps) {
      const queue = queues.get(model) ?? [];
      for (const step of steps) {
        queue.push({ step, remaining: step.forever === true ? Infinity : (step.repeat ?? 1) });
      }
      queues.set(model, queue);
    },
    next(model) {
      const queue = queues.get(model);
      const head = queue?.[0];
      if (queue === undefined || head === undefined) return undefined;
      head.remaining -= 1;
      if (head.remaining <= 0) queue.shift();
      return head.step;
    },
    pending(model) {
      return (queues.get(model) ?? []).reduce((sum, entry) => sum + entry.remaining, 0);
    },
    models() {
      return [...queues.keys()];
    },
    clear() {
      queues.clear();
    },
  };
}
