# SecAbly service image: every process of the distributed mode (and the embedded
# mode) runs from it; compose.yaml picks the entry point per service.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev
# The Debian packages the scanner plug-ins declare (scanners/registry.ts): adding a scanner needs no edit here.
RUN node --input-type=module -e "const { SCANNERS } = await import('./dist/scanners/registry.js'); console.log([...new Set(SCANNERS.plugins.flatMap((p) => p.debianPackages ?? []))].join(' '))" > debian-packages.txt

FROM node:20-bookworm-slim
COPY --from=build /app/debian-packages.txt /tmp/debian-packages.txt
# util-linux: setpriv, so scanner tools die with their worker; chromium and fonts: PDF reports (api).
RUN apt-get update && apt-get install -y --no-install-recommends $(cat /tmp/debian-packages.txt) util-linux ca-certificates \
  chromium fonts-liberation \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8000
CMD ["node", "dist/main.js"]
