/** The prefix of Pantheon's keys on a shared Redis when the config's `state.keyPrefix` names none (src/state/ledger-redis.ts, src/state/open-state.ts). */
export const DEFAULT_KEY_PREFIX = 'pantheon:';
