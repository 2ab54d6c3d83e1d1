#!/usr/bin/env bash
# Runs the upstream Gateway API v1.6.1 conformance suite (profile GATEWAY-HTTP) against the
# gatefleet installed in the cluster of the current kubeconfig: the local cluster
# (`node dist/test/cluster/local-cluster.js up`, KUBECONFIG=.cache/local-cluster/control-plane/kubeconfig;
# npm test does this in test/conformance/conformance.test.ts) or kind (hack/kind-up.sh).
#
#   hack/conformance/run.sh [upstream flags...]
#     e.g. -usable-address 172.18.255.200 -unusable-address 10.255.255.1 -run-test HTTPRouteSimpleSameNamespace
#
# GATEFLEET_CONFORMANCE_REPORT: where the report goes (default ./conformance-report.yaml).
# GATEFLEET_VERSION, GATEFLEET_URL, GATEFLEET_CONTACT, GATEFLEET_ORGANIZATION: report fields.
set -euo pipefail

main() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  GATEFLEET_CONFORMANCE_REPORT=$(realpath -m "${GATEFLEET_CONFORMANCE_REPORT:-conformance-report.yaml}")
  export GATEFLEET_CONFORMANCE_REPORT
  cd "$here"
  go test -v -count=1 -timeout 90m -run '^TestGatefleetConformance$' . -args "$@"
  echo "run.sh: report in $GATEFLEET_CONFORMANCE_REPORT (unless -report-output was given)" >&2
}

main "$@"; exit # on one line: bash reads a script as it runs, and this file may change meanwhile
