# The orchestrator on Debian 12 (bookworm): built from this repository with Debian's packages, then
# installed in a slim image as the Debian package `make package` makes, so the image holds the
# libraries the package depends on and nothing of the build. Hugging Face Jobs run it as the prepare
# and retrain workers, e.g.
#   PREPARE_DATASET_REPO=hf-job:ghcr.io/OWNER/orchestrator:0.1.0 orchestrator prepare --hub /data/hub
#   RETRAIN_DEPT_REPO=hf-job:ghcr.io/OWNER/orchestrator:0.1.0 orchestrator retrain --hub /data/hub
# (README, "Workers as Hugging Face Jobs"). Build it with: docker build -t orchestrator .

FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config ca-certificates \
      libcurl4-openssl-dev libssl-dev libpq-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev \
      libtomlplusplus-dev libfasttext-dev libcpp-httplib-dev lowdown dpkg-dev file \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORCH_TESTS=OFF \
 && cmake --build build -j "$(nproc)" \
 && cd build \
 && cpack -G DEB

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
COPY --from=build /src/build/orchestrator_*.deb /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates /tmp/orchestrator_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/orchestrator_*.deb
# Hugging Face runs a Space's and a Job's container as the user of uid 1000.
RUN useradd --create-home --uid 1000 orchestrator
USER orchestrator
WORKDIR /home/orchestrator
CMD ["orchestrator", "--help"]
