import { hash, verify, type Options } from '@node-rs/argon2';

/**
 * Password hashing: argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane). The hash runs on
 * libuv's thread pool, so logins do not block the event loop.
 */
export const ARGON2_OPTIONS: Options = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, not importable under isolatedModules)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2_OPTIONS);

/**
 * A hash of a random password nobody knows: verified against when the username is unknown or the
 * password unusable, so that such attempts cost the same time as a real one (L8).
 */
let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword(`dummy-${crypto.randomUUID()}`));

/** True when `password` matches `stored`; a missing or unusable hash never matches but costs the same. */
export async function passwordMatches(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored || !stored.startsWith('$argon2')) {
    await verify(await dummyHash(), password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}

/** Warms the dummy hash at start so the first unknown-username attempt is not faster than others. */
export const warmPasswordHashing = async (): Promise<void> => void (await dummyHash());
