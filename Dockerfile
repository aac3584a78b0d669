# Multi-stage build of the bizgraph binary: build with the Rust toolchain, run on a slim image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin bizgraph

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home bizgraph
COPY --from=build /src/target/release/bizgraph /usr/local/bin/bizgraph
USER bizgraph
# Inside a container the gateway must listen on all interfaces to be reachable.
ENV BIZGRAPH_LISTEN=0.0.0.0:4000
EXPOSE 4000
ENTRYPOINT ["bizgraph"]
CMD ["serve"]
