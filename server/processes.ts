/**
 * Whether a process is there, asked with signal 0. The two questions differ
 * on EPERM (the process exists but is another user's), so each has its name.
 */

/** A process with this pid exists, this user's or another's (a recycled pid cannot be told apart). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process of this user's has this pid: signal 0 reaches no one else's (EPERM) and no dead one (ESRCH). */
export function isOwnPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
