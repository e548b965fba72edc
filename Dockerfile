# Faultline: build the release binary, then run it on a slim Debian as a non-root user.
#   docker build -t faultline .
#   docker run -p 9000:9000 -v faultline-data:/data -e FAULTLINE_URL=http://localhost:9000 faultline

FROM rust:1.95-bookworm AS build
WORKDIR /src

# Dependencies first, in their own layer: build them against stub sources so that this layer is reused
# until Cargo.toml or Cargo.lock change. (The manifest names the benches, so they need stubs too.)
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/grouping.rs \
 && echo 'fn main() {}' > benches/ingest.rs \
 && cargo build --release --locked \
 && rm -rf src benches

# The crate itself: sources plus what the binary embeds at compile time (migrations, templates, static).
COPY src ./src
COPY benches ./benches
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
# Touch the entry points so that cargo rebuilds the crate over the stub's artifacts.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/faultline /usr/local/bin/faultline

FROM debian:bookworm-slim
# ca-certificates for TLS to PostgreSQL and webhooks; curl for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 faultline \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin faultline \
 && mkdir -p /data /app \
 && chown 10001:10001 /data
COPY --from=build /usr/local/bin/faultline /usr/local/bin/faultline

# An optional config file can be mounted at /app/config/faultline.toml.
WORKDIR /app
ENV FAULTLINE_LISTEN=0.0.0.0:9000 \
    FAULTLINE_DATA_DIR=/data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 9000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:9000/_health || exit 1
ENTRYPOINT ["faultline"]
CMD ["serve"]
