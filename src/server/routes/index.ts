/**
 * Every route group the server serves, in one place. A new front-end (the /v1 gateway, /api/v1,
 * the dashboard) is a route group file next to these, added to this list.
 */
import type { RouteGroup } from '../route.ts';
import { dashboardRoutes } from './dashboard.ts';
import { docRoutes } from './doc.ts';
import { healthRoutes } from './health.ts';
import { liveStateRoutes } from './live-state.ts';
import { metricsRoutes } from './metrics.ts';
import { openAiRoutes } from './openai.ts';
import { pantheonRunRoutes } from './pantheon-run.ts';
import { restApiRoutes } from './rest-api.ts';
import { statsRoutes } from './stats.ts';
import { openCodeAppRoutes } from './opencode-app.ts';
import { openCodeAuthRoutes } from './opencode-auth.ts';
import { openCodeConfigRoutes } from './opencode-config.ts';
import { openCodeControlPlaneRoutes } from './opencode-control-plane.ts';
import { openCodeEventRoutes } from './opencode-event.ts';
import { openCodeFileRoutes } from './opencode-file.ts';
import { openCodeCredentialRoutes, openCodeIntegrationRoutes } from './opencode-integration.ts';
import { openCodeGlobalSessionRoutes } from './opencode-global-sessions.ts';
import { openCodeInstanceRoutes } from './opencode-instance.ts';
import { openCodeMcpRoutes } from './opencode-mcp.ts';
import { openCodeExtrasRoutes } from './opencode-extras.ts';
import { openCodePermissionRoutes } from './opencode-permission.ts';
import { openCodeProjectRoutes } from './opencode-project.ts';
import { openCodeProjectEditRoutes } from './opencode-project-edit.ts';
import { openCodeProjectCopyRoutes } from './opencode-project-copy.ts';
import { openCodePtyRoutes, openCodePtyV2Routes } from './opencode-pty.ts';
import { openCodeQuestionRoutes } from './opencode-question.ts';
import { openCodeSessionRoutes } from './opencode-session.ts';
import { openCodeSessionBackgroundRoutes } from './opencode-session-background.ts';
import { openCodeTuiRoutes } from './opencode-tui.ts';
import { openCodeV2CatalogRoutes } from './opencode-v2-catalog.ts';
import { openCodeV2SessionRoutes } from './opencode-v2-session.ts';
import { openCodeV2FsRoutes } from './opencode-v2-fs.ts';
import { openCodeV2Routes } from './opencode-v2.ts';
import { openCodeV2PermissionRoutes, openCodeV2QuestionRoutes } from './opencode-v2-asks.ts';
import { openCodeSyncRoutes } from './opencode-sync.ts';
import { openCodeVcsRoutes } from './opencode-vcs.ts';
import { openCodeWorkspaceRoutes } from './opencode-workspace.ts';
import { openCodeWorktreeRoutes } from './opencode-worktree.ts';

export const ROUTE_GROUPS: readonly RouteGroup[] = [healthRoutes, openCodeAppRoutes, openCodeAuthRoutes, openCodeConfigRoutes, openCodeProjectRoutes, openCodeProjectEditRoutes, openCodeProjectCopyRoutes, openCodeMcpRoutes, openCodeFileRoutes, openCodeVcsRoutes, openCodeWorktreeRoutes, openCodeWorkspaceRoutes, openCodeInstanceRoutes, openCodeExtrasRoutes, openCodeV2CatalogRoutes, openCodeIntegrationRoutes, openCodeCredentialRoutes, openCodeV2SessionRoutes, openCodeSyncRoutes, openCodeV2FsRoutes, openCodeV2PermissionRoutes, openCodeV2QuestionRoutes, openCodeSessionRoutes, openCodeSessionBackgroundRoutes, openCodeControlPlaneRoutes, openCodeGlobalSessionRoutes, openCodePermissionRoutes, openCodeQuestionRoutes, openCodePtyRoutes, openCodePtyV2Routes, openCodeTuiRoutes, openCodeEventRoutes, pantheonRunRoutes, openAiRoutes, restApiRoutes, metricsRoutes, liveStateRoutes, statsRoutes, dashboardRoutes, docRoutes, openCodeV2Routes];
