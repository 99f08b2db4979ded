/**
 * One source of configuration (a preset, a file, the environment's OPENCODE_CONFIG, flags), as
 * parsed, before merging. Kept with its text so that validation can point at line:column.
 */
export type LayerKind =
  | 'default'
  | 'preset'
  | 'extends'
  | 'global'
  | 'global-oh-my-opencode'
  | 'project'
  | 'project-oh-my-opencode'
  | 'opencode-dir'
  | 'markdown-agent'
  | 'markdown-command'
  | 'pantheon'
  | 'env'
  | 'flag-config'
  | 'flags'
  /** What the plugins' `config` hooks changed (plugins/config-hook.ts), above every other layer. */
  | 'plugin-hook';

export interface ConfigLayer {
  kind: LayerKind;
  /** Human label, e.g. `preset:oh-my-opencode`, a file path, or `command-line flags`. */
  label: string;
  /** Absolute path of the file, when the layer is a file. */
  file?: string;
  /** The file's original text (for line:column), when the layer is a file. */
  text?: string;
  /** Parsed (and substituted) data in Pantheon/OpenCode shape. */
  data: Record<string, unknown>;
  /**
   * For layers whose `data` is not the file's top level: maps a JSON path in `data` (joined with
   * '/'; '' is the root) to the JSON path in the source text, so errors can still point at the
   * source. Look up the longest mapped prefix of a path and append the rest. oh-my-opencode.json
   * maps each value it contributes; package.json maps '' to ['opencode'].
   */
  sourcePaths?: Map<string, (string | number)[]>;
}

/** Something worth telling the user that does not stop loading (e.g. an unset environment variable). */
export interface ConfigWarning {
  code: string;
  message: string;
  file?: string;
  /** JSON path inside the file, e.g. `provider.nvidia.options.apiKey`. */
  path?: string;
  /** How many times the same warning came up (the same reference repeated in one value), when more than once. */
  count?: number;
}

/** Where `path` (in a layer's data) sits in the layer's source text, through `sourcePaths`. */
export function textPathOf(layer: ConfigLayer, path: readonly (string | number)[]): (string | number)[] {
  if (!layer.sourcePaths) return [...path];
  for (let length = path.length; length >= 0; length -= 1) {
    const mapped = layer.sourcePaths.get(path.slice(0, length).join('/'));
    if (mapped) return [...mapped, ...path.slice(length)];
  }
  return [...path];
}
