# Forewarn server image: Node.js 20, the TypeScript sources run through tsx (no build step).
# Used by docker-compose.yml; `docker build -t forewarn .` works on its own too.

FROM node:20-slim AS deps
WORKDIR /app
# compilers only for native modules without a prebuilt binary for this platform (better-sqlite3)
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    FOREWARN_HOST=0.0.0.0 \
    PORT=8086 \
    FOREWARN_DATA_DIR=/data \
    FOREWARN_RULES_DIR=/app/rules
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY rules ./rules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8086
# --offline: `forewarn` is this package's own bin; never look it up in a registry
CMD ["npx", "--offline", "forewarn", "run"]
