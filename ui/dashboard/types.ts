/** The shapes /api/state/stream sends (see src/core/live/ and src/scheduler/lane-snapshot.ts). */
export interface LimitUse {
  label: string;
  scope: 'default' | 'provider' | 'model';
  used: number;
  limit: number;
  windowMs?: number;
  nextFreeMs?: number;
}

export interface Lane {
  key: string;
  provider: string;
  model: string;
  state: 'idle' | 'busy' | 'waiting' | 'full' | 'cooling';
  inFlight: number;
  queued: number;
  started: number;
  windows: LimitUse[];
  tokens: LimitUse[];
  concurrency: LimitUse[];
  nextSlotMs: number;
  blockedBy?: string;
  waitUntil?: number;
  tokensPerMinute: number;
  tokensPerMinuteSource: 'ledger' | 'process';
  cooldown?: { until: number; failures: number; remainingMs: number };
  at: number;
}

export interface LogEntry {
  seq: number;
  time: number;
  type: 'retry' | 'fallback' | 'rate_limited' | 'cache_hit' | 'error' | 'warning';
  sessionID: string;
  projectRoot: string;
  agent?: string;
  provider?: string;
  model?: string;
  stepID?: string;
  attempt?: number;
  delayMs?: number;
  status?: number | string;
  from?: string;
  to?: string;
  reason?: string;
  waitMs?: number;
  limit?: string;
  code?: string;
  message?: string;
}

export interface Figures {
  inputTokens: number;
  outputTokens: number;
  requests: number;
  costUSD: number;
}

export interface Totals extends Figures {
  byAgent: Record<string, Figures>;
  byProvider: Record<string, Figures>;
  byModel: Record<string, Figures>;
}

export interface Bucket extends Figures {
  t: number;
}

export interface Usage {
  today: Totals;
  sinceStart: Totals;
  startedAt: number;
  perMinute: Bucket[];
  perHour: Bucket[];
  projection: { costUSD: number; tokens: number; perHourUSD: number; perHourTokens: number; basisMinutes: number };
}

export interface Session {
  id: string;
  projectRoot: string;
  title: string;
  agent: string;
  status: 'busy' | 'retry' | 'success' | 'failed' | 'cancelled';
  startedAt: number;
  endedAt?: number;
  model?: string;
  steps: number;
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
  lastAnswer: string;
  error?: string;
}

export interface Workflow {
  runId: string;
  workflow: string;
  status: 'running' | 'success' | 'failed' | 'cancelled';
  startedAt: number;
  endedAt?: number;
  steps: { id: string; agent: string; total: number; done: number; running: number; failed: number }[];
  inputTokens: number;
  outputTokens: number;
  costUSD?: number;
  lastAnswer?: string;
}

export interface State {
  version: string;
  now: number;
  lanes: Lane[];
  log: LogEntry[];
  usage: Usage;
  sessions: Session[];
  workflows: Workflow[];
}
