/** The languageId `didOpen` names for a file, by its extension (OpenCode's table, its common part); `plaintext` otherwise. */
import path from 'node:path';

const BY_EXTENSION: Record<string, string> = {
  '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'typescriptreact',
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'javascriptreact',
  '.json': 'json', '.jsonc': 'jsonc', '.py': 'python', '.pyi': 'python', '.go': 'go', '.rs': 'rust',
  '.c': 'c', '.h': 'c', '.cpp': 'cpp', '.cc': 'cpp', '.cxx': 'cpp', '.c++': 'cpp', '.hpp': 'cpp', '.hh': 'cpp', '.hxx': 'cpp', '.h++': 'cpp',
  '.cs': 'csharp', '.csx': 'csharp', '.fs': 'fsharp', '.fsi': 'fsharp', '.fsx': 'fsharp', '.java': 'java', '.kt': 'kotlin', '.kts': 'kotlin',
  '.rb': 'ruby', '.rake': 'ruby', '.gemspec': 'ruby', '.ru': 'ruby', '.php': 'php', '.swift': 'swift', '.dart': 'dart',
  '.ex': 'elixir', '.exs': 'elixir', '.zig': 'zig', '.zon': 'zig', '.lua': 'lua', '.sh': 'shellscript', '.bash': 'shellscript', '.zsh': 'shellscript', '.ksh': 'shellscript',
  '.yaml': 'yaml', '.yml': 'yaml', '.vue': 'vue', '.svelte': 'svelte', '.astro': 'astro', '.css': 'css', '.html': 'html', '.htm': 'html',
  '.md': 'markdown', '.tex': 'latex', '.bib': 'bibtex', '.tf': 'terraform', '.tfvars': 'terraform-vars', '.prisma': 'prisma', '.gleam': 'gleam',
  '.clj': 'clojure', '.cljs': 'clojure', '.cljc': 'clojure', '.edn': 'clojure', '.nix': 'nix', '.typ': 'typst', '.typc': 'typst',
  '.hs': 'haskell', '.lhs': 'haskell', '.jl': 'julia', '.ml': 'ocaml', '.mli': 'ocaml', '.dockerfile': 'dockerfile', '.graphql': 'graphql', '.gql': 'graphql',
};

export function languageIdOf(file: string): string {
  if (path.basename(file) === 'Dockerfile') return 'dockerfile';
  return BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'plaintext';
}
