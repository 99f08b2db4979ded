/**
 * A tool call that failed in a way the model can act on (bad arguments, a missing file, no match
 * for an edit). Its message goes back to the model as the tool error; the run goes on.
 */
export class ToolError extends Error {
  readonly tool: string;
  constructor(tool: string, message: string) {
    super(message);
    this.name = 'ToolError';
    this.tool = tool;
  }

  /** The message alone: what the model gets for the call (the AI SDK sends a tool's error as its toString()), as OpenCode sends it, without `ToolError: `. */
  override toString(): string {
    return this.message;
  }
}

export function isToolError(error: unknown): error is ToolError {
  return error instanceof ToolError;
}
