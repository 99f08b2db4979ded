/**
 * Workflow prompt templates: `{{input.x}}`, `{{steps.ID.output}}` and `{{item}}`. Parsing finds
 * every placeholder (for validation); rendering fills them in. Other `{{…}}` text is left as is,
 * except forms that start like ours but are malformed, which validation reports.
 */

export type TemplateRef =
  | { kind: 'input'; name: string; text: string }
  | { kind: 'step'; id: string; text: string }
  | { kind: 'item'; text: string }
  /** `head`: the name it starts with when that is a near miss of ours (`inputs`); `suggestion`: the placeholder it likely meant. */
  | { kind: 'malformed'; text: string; head?: string; suggestion?: string };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const INPUT = /^input\.([A-Za-z0-9_-]+)$/;
const STEP = /^steps\.([A-Za-z][A-Za-z0-9_-]*)\.output$/;
/** Expressions that look like ours: checked strictly, so a typo is an error rather than literal text. */
const OURS = /^(input|steps|item)\b/;
/**
 * Our shapes with another name in front (`inputs.x`, `step.ID.output`, `items`, `Input.x`): a near
 * miss of ours, one letter off or in another case, is a typo to report; any other `{{…}}` is text.
 */
const NEAR_SHAPES: readonly { head: string; shape: RegExp }[] = [
  { head: 'input', shape: /^([A-Za-z]+)(\.[A-Za-z0-9_-]+)$/ },
  { head: 'steps', shape: /^([A-Za-z]+)(\.[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z]+)$/ },
  { head: 'item', shape: /^([A-Za-z]+)()$/ },
];

/** Whether `word` is `ours` but for case, one letter added, dropped or changed, or two neighbours swapped. */
function nearMiss(word: string, ours: string): boolean {
  const a = word.toLowerCase();
  if (a === ours) return true;
  if (Math.abs(a.length - ours.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === ours[i]) i++;
  const rest = (x: string, from: number): string => x.slice(from);
  return rest(a, i + 1) === rest(ours, i + 1) || rest(a, i) === rest(ours, i + 1) || rest(a, i + 1) === rest(ours, i) || (a[i] === ours[i + 1] && a[i + 1] === ours[i] && rest(a, i + 2) === rest(ours, i + 2));
}

/** What a malformed expression of ours most likely meant, as a placeholder. */
function meant(expr: string): string | undefined {
  const step = /^steps\.([A-Za-z][A-Za-z0-9_-]*)(?:\.[A-Za-z]+)?$/.exec(expr);
  return step ? `{{steps.${step[1] as string}.output}}` : undefined;
}

function classify(expr: string, text: string): TemplateRef | undefined {
  if (expr === 'item') return { kind: 'item', text };
  const input = INPUT.exec(expr);
  if (input) return { kind: 'input', name: input[1] as string, text };
  const step = STEP.exec(expr);
  if (step) return { kind: 'step', id: step[1] as string, text };
  if (OURS.test(expr)) {
    const suggestion = meant(expr);
    return suggestion ? { kind: 'malformed', text, suggestion } : { kind: 'malformed', text };
  }
  for (const { head, shape } of NEAR_SHAPES) {
    const found = shape.exec(expr);
    if (!found || !nearMiss(found[1] as string, head)) continue;
    const fixed = `${head}${found[2] as string}`;
    const ref = classify(fixed, text);
    const suggestion = ref && ref.kind !== 'malformed' ? `{{${fixed}}}` : ref?.suggestion;
    return { kind: 'malformed', text, head: found[1] as string, ...(suggestion ? { suggestion } : {}) };
  }
  return undefined;
}

/** Every placeholder of ours in `template`, in order. */
export function templateRefs(template: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const ref = classify(match[1] as string, match[0]);
    if (ref) refs.push(ref);
  }
  return refs;
}

export interface TemplateValues {
  inputs: Readonly<Record<string, string>>;
  outputs: ReadonlyMap<string, string>;
  /** Present only for a task of a `forEach` step. */
  item?: { value: unknown };
}

/** A `forEach` item as prompt text: strings as they are, everything else as JSON. */
export function itemText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Fills in the placeholders; validation has made sure every one can be filled. */
export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (whole: string, expr: string) => {
    const ref = classify(expr, whole);
    if (!ref || ref.kind === 'malformed') return whole;
    if (ref.kind === 'input') return values.inputs[ref.name] ?? '';
    if (ref.kind === 'step') return values.outputs.get(ref.id) ?? '';
    return values.item ? itemText(values.item.value) : whole;
  });
}

/** `"{{input.x}}"` → `x`; undefined when the text is not exactly one input placeholder. */
export function forEachInputName(text: string): string | undefined {
  const match = /^\{\{\s*input\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(text);
  return match ? match[1] : undefined;
}
