// Waiting on a promise for at most a while: a probe that may hang, a worker
// asked to end itself, a save given time to finish.

/** `p`, or a rejection "timed out after `ms` ms" if it takes longer; the timer never keeps the process alive. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
