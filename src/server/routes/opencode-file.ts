/**
 * OpenCode's routes about the project's files, which its SDK, web and desktop app call: list a
 * folder (`GET /file`), read a file (`GET /file/content`), the git status (`GET /file/status`), text
 * search (`GET /find`) and symbol search (`GET /find/symbol`, which OpenCode answers empty: Pantheon
 * has no language server either). Paths stay inside the request's folder (project-files.ts).
 */
import path from 'node:path';
import { FILE_BUDGET_MS, RegexFailedError, RegexTimeoutError, SLOW_PATTERN_ADVICE } from '../../tools/regex-search.ts';
import { requestFromOtherSite } from '../cors.ts';
import { HttpError } from '../http-error.ts';
import { fileStatus, MAX_STATUS_FILES } from '../opencode/git-status.ts';
import { listFolder, MAX_CONTENT_BYTES, MAX_LIST_ENTRIES, readContent } from '../opencode/project-files.ts';
import { FIND_TEXT_LIMIT, findText, SEARCH_BUDGET_MS } from '../opencode/text-search.ts';
import { ref, type JsonSchema, type ParamDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';
import { thousands } from '../../icu-free.ts';

/** The longest `pattern` or `query` taken. */
const MAX_QUERY_CHARS = 1_000;

function bad(name: string, message: string, hint?: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${name}": ${message}.`, { ...(hint ? { hint } : {}), details: { field: name } });
}

/** A query parameter the route needs (the empty string is a value). */
function required(c: ServerContext, name: string, hint: string): string {
  const value = c.req.query(name);
  if (value === undefined) throw bad(name, 'is required', hint);
  if (value.length > MAX_QUERY_CHARS) throw bad(name, `must be at most ${thousands(MAX_QUERY_CHARS)} characters, found ${thousands(value.length)}`);
  return value;
}

function compilePattern(pattern: string): RegExp {
  if (pattern === '') throw bad('pattern', 'expected a regular expression, found nothing', 'Send the text or regular expression to look for, e.g. pattern=TODO.');
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw bad('pattern', `${JSON.stringify(pattern.slice(0, 200))} is not a regular expression Pantheon can run (${(error as Error).message})`, 'Pantheon runs JavaScript regular expressions (ripgrep’s syntax mostly agrees); escape special characters such as ( [ { . * + ? with a backslash to look for them literally.');
  }
}

const PATH_QUERY: Record<string, ParamDoc> = { path: { description: 'Relative to the folder (or absolute inside it)', required: true } };
const ERRORS = {
  400: { description: 'Bad request (the parameter is named)', schema: ref('Error') },
  403: { description: 'The path leads outside the project folder (by `..`, an absolute path or a symlink)', schema: ref('Error') },
};

const FILE_NODE: JsonSchema = {
  type: 'object',
  required: ['name', 'path', 'absolute', 'type', 'ignored'],
  properties: { name: { type: 'string' }, path: { type: 'string' }, absolute: { type: 'string' }, type: { type: 'string', enum: ['file', 'directory'] }, ignored: { type: 'boolean' } },
};
const FILE_CONTENT: JsonSchema = {
  type: 'object',
  required: ['type', 'content'],
  properties: { type: { type: 'string', enum: ['text', 'binary'] }, content: { type: 'string' }, encoding: { type: 'string', enum: ['base64'] }, mimeType: { type: 'string' } },
};
const FILE_STATUS: JsonSchema = {
  type: 'object',
  required: ['path', 'added', 'removed', 'status'],
  properties: { path: { type: 'string' }, added: { type: 'integer' }, removed: { type: 'integer' }, status: { type: 'string', enum: ['added', 'deleted', 'modified'] } },
};
const TEXT_MATCH: JsonSchema = {
  type: 'object',
  required: ['path', 'lines', 'line_number', 'absolute_offset', 'submatches'],
  properties: {
    path: { type: 'object', properties: { text: { type: 'string' } } },
    lines: { type: 'object', properties: { text: { type: 'string' } } },
    line_number: { type: 'integer' },
    absolute_offset: { type: 'integer' },
    submatches: { type: 'array', items: { type: 'object', properties: { match: { type: 'object', properties: { text: { type: 'string' } } }, start: { type: 'integer' }, end: { type: 'integer' } } } },
  },
};
const SYMBOL: JsonSchema = { type: 'object', properties: { name: { type: 'string' }, kind: { type: 'number' }, location: { type: 'object' } } };

export const openCodeFileRoutes: RouteGroup = {
  name: 'opencode-file',
  description: 'The project’s files as OpenCode’s SDK, web and desktop app ask for them: listings, contents, git status, text and symbol search.',
  routes: [
    {
      method: 'get',
      path: '/file',
      operationId: 'file.list',
      summary: 'List a folder of the project',
      description: `The folder's files and folders (folders first, then by name; symlinks are not listed, as OpenCode lists none), each with its \`path\` relative to the request's folder (a folder's ends with \`/\`), its \`absolute\` path, and \`ignored\`: whether git ignores it (every \`.gitignore\`; nothing is marked outside a git checkout, nor for a page of another site, for which git is not run). The path must stay inside the request's folder, as written and through symlinks (403 otherwise). At most ${thousands(MAX_LIST_ENTRIES)} entries: a folder with more is answered with the first ones read, and the header \`x-pantheon-truncated: true\` says so.`,
      query: { ...DIRECTORY_QUERY, ...PATH_QUERY },
      responses: { 200: { description: 'Files and folders', schema: { type: 'array', items: FILE_NODE } }, ...ERRORS, 404: { description: 'No such folder', schema: ref('Error') } },
      handler: async (c) => {
        const given = required(c, 'path', 'Send path= (empty) for the folder itself, or a folder inside it.');
        const instance = await requestInstance(c);
        // A page of another site may name any folder: git (whose config there may run commands) is not run for it.
        const { nodes, truncated } = await listFolder(instance, given, { log: c.get('state').log, git: !requestFromOtherSite(c) });
        return c.json(nodes, 200, truncated ? { 'x-pantheon-truncated': 'true' } : {});
      },
    },
    {
      method: 'get',
      path: '/file/content',
      operationId: 'file.read',
      summary: 'Read a file of the project',
      description: `\`{type: "text", content}\` for a UTF-8 file (trimmed, as OpenCode trims it); \`{type: "binary", content, encoding: "base64", mimeType}\` for any other (a NUL byte, or not UTF-8); \`{type: "text", content: ""}\` for a file that is not there, as OpenCode answers. A folder is a 400. Files up to ${thousands(MAX_CONTENT_BYTES)} bytes are read (a larger one is a 400, FILE_TOO_LARGE). The path must stay inside the request's folder, as written and through symlinks (403 otherwise).`,
      query: { ...DIRECTORY_QUERY, ...PATH_QUERY },
      responses: { 200: { description: 'File content', schema: FILE_CONTENT }, ...ERRORS },
      handler: async (c) => {
        const given = required(c, 'path', 'Send path=… naming a file inside the project folder.');
        const instance = await requestInstance(c);
        return c.json(await readContent(instance.directory, given));
      },
    },
    {
      method: 'get',
      path: '/file/status',
      operationId: 'file.status',
      summary: 'The files changed since the last commit',
      description: `The folder's files that differ from \`HEAD\` (staged or not; \`git diff --numstat\`), with their added and removed lines and \`status\` \`added\`, \`deleted\` or \`modified\`, then the untracked files that git does not ignore, as \`added\` with every line counted (0 for a binary file or one over 1 MB). Paths relative to the folder. \`[]\` outside a git checkout. A page of another site (\`Sec-Fetch-Site: cross-site\`, or a foreign \`Origin\`) is refused (403): a repository’s config may make git run commands. At most ${thousands(MAX_STATUS_FILES)} files: a folder with more is answered with the first ones (changed files first, in git's path order, then untracked ones), and the header \`x-pantheon-truncated: true\` says so; git's output is read no further. Git gets 10 s (a git that fails is a 500 saying why). OpenCode 1.18 answers \`[]\` here always; earlier versions answered as Pantheon does.`,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Changed files', schema: { type: 'array', items: FILE_STATUS } }, 400: ERRORS[400] },
      handler: async (c) => {
        // A page of another site may name any folder, and a repository's own config may make git run commands.
        if (requestFromOtherSite(c)) throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'A page of another site may not have the server run git: GET /file/status answers programs and this server’s own pages.', { hint: 'Call it from a program, or add the page’s origin to server.cors (or --cors).' });
        const instance = await requestInstance(c);
        const { files, truncated } = await fileStatus(instance.directory, c.get('state').log);
        return c.json(files, 200, truncated ? { 'x-pantheon-truncated': 'true' } : {});
      },
    },
    {
      method: 'get',
      path: '/find',
      operationId: 'find.text',
      summary: 'Search the project’s files for text',
      description: `The first ${FIND_TEXT_LIMIT} lines that match \`pattern\` (as OpenCode answers: ripgrep's JSON matches, byte offsets), shallow files first. The pattern is a JavaScript regular expression (OpenCode runs ripgrep; Pantheon the \`grep\` tool's engine), at most ${thousands(MAX_QUERY_CHARS)} characters. \`.git\`, \`node_modules\`, the root \`.gitignore\`'s entries, binary files, files over 1 MB and symlinks are skipped; the folder's walk is the file search's (100,000 entries, 3 s, kept 5 s: a file made since may be missed until then), and no file is begun after ${thousands(SEARCH_BUDGET_MS / 1000)} s (what was found by then is answered). The lines are tested off the server's main thread: a pattern that takes over ${FILE_BUDGET_MS / 1000} s on one file (catastrophic backtracking, such as \`(a+)+$\` against a long line of \`a\`s) is stopped and answered 400 naming \`pattern\` and the file. A line over 2,000 characters is cut with \`...\`.`,
      query: { ...DIRECTORY_QUERY, pattern: { description: 'A regular expression', required: true } },
      responses: { 200: { description: 'Matches', schema: { type: 'array', items: TEXT_MATCH } }, 400: ERRORS[400] },
      handler: async (c) => {
        const re = compilePattern(required(c, 'pattern', 'Send pattern=… (a regular expression).'));
        const instance = await requestInstance(c);
        const state = c.get('state');
        const found = await findText(instance.projectRoot, instance.directory, re, { signal: c.get('req').signal, log: state.log }).catch((error: unknown) => {
          const hint = `Simplify the pattern: ${SLOW_PATTERN_ADVICE}.`;
          if (error instanceof RegexTimeoutError) throw bad('pattern', `took over ${error.seconds} s on ${path.relative(instance.directory, error.file)} and was stopped`, hint);
          if (error instanceof RegexFailedError) throw bad('pattern', `could not be run (${error.message})`, hint);
          throw error;
        });
        return c.json(found);
      },
    },
    {
      method: 'get',
      path: '/find/symbol',
      operationId: 'find.symbols',
      summary: 'Search the workspace’s symbols',
      description: 'Always `[]`: symbols come from a language server, and Pantheon runs none (OpenCode 1.18 answers `[]` too). `query` is still required, as OpenCode requires it.',
      query: { ...DIRECTORY_QUERY, query: { description: 'The symbol name to look for', required: true } },
      responses: { 200: { description: 'Symbols (none)', schema: { type: 'array', items: SYMBOL } }, 400: ERRORS[400] },
      handler: async (c) => {
        required(c, 'query', 'Send query=… (a symbol name).');
        await requestInstance(c);
        return c.json([]);
      },
    },
  ] satisfies RouteDef[],
};
