# Production image of passgenau. Build: docker build -t passgenau .
#
# The dependencies are built in a layer of their own (cargo-chef: the recipe is the
# workspace's manifests and lock file), so a change to the sources rebuilds only the
# workspace's crates.
FROM rust:1.95-bookworm AS chef
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/* \
    && cargo install cargo-chef --locked --version "^0.1"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json -p passgenau --bin passgenau
COPY . .
RUN cargo build --release --locked -p passgenau --bin passgenau

FROM debian:bookworm-slim
# libpq5: the binary links libpq dynamically (SQLite is compiled in)
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/passgenau --create-home passgenau
COPY --from=build /src/target/release/passgenau /usr/local/bin/passgenau
# not root: the server needs no privilege (its port is above 1024)
USER passgenau
WORKDIR /var/lib/passgenau
ENV PASSGENAU_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["passgenau"]
CMD ["serve"]
