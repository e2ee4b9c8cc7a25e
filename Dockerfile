# syntax=docker/dockerfile:1
#
# One image for both streamscore binaries: the scorer (the default command)
# and the trainer. Kubernetes picks one with `command: ["scorer"]` or
# `command: ["trainer"]`; `docker run IMAGE trainer models list ...` works too.
#
#   docker build -t streamscore .
#
# Every build step is scripts/image.sh, which internal/image's test also runs
# without Docker, so the two cannot drift. linux/amd64 only.

# The Go line of go.mod; bookworm to match the runtime base's glibc.
ARG GO_VERSION=1.26.8

# ONNX Runtime, taken from the onnxruntime-node npm tarball as
# scripts/setup.sh does, and checked against its SHA-256.
FROM node:22-bookworm-slim AS ort
WORKDIR /src
COPY scripts/image.sh scripts/image.sh
RUN scripts/image.sh ort /out

# Both binaries, with cgo (onnxruntime_go dlopens the library through a C
# wrapper), then the staged tree is checked against the runtime base.
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=ort /out/ /out/
RUN scripts/image.sh build /out
RUN scripts/image.sh check /out

# glibc, libstdc++ and libgcc_s, which ONNX Runtime needs; no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="streamscore" \
      org.opencontainers.image.description="Kafka stream scorer and trainer on ONNX Runtime" \
      org.opencontainers.image.source="https://github.com/streamscore/streamscore" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"
COPY --from=build /out/ /
ENV ONNXRUNTIME_SHARED_LIBRARY_PATH=/opt/onnxruntime/lib/libonnxruntime.so.1
USER 65532:65532
# The scorer's /metrics and probes, the trainer's REST API.
EXPOSE 8080 8081
CMD ["scorer"]
