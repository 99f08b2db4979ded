/**
 * validateWorkflow: each kind of problem is CONFIG_INVALID (exit 2) naming the path; a valid
 * workflow comes back in dependency order with its inputs.
 */
import { describe, expect, it } from 'vitest';
import type { WorkflowStep } from '../../src/config/schema-types.ts';
import { PantheonError } from '../../src/errors.ts';
import { renderTemplate } from '../../src/workflow/template.ts';
import { requiredInputs, validateWorkflow } from '../../src/workflow/validate.ts';
import { workflowConfig } from './helpers.ts';

const server = { url: 'http://127.0.0.1:9/v1' };

function problemOf(steps: WorkflowStep[], name = 'w'): PantheonError {
  const config = workflowConfig(server, { w: { steps } });
  try {
    validateWorkflow(config, name);
  } catch (error) {
    expect(error).toBeInstanceOf(PantheonError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    return error as PantheonError;
  }
  throw new Error('expected a validation error');
}

const text = (e: PantheonError): string => [e.message, ...e.details].join('\n');

describe('validateWorkflow', () => {
  it('an unknown workflow: did you mean, and the list', () => {
    const config = workflowConfig(server, { review: { steps: [{ id: 'a', agent: 'worker', prompt: 'x' }] }, plan: { steps: [{ id: 'a', agent: 'worker', prompt: 'x' }] } });
    expect(() => validateWorkflow(config, 'reveiw')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', exitCode: 2, message: 'workflow.reveiw: no workflow named "reveiw"; did you mean "review"?', hint: 'Workflows: plan, review.' }),
    );
  });

  it('an unknown or disabled agent', () => {
    expect(problemOf([{ id: 'a', agent: 'wroker', prompt: 'x' }]).message).toMatch(/^workflow\.w\.steps\[0\]\.agent: agent "wroker" is not defined.*worker/);
    expect(problemOf([{ id: 'a', agent: 'retired', prompt: 'x' }]).message).toBe('workflow.w.steps[0].agent: agent "retired" is disabled');
  });

  it('needs naming a missing step', () => {
    const e = problemOf([
      { id: 'build', agent: 'worker', prompt: 'x' },
      { id: 'test', agent: 'worker', needs: ['buidl'], prompt: 'y' },
    ]);
    expect(e.message).toMatch(/^workflow\.w\.steps\[1\]\.needs\[0\]: step "buidl" does not exist.*build/);
  });

  it('a cycle, shown around', () => {
    const e = problemOf([
      { id: 'a', agent: 'worker', needs: ['b'], prompt: 'x' },
      { id: 'b', agent: 'worker', needs: ['a'], prompt: 'y' },
    ]);
    expect(e.message).toMatch(/^workflow\.w\.steps\[\d\]\.needs: steps need each other in a cycle: (a → b → a|b → a → b)$/);
  });

  it('templates naming steps that are not upstream, or that do not exist', () => {
    const e = problemOf([
      { id: 'a', agent: 'worker', prompt: 'x' },
      { id: 'b', agent: 'worker', prompt: '{{steps.a.output}}' },
      { id: 'c', agent: 'worker', needs: ['b'], prompt: '{{steps.nope.output}}' },
    ]);
    expect(e.message).toBe('Invalid workflow: 2 problems.');
    expect(e.details).toEqual([
      'workflow.w.steps[1].prompt: {{steps.a.output}} names step "a", which is not upstream of "b"',
      'workflow.w.steps[2].prompt: {{steps.nope.output}} in step "c" names step "nope", which does not exist',
    ]);
    expect(e.hint).toContain('needs');
  });

  it('a transitive need counts as upstream', () => {
    const wf = validateWorkflow(
      workflowConfig(server, {
        w: {
          steps: [
            { id: 'c', agent: 'worker', needs: ['b'], prompt: '{{steps.a.output}} {{input.x}}' },
            { id: 'b', agent: 'worker', needs: ['a'], forEach: '{{ input.list }}', prompt: '{{item}}' },
            { id: 'a', agent: 'worker', model: { provider: 'local', id: 'b' }, prompt: 'go' },
          ],
        },
      }),
      'w',
    );
    expect(wf.steps.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(wf.steps[0]?.model).toBe('local/b');
    expect(wf.steps[1]?.forEach).toEqual({ kind: 'input', name: 'list' });
    expect(requiredInputs(wf)).toEqual(['list', 'x']);
  });

  it('{{item}} outside a forEach step, and malformed placeholders', () => {
    expect(problemOf([{ id: 'a', agent: 'worker', prompt: 'do {{item}}' }]).message).toBe('workflow.w.steps[0].prompt: {{item}} is used but the step has no forEach');
    expect(problemOf([{ id: 'a', agent: 'worker', prompt: 'do {{steps.a}}' }]).message).toBe('workflow.w.steps[0].prompt: {{steps.a}} in step "a" is not a placeholder; did you mean {{steps.a.output}}?');
    expect(problemOf([{ id: 'a', agent: 'worker', prompt: 'do {{input.a.b}}' }]).message).toBe('workflow.w.steps[0].prompt: {{input.a.b}} in step "a" is not a placeholder; use {{input.NAME}}, {{steps.ID.output}} or {{item}}');
  });

  it('a near miss of a placeholder (it was sent to the model as written): the step, the name and what it likely meant', () => {
    const steps: WorkflowStep[] = [
      { id: 'first', agent: 'worker', prompt: 'about {{inputs.topic}} and {{ Input.topic }}' },
      { id: 'fan', agent: 'worker', needs: ['first'], forEach: ['x'], prompt: '{{items}} after {{step.first.output}}, {{steps.first.outputs}} and {{setps.first.output}}' },
      { id: 'late', agent: 'worker', needs: ['fan'], prompt: 'see {{steps.fisrt.output}}' },
    ];
    const e = problemOf(steps);
    expect(e.details).toEqual([
      'workflow.w.steps[0].prompt: {{inputs.topic}} in step "first" names "inputs", which is not a placeholder name (input, steps or item); did you mean {{input.topic}}?',
      'workflow.w.steps[0].prompt: {{ Input.topic }} in step "first" names "Input", which is not a placeholder name (input, steps or item); did you mean {{input.topic}}?',
      'workflow.w.steps[1].prompt: {{items}} in step "fan" names "items", which is not a placeholder name (input, steps or item); did you mean {{item}}?',
      'workflow.w.steps[1].prompt: {{step.first.output}} in step "fan" names "step", which is not a placeholder name (input, steps or item); did you mean {{steps.first.output}}?',
      'workflow.w.steps[1].prompt: {{steps.first.outputs}} in step "fan" is not a placeholder; did you mean {{steps.first.output}}?',
      'workflow.w.steps[1].prompt: {{setps.first.output}} in step "fan" names "setps", which is not a placeholder name (input, steps or item); did you mean {{steps.first.output}}?',
      'workflow.w.steps[2].prompt: {{steps.fisrt.output}} in step "late" names step "fisrt", which does not exist; did you mean "first"?',
    ]);
    expect(e.hint).toContain('Placeholders are {{input.NAME}}, {{steps.ID.output}} and, in a forEach step, {{item}}.');
  });

  it('other {{…}} text is the prompt\'s own, sent as written', () => {
    const wf = validateWorkflow(workflowConfig(server, { w: { steps: [{ id: 'a', agent: 'worker', prompt: 'Fill {{name}}, {{user.name}}, {{stop}}, {{output.x}} and {{ }} in the template; {{input.topic}}' }] } }), 'w');
    expect(requiredInputs(wf)).toEqual(['topic']);
    expect(renderTemplate(wf.steps[0]?.prompt as string, { inputs: { topic: 'owls' }, outputs: new Map() })).toBe('Fill {{name}}, {{user.name}}, {{stop}}, {{output.x}} and {{ }} in the template; owls');
  });

  it('a forEach string that is not "{{input.x}}"', () => {
    const e = problemOf([{ id: 'a', agent: 'worker', forEach: 'a,b', prompt: '{{item}}' }]);
    expect(text(e)).toContain('workflow.w.steps[0].forEach: expected a list or "{{input.NAME}}", found "a,b"');
  });
});
