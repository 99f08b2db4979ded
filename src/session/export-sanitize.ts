/**
 * `opencode export --sanitize`, as OpenCode's: an export whose transcript and file data are
 * redacted, its shape kept, to share a session's structure (turns, tools, tokens, costs, times)
 * without what was said or read. A non-empty text becomes `[redacted:<kind>:<id>]` (the part's or
 * message's id), a non-empty metadata or input object `{redacted: "<kind>:<id>"}`.
 */
type Obj = Record<string, unknown>;

function redact(kind: string, id: unknown, value: unknown): unknown {
  return typeof value === 'string' && value.trim() ? `[redacted:${kind}:${String(id)}]` : value;
}

function redactObject(kind: string, id: unknown, value: unknown): unknown {
  return value !== null && typeof value === 'object' && Object.keys(value).length ? { redacted: `${kind}:${String(id)}` } : value;
}

function filePart(part: Obj): Obj {
  return { ...part, url: redact('file-url', part.id, part.url), ...(part.filename === undefined ? {} : { filename: redact('file-name', part.id, part.filename) }) };
}

function sanitizePart(part: Obj): Obj {
  const id = part.id;
  switch (part.type) {
    case 'text':
    case 'reasoning':
      return { ...part, text: redact(part.type, id, part.text), ...(part.metadata === undefined ? {} : { metadata: redactObject(`${part.type}-metadata`, id, part.metadata) }) };
    case 'file':
      return filePart(part);
    case 'subtask':
      return { ...part, prompt: redact('subtask-prompt', id, part.prompt), description: redact('subtask-description', id, part.description), ...(part.command === undefined ? {} : { command: redact('subtask-command', id, part.command) }) };
    case 'tool': {
      const state = (part.state ?? {}) as Obj;
      const input = redactObject('tool-input', id, state.input) ?? state.input;
      const redacted: Obj = { ...state, input };
      if ('output' in state) redacted.output = redact('tool-output', id, state.output);
      if ('title' in state) redacted.title = redact('tool-title', id, state.title);
      if ('error' in state) redacted.error = redact('tool-error', id, state.error);
      if ('metadata' in state) redacted.metadata = redactObject('tool-state-metadata', id, state.metadata);
      return { ...part, ...(part.metadata === undefined ? {} : { metadata: redactObject('tool-metadata', id, part.metadata) }), state: redacted };
    }
    default:
      return part;
  }
}

/** An export (`{info, messages: [{info, parts}]}`) with its transcript and file data redacted. */
export function sanitizeExport(doc: { info: Obj; messages: { info: Obj; parts: Obj[] }[] }): { info: Obj; messages: { info: Obj; parts: Obj[] }[] } {
  const info = doc.info;
  return {
    info: { ...info, title: redact('session-title', info.id, info.title), directory: redact('session-directory', info.id, info.directory) },
    messages: doc.messages.map((m) => {
      const path = m.info.path as Obj | undefined;
      return {
        info: path ? { ...m.info, path: { cwd: redact('cwd', m.info.id, path.cwd), root: redact('root', m.info.id, path.root) } } : m.info,
        parts: m.parts.map(sanitizePart),
      };
    }),
  };
}
