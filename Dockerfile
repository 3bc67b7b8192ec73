# syntax=docker/dockerfile:1
# One image for the four Roster services; the command selects the service (README "Deployment"):
#   node services/<name>/dist/main.js      the service (identity, directory, scheduling, notifications)
#   node services/<name>/dist/migrate.js   applies that service's committed migrations, then exits

ARG NODE_IMAGE=node:20-slim

# ---- build: the whole workspace, dev dependencies included (tsc, prisma generate) -------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first so that `npm ci` stays cached while only sources change. Every workspace's
# package.json is needed, bench's too: npm ci checks the lockfile against all of them.
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY packages/cli/package.json packages/cli/
COPY services/identity/package.json services/identity/
COPY services/directory/package.json services/directory/
COPY services/scheduling/package.json services/scheduling/
COPY services/notifications/package.json services/notifications/
COPY bench/package.json bench/
COPY scripts/prisma-generate.mjs scripts/build.mjs scripts/
COPY scripts/lib/build-stamp.mjs scripts/lib/
# A local package (a dev dependency) standing in for one only `prisma dev` loads: README, "Node 20".
COPY scripts/stubs scripts/stubs
# --ignore-scripts: `prepare` (prisma generate, tsc) needs the sources, which are not copied yet;
# `npm run build` runs it below, offline (scripts/build.mjs).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages packages
COPY services services
# prisma generate writes services/*/src/db/generated; tsc compiles it into services/*/dist/db/generated.
RUN npm run build

# ---- production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/packages/contracts/package.json packages/contracts/
COPY --from=build /app/packages/platform/package.json packages/platform/
COPY --from=build /app/packages/cli/package.json packages/cli/
COPY --from=build /app/scripts/stubs scripts/stubs
COPY --from=build /app/services/identity/package.json services/identity/
COPY --from=build /app/services/directory/package.json services/directory/
COPY --from=build /app/services/scheduling/package.json services/scheduling/
COPY --from=build /app/services/notifications/package.json services/notifications/
COPY --from=build /app/bench/package.json bench/
# --omit=optional as well: the lockfile marks prisma, typescript and Prisma Studio "devOptional"
# (optional peers of @prisma/client, met by the services' dev dependency), which --omit=dev alone
# keeps (418 MB of node_modules instead of 165 MB). The only optional production package is
# pg-cloudflare, for Cloudflare Workers. No install scripts: the runtime needs none.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
# Built code only: dist/ of each package and service (the generated Prisma clients are compiled
# into services/*/dist/db/generated), and the committed SQL migrations: the platform's own tables'
# (found at ../../migrations relative to packages/platform/dist/db/), applied first, and each
# service's, which the services find at ../prisma/migrations relative to dist/.
COPY --from=build /app/packages/contracts/dist packages/contracts/dist
COPY --from=build /app/packages/platform/dist packages/platform/dist
COPY --from=build /app/packages/platform/migrations packages/platform/migrations
COPY --from=build /app/services/identity/dist services/identity/dist
COPY --from=build /app/services/identity/prisma/migrations services/identity/prisma/migrations
COPY --from=build /app/services/directory/dist services/directory/dist
COPY --from=build /app/services/directory/prisma/migrations services/directory/prisma/migrations
COPY --from=build /app/services/scheduling/dist services/scheduling/dist
COPY --from=build /app/services/scheduling/prisma/migrations services/scheduling/prisma/migrations
COPY --from=build /app/services/notifications/dist services/notifications/dist
COPY --from=build /app/services/notifications/prisma/migrations services/notifications/prisma/migrations
# The image's own unprivileged user (uid 1000), so Kubernetes' runAsNonRoot can check it by number.
USER 1000:1000
# Documentation only: each service listens on its PORT (identity 4001 … notifications 4004).
EXPOSE 4001 4002 4003 4004
# No HEALTHCHECK here: the port depends on the service chosen; compose and Kubernetes probe
# /healthz and /readyz on the service's PORT themselves.
CMD ["node", "services/directory/dist/main.js"]
