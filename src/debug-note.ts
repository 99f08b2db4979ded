/**
 * Notes for `--debug`: things worth knowing while diagnosing (a provider header that was ignored)
 * that are noise otherwise. Nothing is written unless a front-end installs a sink (the CLI does
 * with --debug). Callers pass text already made safe for a terminal.
 */
let sink: ((text: string) => void) | undefined;

/** Installs (or with undefined removes) where debug notes go. */
export function setDebugSink(next: ((text: string) => void) | undefined): void {
  sink = next;
}

export function debugNote(text: string): void {
  sink?.(text);
}
