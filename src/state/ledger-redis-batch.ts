/**
 * The Redis ledger's requests grouped: the admissions, peeks, sent marks, renewals, releases and
 * successes this process makes in one turn of the event loop go to Redis as one script run (EVALSHA:
 * one round trip), each answered on its own. The script runs them in order at one `now`, atomically,
 * as the embedded ledger's group commit does (ledger-sqlite.ts): an admission sees every start
 * recorded before it, its own group's included, and its caller resumes only once the run holding its
 * start is done. Nothing is fire-and-forget: every caller awaits its own answer, and a run that
 * cannot reach Redis fails each of its members with the same StateUnavailableError.
 */
import { setImmediate } from 'node:timers';
import { PantheonError } from '../errors.ts';
import { PENDING_MAX_MS } from '../scheduler/ledger.ts';
import { ADMIT } from './ledger-redis-admit.ts';
import { OWNERS, PRELUDE } from './ledger-redis-lua.ts';
import { AFTER_ADMISSION } from './ledger-redis-scripts.ts';

/**
 * ARGV: 1 clock override, 2 prefix, 3 owner, 4 PENDING_MAX_MS, then per request (code, number of
 * arguments, arguments…): a admit, g admit unless the learned limits' generation (`P lg`) is no
 * longer the first argument ({-2, generation}: they changed since the request read them), p peek
 * (ADMIT), s sent, n renew, r release, k success (AFTER_ADMISSION). Returns how many keys have a failure count (HLEN P f, after the requests),
 * then one answer per request, in order; {-1, message} for a request whose function raised an
 * error (the others still run).
 */
export const BATCH = `${PRELUDE}
local owner, pmax = ARGV[3], tonumber(ARGV[4])
${OWNERS}
${ADMIT}
${AFTER_ADMISSION}
local function run(code, A)
  if code == 'a' then return admit(A, true) end
  if code == 'g' then
    local generation = redis.call('GET', P .. 'lg') or '0'
    if generation ~= A[1] then return { -2, generation } end
    table.remove(A, 1)
    return admit(A, true)
  end
  if code == 'p' then return admit(A, false) end
  if code == 's' then return sent(A[1]) end
  if code == 'r' then return release(A[1], A[2], A[3]) end
  if code == 'k' then return success(A[1]) end
  if code == 'n' then return renew(A[1], A[2]) end
  error('unknown request ' .. tostring(code))
end
local out = { 0 }
local a = 5
while a <= #ARGV do
  local code, n = ARGV[a], tonumber(ARGV[a + 1])
  local A = {}
  for j = 1, n do A[j] = ARGV[a + 1 + j] end
  a = a + 2 + n
  local ok, answer = pcall(run, code, A)
  if not ok then
    if type(answer) == 'table' then answer = answer.err or cjson.encode(answer) end
    answer = { -1, tostring(answer) }
  end
  out[#out + 1] = answer
end
out[1] = redis.call('HLEN', P .. 'f')
return out
`;

export type BatchCode = 'a' | 'g' | 'p' | 's' | 'n' | 'r' | 'k';

/** At most this many requests per script run (a bigger group is sent as several runs, pipelined). */
export const MAX_GROUP = 128;

interface Member {
  code: BatchCode;
  args: (string | number)[];
  resolve: (answer: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs BATCH: `run(argv)` sends ARGV from 3 on (owner, pmax, requests…) with the clock and prefix
 * in front and returns what the script returns (the failure count, then the answers);
 * `description` names the store in errors.
 */
export class RedisBatch {
  readonly #run: (argv: (string | number)[]) => Promise<unknown[]>;
  readonly #owner: string;
  readonly #description: () => string;
  #queue: Member[] = [];
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();
  /** Requests sent and script runs made, for the benchmark (requests per round trip). */
  requests = 0;
  runs = 0;

  constructor(options: { owner: string; description: () => string; run: (argv: (string | number)[]) => Promise<unknown[]> }) {
    this.#run = options.run;
    this.#owner = options.owner;
    this.#description = options.description;
  }

  /** Adds a request to this turn's group; resolves to its own answer. */
  add<T>(code: BatchCode, args: (string | number)[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ code, args, resolve: resolve as (answer: unknown) => void, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // Once this turn of the event loop has handled its I/O: requests made in the same turn, each
      // in its own callback, join. Node's own setImmediate, taken at load: fake timers do not hold it.
      setImmediate(() => this.flush());
    });
  }

  /** Sends what is queued now (in runs of at most MAX_GROUP). */
  flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const group = this.#queue.length <= MAX_GROUP ? this.#queue : this.#queue.slice(0, MAX_GROUP);
      this.#queue = this.#queue.length <= MAX_GROUP ? [] : this.#queue.slice(MAX_GROUP);
      const sent = this.#send(group);
      this.#inFlight.add(sent);
      void sent.finally(() => this.#inFlight.delete(sent));
    }
  }

  /** Sends what is queued and waits until every run has been answered (or failed). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.#inFlight]);
  }

  async #send(group: Member[]): Promise<void> {
    const argv: (string | number)[] = [this.#owner, PENDING_MAX_MS];
    for (const m of group) argv.push(m.code, m.args.length, ...m.args);
    this.requests += group.length;
    this.runs += 1;
    let answers: unknown[];
    try {
      answers = await this.#run(argv);
    } catch (error) {
      for (const m of group) m.reject(error);
      return;
    }
    group.forEach((m, i) => {
      const answer = answers[i + 1];
      if (Array.isArray(answer) && answer[0] === -1) {
        m.reject(new PantheonError('STORE_ERROR', `The state store ${this.#description()} refused a command: ${String(answer[1])}.`));
      } else if (answer === undefined) {
        m.reject(new PantheonError('STORE_ERROR', `The state store ${this.#description()} gave an unexpected answer.`));
      } else m.resolve(answer);
    });
  }
}
