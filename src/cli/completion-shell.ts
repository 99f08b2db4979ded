import { PantheonError } from '../errors.ts';

/** The shells yargs writes a completion script for, and the `$SHELL` that makes it write each. */
const SHELLS: Readonly<Record<string, string>> = { bash: '/bin/bash', zsh: '/bin/zsh' };

/**
 * `opencode completion [bash|zsh]`: yargs prints a bash script, or a zsh one when `$SHELL` names
 * zsh, and takes no argument; a shell named on the command line (as most CLIs take it) chooses
 * instead, through `env.SHELL`. Returns argv without the shell's name; another name is a usage error
 * (yargs read it as an unknown command: "invalid command line"). `--help` shows the commands' help.
 */
export function completionArgv(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (argv[0] !== 'completion') return [...argv];
  // yargs prints the script for `completion --help` too: the help that lists `completion` instead.
  if (argv.includes('--help') || argv.includes('-h')) return ['--help'];
  const at = argv.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  if (at < 0) return [...argv];
  const shell = argv[at] as string;
  const chosen = Object.hasOwn(SHELLS, shell) ? SHELLS[shell] : undefined;
  if (chosen === undefined) {
    throw new PantheonError('USAGE', `completion: expected bash or zsh, found "${shell}".`, {
      hint: 'Other shells have no script here; `opencode completion zsh >> ~/.zshrc` installs the zsh one.',
    });
  }
  env.SHELL = chosen;
  return argv.filter((_, i) => i !== at);
}
