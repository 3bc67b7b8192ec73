/** The stamp file of the last complete build (see build-stamp.mjs). */
export const STAMP: string;
export function markBuildStarted(): void;
export function markBuildComplete(): void;
/** Why dist/ is not a build of today's sources, or null when it is. */
export function staleBecause(): string | null;
