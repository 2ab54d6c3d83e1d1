#!/usr/bin/env bash
# Builds, once, the programs the local cluster's node agent runs for container images
# (test/cluster/images.ts), into .cache/conformance/bin:
#   echo-basic  registry.k8s.io/gateway-api/echo-basic — from the conformance module pinned in
#               hack/conformance/go.mod (sigs.k8s.io/gateway-api/conformance v1.6.1)
#   coredns     registry.k8s.io/coredns/coredns — CoreDNS v1.12.2 (the base manifests' tag),
#               with `go install` through the Go module proxy (about 3 minutes the first time)
# GATEFLEET_CONFORMANCE_BIN overrides the directory.
set -euo pipefail

COREDNS_VERSION=v1.12.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${GATEFLEET_CONFORMANCE_BIN:-$ROOT/.cache/conformance/bin}
log() { echo "local-cluster build: $*" >&2; }

command -v go >/dev/null || { log "go is required"; exit 1; }
mkdir -p "$BIN"
exec 9>"$BIN/.build.lock"
flock 9 # parallel test workers: one build
tmp=$(mktemp -d "$BIN/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GOTOOLCHAIN=local CGO_ENABLED=0

if [[ ! -x $BIN/echo-basic ]]; then
  log "building echo-basic from sigs.k8s.io/gateway-api/conformance"
  (cd "$ROOT/hack/conformance" && go build -trimpath -ldflags '-s -w' -o "$tmp/echo-basic" \
    sigs.k8s.io/gateway-api/conformance/echo-basic)
  mv "$tmp/echo-basic" "$BIN/echo-basic"
fi
if [[ ! -x $BIN/coredns ]]; then
  log "building coredns $COREDNS_VERSION (once; a few minutes)"
  GOBIN=$tmp go install -trimpath -ldflags '-s -w' "github.com/coredns/coredns@$COREDNS_VERSION"
  mv "$tmp/coredns" "$BIN/coredns"
fi
echo "$BIN"
