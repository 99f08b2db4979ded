/** The names of OpenCode 1.18's built-in language servers (its config schema's list): an `lsp` entry by another name is a new server, and needs `extensions`. */
export const BUILTIN_SERVER_IDS: readonly string[] = [
  'deno', 'typescript', 'vue', 'eslint', 'oxlint', 'biome', 'gopls', 'ruby-lsp', 'ty', 'pyright', 'elixir-ls', 'zls', 'csharp', 'razor', 'fsharp',
  'sourcekit-lsp', 'rust', 'clangd', 'svelte', 'astro', 'jdtls', 'kotlin-ls', 'yaml-ls', 'lua-ls', 'php intelephense', 'prisma', 'dart', 'ocaml-lsp',
  'bash', 'terraform', 'texlab', 'dockerfile', 'gleam', 'clojure-lsp', 'nixd', 'tinymist', 'haskell-language-server', 'julials',
];
