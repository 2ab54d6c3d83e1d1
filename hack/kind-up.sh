#!/usr/bin/env bash
# A kind cluster running gatefleet: upstream Gateway API v1.6.1 CRDs (experimental channel),
# both images built and loaded, the chart installed, the controller rolled out.
#
#   hack/kind-up.sh            CLUSTER=gatefleet TAG=dev NAMESPACE=gatefleet-system
# Needs a Docker engine, kind, kubectl and helm on PATH (hack/tools/helm.sh installs helm).
set -euo pipefail

CLUSTER=${CLUSTER:-gatefleet}
TAG=${TAG:-dev}
NAMESPACE=${NAMESPACE:-gatefleet-system}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Repositories as in charts/gatefleet/values.yaml; the tag is set below.
CONTROLLER_IMAGE=gatefleet/controller:$TAG
GATEWAY_IMAGE=gatefleet/gateway:$TAG

die() { echo "kind-up: $*" >&2; exit 1; }
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
HELM=$(command -v helm || "$ROOT/hack/tools/helm.sh") || die "helm is not on PATH and hack/tools/helm.sh failed"

if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER"

# Gateway API CRDs are not in the chart: the cluster's, from the vendored upstream bundle.
kubectl apply --server-side -k "$ROOT/controller/apis/crds/gateway-api/experimental"
kubectl wait --for condition=Established --timeout 60s \
  crd/{gatewayclasses,gateways,httproutes,referencegrants}.gateway.networking.k8s.io

docker build -f "$ROOT/Dockerfile.controller" -t "$CONTROLLER_IMAGE" "$ROOT"
docker build -f "$ROOT/Dockerfile.gateway" -t "$GATEWAY_IMAGE" "$ROOT"
kind load docker-image --name "$CLUSTER" "$CONTROLLER_IMAGE" "$GATEWAY_IMAGE"

"$HELM" upgrade --install gatefleet "$ROOT/charts/gatefleet" --namespace "$NAMESPACE" \
  --create-namespace --set controller.image.tag="$TAG" --set gateway.image.tag="$TAG"
kubectl -n "$NAMESPACE" rollout status deployment/gatefleet-controller --timeout 180s
echo "kind-up: gatefleet is running in kind-$CLUSTER (namespace $NAMESPACE)"
