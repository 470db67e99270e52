# Switchboard: one image for both processes. The command picks the role:
#   docker run IMAGE                      → the API        (node dist/server.js, the default)
#   docker run IMAGE node dist/worker.js  → the worker     (loads the prebuilt dist/workflow-bundle.js, or
#                                           dist/workflow-bundle-tracing.js with OTEL_ENABLED=true)
# Stages: deps (all npm dependencies) → build (tsc + workflow bundle) → prod-deps (runtime
# dependencies only) → runtime (non-root, no sources, no dev tooling).
# Not built on the machine this was written on (no Docker engine there); see docs/deployment.md,
# "Docker and docker-compose".

# Node 24 (Active LTS; Node 20 ended in April 2026).
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only. @temporalio/worker stays: it runs the workflows (and ships its own
# prebuilt native core for linux glibc, which is why the base image is Debian, not Alpine).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# CA certificates: TLS to Temporal Cloud and Google's APIs.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config ./config
# The official node image's unprivileged user (uid 1000).
USER node
# API_PORT, WORKER_HEALTH_PORT, WORKER_METRICS_ADDRESS defaults used by docker-compose.yml.
EXPOSE 8080 8081 9464
CMD ["node", "dist/server.js"]
