/**
 * Agent skills, where OpenCode finds them: a folder with a `SKILL.md` (YAML frontmatter with
 * `name` and `description`, then the instructions) under `.opencode/skill/` or `.opencode/skills/`
 * of the project, `.claude/skills/` of the project, OpenCode's global config folder's `skill/` or
 * `skills/`, `~/.claude/skills/`, and the config's `skills.paths` (folders holding skill folders;
 * `~/` expanded, relative ones from the project root), then the registries of `skills.urls`
 * (skill-urls.ts). The project's win over the others of the same name. The `skill` tool (run/skill-tool.ts) lists them to the model and loads one when it asks.
 */
import { MAX_FILE_REF_BYTES, readTextFile } from '../config/read-text.ts';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { globalConfigFolder } from '../config/home.ts';
import { splitFrontmatter } from '../config/markdown-layers.ts';
import { parseYaml } from '../config/read-layer.ts';

export interface Skill {
  name: string;
  description: string;
  /** The SKILL.md file. */
  file: string;
}

/** Skills read at most (a runaway folder must not stall a run), and the largest SKILL.md read. */
const MAX_SKILLS = 200;
export const MAX_SKILL_BYTES = 1024 * 1024;

/** The folders holding skill folders, the project's first. */
function skillRoots(projectRoot: string, env: NodeJS.ProcessEnv, extra: readonly string[]): string[] {
  const home = env.HOME || os.homedir();
  const global = globalConfigFolder(env);
  const configured = extra.filter((p) => typeof p === 'string' && p.trim()).map((p) => (p.startsWith('~/') ? path.join(home, p.slice(2)) : path.resolve(projectRoot, p)));
  return [
    path.join(projectRoot, '.opencode', 'skill'),
    path.join(projectRoot, '.opencode', 'skills'),
    path.join(projectRoot, '.claude', 'skills'),
    path.join(global, 'skill'),
    path.join(global, 'skills'),
    path.join(home, '.claude', 'skills'),
    ...configured,
  ];
}

/**
 * Each SKILL.md as last read, by path, while its size and modification time stay the same: a
 * server's turns (and a run's delegations) look the skills up each time, and read only what changed.
 */
const read = new Map<string, { mtimeMs: number; size: number; skill: Skill | undefined }>();
const MAX_READ = 1000;

async function readSkill(file: string, folder: string): Promise<Skill | undefined> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size > MAX_SKILL_BYTES) return undefined;
  const known = read.get(file);
  if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.skill;
  const skill = await parseSkill(file, folder);
  if (read.size >= MAX_READ) read.clear();
  read.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, skill });
  return skill;
}

async function parseSkill(file: string, folder: string): Promise<Skill | undefined> {
  // At most 1 MiB, as any markdown the config names: a skill's folder may hold anything.
  const { yaml } = splitFrontmatter(await readTextFile(file, MAX_FILE_REF_BYTES).catch(() => ''));
  const front = yaml.trim() ? await parseYaml(yaml, file).catch(() => undefined) : undefined;
  const description = typeof front?.description === 'string' ? front.description.trim() : '';
  // OpenCode lists only a skill that says what it is for.
  if (!description) return undefined;
  const name = typeof front?.name === 'string' && front.name.trim() ? front.name.trim() : folder;
  return { name, description, file };
}

/**
 * The skills a run in `projectRoot` can load, by name (the first found of each name); `paths`: the
 * config's `skills.paths`; `urls`: its `skills.urls` (registries downloaded into the cache, read
 * after every folder: skill-urls.ts). `signal`: the asker stops waiting for a registry's download
 * (which stops when nobody else waits for it).
 */
export async function discoverSkills(projectRoot: string, env: NodeJS.ProcessEnv = process.env, paths: readonly string[] = [], urls: readonly unknown[] = [], signal?: AbortSignal): Promise<Skill[]> {
  const found = new Map<string, Skill>();
  const registries = urls.length ? await (await import('./skill-urls.ts')).registryFolders(urls, { env, ...(signal ? { signal } : {}) }) : [];
  for (const root of [...skillRoots(projectRoot, env, paths), ...registries]) {
    const folders = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
    const sorted = folders.filter((d) => d.isDirectory()).map((d) => d.name).sort().slice(0, MAX_SKILLS);
    const skills = await Promise.all(sorted.map((folder) => readSkill(path.join(root, folder, 'SKILL.md'), folder)));
    for (const skill of skills) {
      if (skill && !found.has(skill.name) && found.size < MAX_SKILLS) found.set(skill.name, skill);
    }
  }
  return [...found.values()];
}

/** The skills of `projectRoot` and the user with the config's `skills.paths` and `skills.urls`. */
export function skillsFor(projectRoot: string, env: NodeJS.ProcessEnv, config: { skills?: { paths?: unknown; urls?: unknown } }, signal?: AbortSignal): Promise<Skill[]> {
  const { paths, urls } = config.skills ?? {};
  return discoverSkills(projectRoot, env, Array.isArray(paths) ? (paths as string[]) : [], Array.isArray(urls) ? urls : [], signal);
}
