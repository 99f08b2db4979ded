/**
 * Workflow prompt templates: `{{input.x}}`, `{{steps.ID.output}}` and `{{item}}`. Parsing finds
 * every placeholder (for validation); rendering fills them in. Other `{{…}}` text is left as is,
 * except forms that start like ours but are malformed, which validation reports.
 */

export type TemplateRef =
  | { kind: 'input'; name: string; text: string }
  | { kind: 'step'; id: string; text: string }
  | { kind: 'item'; text: string }
  | { kind: 'malformed'; text: string };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const INPUT = /^input\.([A-Za-z0-9_-]+)$/;
const STEP = /^steps\.([A-Za-z][A-Za-z0-9_-]*)\.output$/;
/** Expressions that look like ours: checked strictly, so a typo is an error rather than literal text. */
const OURS = /^(input|steps|item)\b/;

function classify(expr: string, text: string): TemplateRef | undefined {
  if (expr === 'item') return { kind: 'item', text };
  const input = INPUT.exec(expr);
  if (input) return { kind: 'input', name: input[1] as string, text };
  const step = STEP.exec(expr);
  if (step) return { kind: 'step', id: step[1] as string, text };
  return OURS.test(expr) ? { kind: 'malformed', text } : undefined;
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
