/**
 * Bounds on what a server's prompts and resources may take (they are listed on every `GET /command`
 * and `@` menu): at most MAX_CATALOG_ITEMS of each from one server, read from at most
 * MAX_CATALOG_PAGES pages; names, URIs and descriptions cut to a length a menu can show; at most
 * MAX_PROMPT_ARGUMENTS arguments of a prompt (each a `$n` hint of its command, each given on one
 * command line), named in at most MAX_ARGUMENT_NAME characters.
 */
export const MAX_CATALOG_PAGES = 100;
export const MAX_CATALOG_ITEMS = 500;
export const MAX_CATALOG_TEXT = 2048;
export const MAX_PROMPT_ARGUMENTS = 32;
export const MAX_ARGUMENT_NAME = 256;
/**
 * How long a listing (`GET /command`, `GET /experimental/resource`) waits for servers still
 * starting or listing: those not done by then are left out of that answer (they go on starting,
 * and the next listing has them; GET /mcp says how each went). OpenCode waits each server's whole
 * `timeout` (30 s by default), so a server that hangs holds its TUI's command list that long.
 */
export const LIST_WAIT_MS = 10_000;
