/**
 * OpenCode's v2 file routes for a location: list one folder (`GET /api/fs/list`, what `GET /file`
 * lists, as `{path, type}`) and serve one file as it is (`GET /api/fs/read/{path}`, with its
 * content type). Paths stay inside the location's folder (project-files.ts). Errors in v2's shape
 * (`{_tag, message}`), for `GET /api/fs/find` too.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { fileToServe, listFolder, MAX_LIST_ENTRIES } from '../opencode/project-files.ts';
import { v2Error } from '../opencode/v2-error.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { LOCATION_QUERY, locationOf, v2Instance } from './opencode-project.ts';
import { thousands } from '../../icu-free.ts';

const str: JsonSchema = { type: 'string' };
const ERRORS = {
  400: { description: 'InvalidRequestError (a folder that does not exist; a file where a folder is wanted, or the reverse)', schema: ref('V2Error') },
  403: { description: 'ForbiddenError: the path leads outside the folder (by `..`, an absolute path or a symlink)', schema: ref('V2Error') },
  404: { description: 'NotFoundError: no such file or folder', schema: ref('V2Error') },
};
/** What a served file's answer carries besides its type: never run as a page or a script, nor embedded by another site. */
const SERVED_HEADERS = { 'x-content-type-options': 'nosniff', 'content-security-policy': 'sandbox', 'cross-origin-resource-policy': 'same-site', 'cache-control': 'no-store' };

export const openCodeV2FsRoutes: RouteGroup = {
  name: 'opencode-v2-fs',
  description: 'OpenCode’s v2 file routes: a folder’s listing and a file as it is, inside the request’s folder.',
  prefix: '/api/fs',
  renderError: (error) => v2Error(error),
  schemas: {
    FileSystemEntry: { type: 'object', properties: { path: str, type: { type: 'string', enum: ['file', 'directory'] } }, required: ['path', 'type'] },
  },
  routes: [
    {
      method: 'get',
      path: '/api/fs/list',
      operationId: 'v2.fs.list',
      summary: 'List a folder (OpenCode’s v2 API)',
      description: `The files and folders right inside \`path\` (default: the folder itself), as \`GET /file\` lists them: folders first, then by name, each \`{path, type}\` with its path relative to the request’s folder (a folder’s ends with \`/\`); symlinks are not listed. The path must stay inside the folder, as written and through symlinks (403); a file is a 400, a missing folder a 404. At most ${thousands(MAX_LIST_ENTRIES)} entries (\`x-pantheon-truncated: true\` says when there were more).`,
      query: { ...LOCATION_QUERY, path: { description: 'A folder, relative to the request’s folder (or absolute inside it); default: the folder itself' } },
      responses: { 200: { description: '{location, data}', schema: { type: 'object', properties: { location: ref('LocationInfo'), data: { type: 'array', items: ref('FileSystemEntry') } }, required: ['location', 'data'] } }, ...ERRORS },
      handler: async (c) => {
        const instance = await v2Instance(c);
        const { nodes, truncated } = await listFolder(instance, c.req.query('path') ?? '', { log: c.get('state').log, git: false });
        return c.json({ location: locationOf(instance), data: nodes.map((n) => ({ path: n.path, type: n.type })) }, 200, truncated ? { 'x-pantheon-truncated': 'true' } : {});
      },
    },
    {
      method: 'get',
      path: '/api/fs/read/{path+}',
      operationId: 'v2.fs.read',
      summary: 'Serve a file (OpenCode’s v2 API)',
      description: 'The file’s bytes as they are, streamed (any size), relative to the request’s folder (percent-encode what a URL cannot hold). `content-type` is its extension’s for images, audio, video, fonts, PDF and archives, else `text/plain; charset=utf-8` for UTF-8 text (its first 64 KiB), else `application/octet-stream` (OpenCode goes by the extension alone: a `.ts` file is `video/mp2t` there). Never run as a page or script (`nosniff`, a sandbox CSP), nor embedded by another site. The path must stay inside the folder, as written and through symlinks (403); a folder is a 400, a missing file a 404 (OpenCode answers 500 to all three).',
      params: { path: { description: 'The file, relative to the request’s folder' } },
      query: LOCATION_QUERY,
      responses: { 200: { description: 'The file', contentType: 'application/octet-stream', schema: { type: 'string', format: 'binary' } }, ...ERRORS },
      handler: async (c, { params }) => {
        const instance = await v2Instance(c);
        const file = await fileToServe(instance.directory, params.path as string);
        const headers = { ...SERVED_HEADERS, 'content-type': file.contentType, 'content-length': String(file.size) };
        if (file.size === 0 || c.req.method === 'HEAD') return c.body(null, 200, headers);
        // Only the bytes there when it was looked at: a file that grows meanwhile is cut at its size then.
        const stream = fs.createReadStream(file.real, { start: 0, end: file.size - 1 });
        return c.body(Readable.toWeb(stream) as ReadableStream<Uint8Array>, 200, headers);
      },
    },
  ],
};
