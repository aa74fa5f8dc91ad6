# Raftline broker image. Build: docker build -t raftline . ; run: see docker-compose.yml.

FROM node:20-slim AS build
WORKDIR /app
# Dependencies first, so that source changes reuse this layer. Scripts are skipped because "prepare"
# builds the sources, which are not copied yet; classic-level then loads its bundled prebuilt binary.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild classic-level
COPY tsconfig.json ./
COPY proto ./proto
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The peer transport loads proto/internal at run time; the dashboard's static files are served from
# dashboard/.
COPY --from=build /app/proto ./proto
COPY dashboard ./dashboard
RUN mkdir -p /var/lib/raftline /var/lib/raftline-tls && chown node:node /var/lib/raftline /var/lib/raftline-tls
USER node
VOLUME ["/var/lib/raftline"]
EXPOSE 7001 7101 8001
ENTRYPOINT ["node", "--initial-heap-size=128", "dist/src/cli/main.js"]
CMD ["serve"]
