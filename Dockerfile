# Build stage: Bun compiles the whole server (migrations, Swagger UI, admin UI) into one executable.
FROM oven/bun:1.4.4 AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

# Runtime stage: a slim image with only the binary, run as a non-root user.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app studio \
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
