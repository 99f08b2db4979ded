/**
 * Bounds on what a server's prompts and resources may take (they are listed on every `GET /command`
 * and `@` menu): at most MAX_CATALOG_ITEMS of each from one server, read from at most
 * MAX_CATALOG_PAGES pages; names, URIs and descriptions cut to a length a menu can show.
 */
export const MAX_CATALOG_PAGES = 100;
export const MAX_CATALOG_ITEMS = 500;
export const MAX_CATALOG_TEXT = 2048;
