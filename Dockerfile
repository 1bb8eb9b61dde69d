# Build stage: Bun compiles the whole server (migrations, Swagger UI, admin UI) into one executable.
# Production dependencies only: Bun compiles TypeScript itself and nothing in src/ imports a dev
# dependency (typescript still comes along, as a peer dependency of @elysiajs/openapi).
FROM oven/bun:1.4.4 AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production
COPY . .
RUN bun run build

# Runtime stage: a slim image with only the binary (no node_modules, no Bun, no dev dependencies),
# run as a non-root user. Its uid and gid are both 10001, so a bind-mounted data folder is
# prepared with `chown 10001:10001 ./data`.
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 studio \
 && useradd --system --uid 10001 --gid studio --home-dir /app --no-create-home studio \
 && mkdir -p /app /data && chown studio:studio /data
COPY --from=build /src/dist/ai-studio /app/ai-studio
USER studio
WORKDIR /data
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0 DATABASE_URL=sqlite:///data/studio.db
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/app/ai-studio", "healthcheck"]
ENTRYPOINT ["/app/ai-studio"]
CMD ["serve"]
