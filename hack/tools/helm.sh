#!/usr/bin/env bash
# Installs Helm into .cache/bin with `go install` (through the Go module proxy) and prints the
# binary's path. An installed copy of the pinned version is reused; GATEFLEET_HELM overrides.
set -euo pipefail

HELM_VERSION=v3.19.0
K8S_MINOR=34 # the k8s.io modules of that Helm: its default Capabilities.KubeVersion
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/.cache/bin
HELM=$BIN/helm-$HELM_VERSION-k1.$K8S_MINOR

if [[ -n ${GATEFLEET_HELM:-} ]]; then
  echo "$GATEFLEET_HELM"
  exit 0
fi
if [[ ! -x $HELM ]]; then
  command -v go >/dev/null || { echo "helm.sh: go is required to install helm" >&2; exit 1; }
  mkdir -p "$BIN"
  exec 9>"$BIN/.helm.lock"
  flock 9 # parallel test workers: one build
  if [[ ! -x $HELM ]]; then
    echo "helm.sh: building helm $HELM_VERSION (once)" >&2
    tmp=$(mktemp -d "$BIN/.helm.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # The ldflags the Helm Makefile sets; without them `helm template` assumes Kubernetes 1.20.
    ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
    for pkg in pkg/lint/rules pkg/chartutil; do
      ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$K8S_MINOR"
    done
    GOBIN=$tmp GOTOOLCHAIN=local CGO_ENABLED=0 \
      go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    mv "$tmp/helm" "$HELM"
  fi
fi
echo "$HELM"
