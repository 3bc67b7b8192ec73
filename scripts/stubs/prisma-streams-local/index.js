// Only `prisma dev` loads this (lazily, for its local durable streams server). Roster never runs
// `prisma dev`; the real package needs Node >= 22 while Roster runs on Node 20 (README, 'Node 20').
throw new Error('@prisma/streams-local is not installed: Roster does not use `prisma dev` (the real package needs Node >= 22)');
