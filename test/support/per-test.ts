/**
 * What a test starts and must stop whatever its outcome — a scripted provider, a sandbox, a server,
 * a browser page, Chromium itself — registered where it is made instead of in module-level variables
 * that a hand-written afterEach closes and resets.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium, type Headless } from './browser.ts';

type Stoppable = { close(): unknown } | { stop(): unknown } | { remove(): unknown };

async function stop(thing: Stoppable): Promise<void> {
  if ('close' in thing) await thing.close();
  else if ('stop' in thing) await thing.stop();
  else await thing.remove();
}

/**
 * `own(thing)` returns `thing`, stopped after the current test (close, stop or remove, newest first).
 * Every owned thing is stopped even when one of them fails to; the first failure is then thrown.
 */
export function ownPerTest(): <T extends Stoppable>(thing: T) => T {
  let owned: Stoppable[] = [];
  afterEach(async () => {
    const newestFirst = owned.reverse();
    owned = [];
    let failure: unknown;
    for (const thing of newestFirst) {
      try {
        await stop(thing);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  });
  return (thing) => {
    owned.push(thing);
    return thing;
  };
}

/** Chromium for one test file: launched before its first test, closed after its last. */
export function chromiumPerFile(): () => Headless {
  let chrome: Headless | undefined;
  beforeAll(async () => {
    chrome = await launchChromium();
  });
  afterAll(async () => {
    await chrome?.close();
  });
  return () => {
    if (!chrome) throw new Error('Chromium is not running: chromiumPerFile() starts it before the file’s first test.');
    return chrome;
  };
}
