/**
 * Ending everything a terminal started. Its shell leads a session of its own (node-pty's forkpty
 * calls setsid), and an interactive shell puts each job in a process group of its own, so killing
 * the shell's group alone would leave `sleep 1000 &` running. On Linux the session's members are
 * found in /proc (a process keeps its session id after its leader exits); elsewhere the shell's
 * group is what can be reached.
 */
import fs from 'node:fs';

/** The pids of a session's live processes (zombies left out); undefined where /proc cannot tell (not Linux). */
export function sessionMembers(sid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // `pid (comm) state ppid pgrp session …`; comm may hold spaces and parentheses, so read after the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[3]) === sid && fields[0] !== 'Z') members.push(Number(entry));
  }
  return members;
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** Sends `name` to the session led by `sid`: its leader's group and every member found. */
export function signalSession(sid: number, name: NodeJS.Signals): void {
  if (sid <= 1) return;
  signal(-sid, name);
  for (const pid of sessionMembers(sid) ?? []) if (pid !== process.pid) signal(pid, name);
}

/** Whether any process of the session is left (its leader's group, or a member /proc shows). */
export function sessionAlive(sid: number): boolean {
  if (sid <= 1) return false;
  const members = sessionMembers(sid);
  if (members) return members.some((pid) => pid !== process.pid);
  try {
    process.kill(-sid, 0);
    return true;
  } catch {
    return false;
  }
}
