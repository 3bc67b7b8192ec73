/**
 * Races `work` against `deadline` (epoch ms) and rejects with `message` when it is late. The work
 * itself goes on (a broker request cannot be cancelled); a late failure of it is not unhandled.
 */
export async function beforeDeadline<T>(deadline: number, work: Promise<T>, message = 'no answer in time'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
