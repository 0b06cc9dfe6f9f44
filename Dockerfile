# Production image of passgenau. Build: docker build -t passgenau .
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src src
COPY crates crates
COPY migrations migrations
COPY openapi openapi
RUN cargo build --release --locked -p passgenau --bin passgenau

FROM debian:bookworm-slim
# libpq5: the binary links libpq dynamically (SQLite is compiled in)
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/passgenau --create-home passgenau
COPY --from=build /src/target/release/passgenau /usr/local/bin/passgenau
USER passgenau
WORKDIR /var/lib/passgenau
ENV PASSGENAU_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["passgenau"]
CMD ["serve"]
