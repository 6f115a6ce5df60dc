# syntax=docker/dockerfile:1
# The web client: the Vite build of apps/web, served by nginx. Build from the repository root:
#   docker build -f infra/docker/web.Dockerfile -t ticketing/web .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: the client's dependencies (Vite and its plugins are devDependencies) and `vite build`
FROM ${NODE_IMAGE} AS build
# package-lock.json is written by npm 11; the npm 10 that node:20 ships rejects it in `npm ci`.
ARG NPM_VERSION=11.19.1
RUN npm install --global --no-audit --no-fund "npm@${NPM_VERSION}"
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/web/package.json apps/web/
# Only the web workspace; its devDependencies are needed to build and stay in this stage.
# No install script is needed to build (the bundler's native parts are platform packages).
RUN npm ci --ignore-scripts --no-audit --no-fund --workspace @ticketing/web
COPY tsconfig.json ./
COPY apps/web apps/web
ENV NODE_ENV=production
RUN npm run build --workspace @ticketing/web

# ---- runtime: static files only, nginx as a non-root user on port 8080
FROM nginxinc/nginx-unprivileged:1.27-alpine AS runtime
# At start, the image's entrypoint sources /docker-entrypoint.d/*.envsh (web-csp.envsh sets the
# Content-Security-Policy, with Stripe's origins when STRIPE_PUBLISHABLE_KEY is set), then renders
# each /etc/nginx/templates/NAME.template into /etc/nginx/conf.d/NAME: default.conf (replacing
# the image's own) and the security headers it includes.
COPY infra/docker/web/nginx.conf /etc/nginx/templates/default.conf.template
COPY infra/docker/web/security-headers.conf /etc/nginx/templates/security-headers.inc.template
COPY --chmod=755 infra/docker/web/web-csp.envsh /docker-entrypoint.d/19-web-csp.envsh
COPY --from=build /app/apps/web/dist /usr/share/nginx/html
# The image's nginx user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 101
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
