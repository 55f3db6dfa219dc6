# syntax=docker/dockerfile:1

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -o /thoughts .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /thoughts /thoughts
# DATA_DIR defaults to ./data: keep it in the nonroot user's home, which it may write.
WORKDIR /home/nonroot
# The app's default HTTP_ADDR is loopback, which is unreachable from outside a container.
ENV HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/thoughts"]
CMD ["serve"]
