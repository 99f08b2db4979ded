/**
 * The shapes /api/state/stream sends: the server's own types (one source), imported for their
 * types only, so nothing of the server is bundled into the page.
 */
import type { LiveSnapshot } from '../../src/core/live/live-state.ts';
import type { LaneSnapshot, LaneWindow } from '../../src/scheduler/lane-snapshot.ts';

export type { LogEntry } from '../../src/core/live/event-log.ts';
export type { SessionView as Session, WorkflowView as Workflow } from '../../src/core/live/activity-board.ts';

export type State = LiveSnapshot;
export type Lane = LaneSnapshot;
/** A window, token or concurrency limit as a lane shows it (used against limit). */
export type LimitUse = Pick<LaneWindow, 'label' | 'scope' | 'used' | 'limit'> & { windowMs?: number };
export type Usage = LiveSnapshot['usage'];
export type Totals = Usage['today'];
export type Figures = Totals['byAgent'][string];
export type Bucket = Usage['perMinute'][number];
