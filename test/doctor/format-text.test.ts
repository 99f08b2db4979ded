import { describe, expect, it } from 'vitest';
import { formatText, summaryLine } from '../../src/doctor/format-text.ts';
import type { DoctorReport } from '../../src/doctor/types.ts';

const report: DoctorReport = {
  ok: false,
  fixed: ['credential store /x/auth.json: mode 0644 → 0600'],
  checks: [
    { group: 'config', name: 'files', status: 'ok', message: '2 layers', details: ['1. a', '2. b'] },
    { group: 'config', name: 'variables', status: 'warn', message: '{env:X} is not set', hint: 'Export it.' },
    { group: 'models', name: 'nvidia-nim', status: 'fail', message: 'the key was refused (401)', hint: 'Log in again.', ms: 120 },
    { group: 'models', name: 'anthropic', status: 'skip', message: 'not probed' },
  ],
};

describe('formatText', () => {
  it('prints plain words, grouped and aligned, with hints, details and a closing count', () => {
    expect(formatText(report, { marks: false })).toBe(
      [
        'fixed: credential store /x/auth.json: mode 0644 → 0600',
        '',
        'config',
        '  ok    files       2 layers',
        '                    1. a',
        '                    2. b',
        '  warn  variables   {env:X} is not set',
        '                    hint: Export it.',
        '',
        'models',
        '  fail  nvidia-nim  the key was refused (401)',
        '                    hint: Log in again.',
        '  skip  anthropic   not probed',
        '',
        '1 ok, 1 warning, 1 failure, 1 skipped',
        '',
      ].join('\n'),
    );
  });

  it('uses coloured marks on a terminal', () => {
    const text = formatText(report, { marks: true });
    expect(text).toContain('  \u001b[32m✓\u001b[0m  files       2 layers');
    expect(text).toContain('\u001b[33m!\u001b[0m  variables');
    expect(text).toContain('\u001b[31m✗\u001b[0m  nvidia-nim');
    expect(text).toContain('\n                 hint: Log in again.\n');
  });

  it('counts in plurals', () => {
    expect(summaryLine([])).toBe('0 ok, 0 warnings, 0 failures');
    expect(summaryLine(report.checks.slice(0, 1))).toBe('1 ok, 0 warnings, 0 failures');
  });
});
