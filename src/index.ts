/**
 * Pantheon as a library: every public export, named. The CLI (src/cli/) is built on these.
 */

// Errors and events
export { PantheonError, isPantheonError, EXIT } from './errors.ts';
export type { ErrorCode, PantheonErrorOptions } from './errors.ts';
export { EventBus } from './events.ts';
export type { PantheonEvent, EventInput, EventType, Listener, Usage, WorkflowStatus, WorkflowTaskStatus, WorkflowStepPlan, WorkflowSummary } from './events.ts';

// Config
export { loadConfig, loadConfigFile } from './config/load.ts';
export type { LoadOptions, LoadedConfig, ConfigWarning } from './config/load.ts';
export { configWarningsOf, validateConfigObject, validateLayers } from './config/validate.ts';
export { maskConfig } from './config/mask.ts';
export { maskSecret } from './config/secrets.ts';
export { initConfig } from './config/init.ts';
export { listPresets } from './config/presets.ts';
export type * from './config/schema-types.ts';

// Providers and credentials
export { resolveModel } from './providers/resolve-model.ts';
export type { ResolvedModel, ResolveContext, ModelCost } from './providers/resolve-model.ts';
export { parseModelRef, formatModelRef } from './providers/model-ref.ts';
export type { ModelRef, ModelSpecInput } from './providers/model-ref.ts';
export { findCredential, readAuthStore } from './providers/credentials.ts';
export type { Credential, CredentialSource } from './providers/credentials.ts';
export { WELL_KNOWN_PROVIDERS, envVarsFor } from './providers/catalog.ts';
export type { KnownProvider } from './providers/catalog.ts';

// Scheduling
export { Scheduler } from './scheduler/scheduler.ts';
export type { ScheduledModel, AttemptRecord, CooldownPolicy, ExecuteContext, SchedulerOptions } from './scheduler/scheduler.ts';
export { SqliteLedger, defaultLedgerPath } from './scheduler/ledger-sqlite.ts';
export { MemoryLedger } from './scheduler/ledger-memory.ts';
export type { Ledger, ReserveRequest, ReserveResult, Granted, WindowLimit, TokenLimit, ConcurrencyLimit } from './scheduler/ledger.ts';
export type { LearnedLimit, LearnedReserve } from './scheduler/learned.ts';
export type { SpendAmount, BudgetLimit, SpendRequest, SpendResult, UsageRecord } from './scheduler/spend.ts';
export { acquire } from './scheduler/acquire.ts';
export { snapshotLanes } from './scheduler/lane-snapshot.ts';
export type { LaneSnapshot, LaneState, LaneWindow, LaneTokens, LaneConcurrency } from './scheduler/lane-snapshot.ts';
export { LaneActivity } from './scheduler/lane-activity.ts';
export type { LaneSpec, LaneCounters } from './scheduler/lane-activity.ts';
export { configuredLanes, hostLanes } from './core/lanes.ts';
export { applicableLimits } from './scheduler/limits.ts';
export { DEFAULT_RETRY, backoffDelay, retryDelay, parseRetryAfter, classifyFailure } from './scheduler/retry-policy.ts';
export type { RetryPolicy, Failure } from './scheduler/retry-policy.ts';
export { createChainModel } from './scheduler/chain-model.ts';

// Cache
export { openCache } from './cache/response-cache.ts';
export type { ResponseCache, CachedResponse, CacheConfig } from './cache/response-cache.ts';
export { cacheKey } from './cache/key.ts';

// Agents, tools, permissions, runs
export { resolveAgent, agentNames } from './agents/resolve-agent.ts';
export type { ResolvedAgent } from './agents/resolve-agent.ts';
export { runTask } from './run/run-task.ts';
export type { RunTaskOptions, RunTaskResult } from './run/run-task.ts';
export { openRuntime } from './run/runtime.ts';
export { openTurn } from './core/session-turn.ts';
export type { Turn, TurnRequest, TurnResult, TurnServices, TurnPermissions, SessionChoice, SessionPlace } from './core/session-turn.ts';
export { openMcp } from './core/mcp-servers.ts';
export { Metrics, recordGatewayOverhead } from './core/metrics.ts';
export type { McpServers } from './core/mcp-servers.ts';
export type { Runtime, RuntimeOptions } from './run/runtime.ts';
export { costOf, UsageTally } from './run/usage-tally.ts';
export { createBuiltinTools, executeTool, BUILTIN_TOOL_NAMES, ToolError } from './tools/index.ts';
export type { ToolContext, BuiltinTool } from './tools/index.ts';
export { authorize, evaluatePermission, mergePermission, ttyConfirm, PermissionDeniedError } from './permissions/index.ts';
export type { Permission, PermissionAction, PermissionRule } from './permissions/index.ts';

// Workflows
export { runWorkflow, summarize } from './workflow/run-workflow.ts';
export type { WorkflowRunOptions, WorkflowRunResult, TaskState, TaskStatus } from './workflow/run-workflow.ts';
export { validateWorkflow, requiredInputs } from './workflow/validate.ts';
export type { ValidatedWorkflow, ValidatedStep, ForEachSource } from './workflow/validate.ts';
export { Journal, journalPath, newRunId } from './workflow/journal.ts';
export type { RunRecord, RunStatus, JournalOptions } from './workflow/journal.ts';
export { renderTemplate, templateRefs } from './workflow/template.ts';
export { WaitClock } from './run/wait-clock.ts';

// Sessions
export { SessionStore } from './session/store.ts';
export type { SessionRecord, SessionSummary, SessionMessage } from './session/store.ts';
export { trimHistory } from './session/trim.ts';

// MCP
export { McpManager } from './mcp/manager.ts';
export type { McpManagerOptions } from './mcp/manager.ts';
export { toolsForAgent, mcpServersForAgent } from './mcp/agent-tools.ts';

// Auth and doctor
export { readAuthStoreFile, saveApiKey, removeEntry } from './auth/store.ts';
export { authStatus } from './auth/status.ts';
export type { AuthStatus, ProviderStatus } from './auth/status.ts';
export { runDoctor, parseGroups } from './doctor/run-doctor.ts';
export { formatText as formatDoctorReport } from './doctor/format-text.ts';
export type { DoctorReport, DoctorOptions, CheckResult, CheckGroup, CheckStatus } from './doctor/types.ts';
