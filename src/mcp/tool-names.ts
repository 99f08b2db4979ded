/**
 * Names MCP tools as the model sees them: `<server>_<tool>`, sanitised to what providers accept
 * (`^[a-zA-Z0-9_-]{1,64}$`). Two tools that end up with the same name never overwrite each other:
 * the later one gets a numeric suffix and the collision is reported.
 */
export const TOOL_NAME_MAX = 64;
const ALLOWED = /^[a-zA-Z0-9_-]{1,64}$/;

/** Replaces every character outside `[a-zA-Z0-9_-]` with `_` and cuts the name to 64 characters. */
export function sanitizeToolName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, TOOL_NAME_MAX);
  return clean || '_';
}

/** True when a provider accepts `name` as a function name. */
export function isValidToolName(name: string): boolean {
  return ALLOWED.test(name);
}

export interface ToolRef {
  server: string;
  tool: string;
}

export interface NameCollision {
  /** The name both tools wanted. */
  wanted: string;
  /** The tool that got a suffix, and the name it got. */
  renamed: ToolRef & { name: string };
  /** The tool that kept the name (or a reserved name such as a built-in tool). */
  keptBy: ToolRef | { reserved: string };
}

function withSuffix(base: string, n: number): string {
  const suffix = `_${n}`;
  return `${base.slice(0, TOOL_NAME_MAX - suffix.length)}${suffix}`;
}

/**
 * Gives each tool its exposed name, in order: the first tool to want a name keeps it; a later one
 * gets `_2`, `_3`, … `reserved` names (built-in tools) are never given out.
 */
export function exposeToolNames<T extends ToolRef>(
  refs: readonly T[],
  reserved: Iterable<string> = [],
): { named: (T & { name: string })[]; collisions: NameCollision[] } {
  const owner = new Map<string, ToolRef | { reserved: string }>();
  for (const name of reserved) owner.set(name, { reserved: name });
  const named: (T & { name: string })[] = [];
  const collisions: NameCollision[] = [];
  for (const ref of refs) {
    const wanted = sanitizeToolName(`${ref.server}_${ref.tool}`);
    let name = wanted;
    for (let n = 2; owner.has(name); n++) name = withSuffix(wanted, n);
    const keptBy = owner.get(wanted);
    if (name !== wanted && keptBy) collisions.push({ wanted, renamed: { server: ref.server, tool: ref.tool, name }, keptBy });
    owner.set(name, { server: ref.server, tool: ref.tool });
    named.push({ ...ref, name });
  }
  return { named, collisions };
}

/** A one-line warning for a collision. */
export function describeCollision(c: NameCollision): string {
  const kept = 'reserved' in c.keptBy ? `the built-in tool "${c.keptBy.reserved}"` : `tool "${c.keptBy.tool}" of MCP server "${c.keptBy.server}"`;
  return `MCP tool name "${c.wanted}" is taken by ${kept}; tool "${c.renamed.tool}" of server "${c.renamed.server}" is exposed as "${c.renamed.name}".`;
}
