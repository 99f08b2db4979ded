import { describe, expect, it } from 'vitest';
import type { PermissionContext } from '../../src/permissions/authorize.ts';
import { PermissionDeniedError, authorize, decide } from '../../src/permissions/authorize.ts';
import type { Permission } from '../../src/permissions/rules.ts';

function context(permission: Permission, extra: Partial<PermissionContext> = {}): PermissionContext & { denied: [string, string][] } {
  const denied: [string, string][] = [];
  return { permission, auto: false, interactive: false, onDenied: (tool, detail) => denied.push([tool, detail]), denied, ...extra };
}

async function outcome(promise: Promise<void>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (error instanceof PermissionDeniedError) return error.message;
    throw error;
  }
}

describe('authorize', () => {
  it('lets allow through without asking', async () => {
    const ctx = context({ bash: { 'git *': 'allow' } }, { confirm: () => Promise.reject(new Error('must not ask')) });
    await expect(authorize(ctx, { key: 'bash', subject: 'git status' })).resolves.toBeUndefined();
    expect(ctx.denied).toEqual([]);
  });

  it('refuses deny with the rule in the message and reports it through onDenied', async () => {
    const ctx = context({ bash: { '*': 'ask', 'rm *': 'deny' } });
    const message = await outcome(authorize(ctx, { key: 'bash', subject: 'rm -rf /' }));
    expect(message).toBe('permission denied: bash `rm -rf /` (rule "rm *": deny)');
    expect(ctx.denied).toEqual([['bash', message]]);
  });

  it('in a non-interactive run, ask is a denial unless auto', async () => {
    const ctx = context({ edit: 'ask' });
    const message = await outcome(authorize(ctx, { key: 'edit', tool: 'write', subject: 'src/a.ts' }));
    expect(message).toBe('permission denied: write `src/a.ts` (rule edit: ask; not approved: non-interactive run; pass --auto to approve)');
    expect(ctx.denied).toHaveLength(1);

    const auto = context({ edit: 'ask' }, { auto: true });
    expect(await outcome(authorize(auto, { key: 'edit', subject: 'src/a.ts' }))).toBe('allowed');
    expect(auto.denied).toEqual([]);
  });

  it('a confirm injected in a non-interactive context is not used', async () => {
    let asked = 0;
    const ctx = context({}, { confirm: async () => (asked++, true) });
    expect(await outcome(authorize(ctx, { key: 'webfetch', subject: 'https://example.com/' }))).toMatch(/webfetch: ask by default; not approved/);
    expect(asked).toBe(0);
  });

  it('on a TTY, asks through confirm and follows the answer', async () => {
    const questions: string[] = [];
    const yes = context({ bash: 'ask' }, { interactive: true, confirm: async (q) => (questions.push(q), true) });
    expect(await outcome(authorize(yes, { key: 'bash', subject: 'npm test' }))).toBe('allowed');
    expect(questions).toEqual(['Allow bash `npm test`?']);

    const no = context({ bash: 'ask' }, { interactive: true, confirm: async () => false });
    const message = await outcome(authorize(no, { key: 'bash', subject: 'npm publish', question: 'Run `npm publish`?' }));
    expect(message).toBe('permission denied: bash `npm publish` (rule bash: ask; declined by the user)');
    expect(no.denied.map(([tool]) => tool)).toEqual(['bash']);
  });

  it('auto approves ask without asking, but never overrides deny', async () => {
    let asked = 0;
    const ctx = context({ bash: { '*': 'ask', 'rm *': 'deny' } }, { auto: true, interactive: true, confirm: async () => (asked++, true) });
    expect(await outcome(authorize(ctx, { key: 'bash', subject: 'make' }))).toBe('allowed');
    expect(await outcome(authorize(ctx, { key: 'bash', subject: 'rm x' }))).toMatch(/^permission denied: bash `rm x` \(rule "rm \*": deny\)$/);
    expect(asked).toBe(0);
  });

  it('auto never approves a path outside the project; an explicit allow or a person saying yes does', async () => {
    const request = { key: 'external_directory', tool: 'read', subject: '/etc/passwd', note: 'is outside the project root /p' };
    const auto = context({}, { auto: true });
    expect(await outcome(authorize(auto, request))).toBe(
      'permission denied: read `/etc/passwd` is outside the project root /p (external_directory: ask by default; not approved: --auto does not cover paths outside the project; allow them under permission.external_directory)',
    );
    expect(await outcome(authorize(context({ external_directory: { '/etc/*': 'allow' } }, { auto: true }), request))).toBe('allowed');
    expect(await outcome(authorize(context({}, { auto: true, interactive: true, confirm: async () => true }), request))).toBe('allowed');
  });

  it('judges each command of a bash line; the strictest wins and is named', async () => {
    const permission: Permission = { bash: { '*': 'ask', 'git *': 'allow', 'rm *': 'deny' } };
    expect(decide(permission, { key: 'bash', subject: 'git status && git diff' }).decision.action).toBe('allow');
    expect(decide(permission, { key: 'bash', subject: 'git status && make' }).decision.action).toBe('ask');
    const ctx = context(permission, { auto: true });
    const message = await outcome(authorize(ctx, { key: 'bash', subject: 'git log $(rm -rf ~)' }));
    expect(message).toBe('permission denied: bash `git log $(rm -rf ~)` (rule "rm *": deny for `rm -rf ~`)');
  });

  it('a denial shows the command on one line, in time linear in its white space', async () => {
    const ctx = context({ bash: { 'rm *': 'deny' } });
    expect(await outcome(authorize(ctx, { key: 'bash', subject: 'rm a \n\n  b\t\nc d' }))).toBe('permission denied: bash `rm a ⏎ b ⏎ c d` (rule "rm *": deny for `rm a`)');
    const started = performance.now();
    // \s*\n\s* took 2.4 s on 40,000 spaces, and minutes on a megabyte.
    const message = await outcome(authorize(ctx, { key: 'bash', subject: `rm x${' '.repeat(1_000_000)}y` }));
    expect(message).toBe(`permission denied: bash \`rm x${' '.repeat(195)}…\` (rule "rm *": deny)`);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
