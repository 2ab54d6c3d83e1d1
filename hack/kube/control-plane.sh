#!/usr/bin/env bash
# A local Kubernetes control plane for gatefleet's tests: etcd (Debian's package) and
# kube-apiserver, optionally kube-controller-manager, built from k8s.io/kubernetes.
#
#   control-plane.sh build                                   build/cache the binaries once
#   control-plane.sh up <dir> [--with-controller-manager] [--serving-ip <ip>]...
#                                                            start; prints <dir>/kubeconfig
#     --serving-ip: another IP SAN in the API server's certificate, e.g. the cluster IP of the
#     `kubernetes` Service (10.96.0.1) when pods reach the API server through it
#   control-plane.sh down <dir>                              stop and remove <dir>
#
# Binaries are cached in .cache/kube/<version>/bin (GATEFLEET_KUBE_CACHE overrides).
# The API server authenticates client certificates, authorizes with RBAC,Node; the
# kubeconfig's user "admin" is in system:masters.
set -euo pipefail

K8S_VERSION=v1.35.4 # keep in step with hack/kube/build/go.mod
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${GATEFLEET_KUBE_CACHE:-$ROOT/.cache/kube/$K8S_VERSION}
BIN=$CACHE/bin
MARKER=.gatefleet-control-plane

log() { echo "control-plane: $*" >&2; }
die() { log "$*"; exit 1; }

build() {
  mkdir -p "$BIN"
  exec 9>"$CACHE/.build.lock"
  flock 9 # one build at a time, e.g. parallel test workers
  tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT

  if [[ ! -x $BIN/etcd ]]; then
    # Only the binary is taken from the package: no system service is installed or run.
    log "fetching etcd from Debian's etcd-server package"
    (cd "$tmp" && apt-get download etcd-server >&2) ||
      { apt-get update -qq >&2 && (cd "$tmp" && apt-get download etcd-server >&2); }
    dpkg-deb -x "$tmp"/etcd-server_*.deb "$tmp/etcd"
    install -m 0755 "$tmp/etcd/usr/bin/etcd" "$BIN/etcd"
  fi

  if [[ ! -x $BIN/kube-apiserver || ! -x $BIN/kube-controller-manager ]]; then
    log "building kube-apiserver and kube-controller-manager $K8S_VERSION (slow the first time)"
    local pkg=k8s.io/component-base/version minor=${K8S_VERSION#v1.}
    local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    ldflags+=" -X $pkg.gitTreeState=clean"
    (cd "$HERE/build" && GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager)
    mv "$tmp/kube-apiserver" "$tmp/kube-controller-manager" "$BIN/"
  fi
  rm -rf "$tmp"
  exec 9>&- # release the lock; the servers started by 'up' must not inherit it
  log "binaries in $BIN"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start <name> <command...>: runs detached, logs to <dir>/<name>.log, pid in <dir>/<name>.pid
start() {
  local name=$1
  shift
  nohup "$@" </dev/null >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

running() { [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) == [^Z] ]]; } # zombies count as stopped
alive() { [[ -f $DIR/$1.pid ]] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

cert() { # cert <name> <subject> [extfile]: key + certificate signed by the CA
  openssl req -new -newkey rsa:2048 -nodes -keyout "$DIR/$1.key" -subj "$2" -out "$DIR/$1.csr" 2>/dev/null
  openssl x509 -req -in "$DIR/$1.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
    -days 30 -out "$DIR/$1.crt" ${3:+-extfile "$3"} 2>/dev/null
}

up() {
  local with_kcm=false serving_ips=''
  shift
  while (($#)); do
    case $1 in
      --with-controller-manager) with_kcm=true ;;
      --serving-ip) serving_ips+=",IP:${2:?--serving-ip needs an address}" && shift ;;
      *) die "up: unknown option $1" ;;
    esac
    shift
  done
  build
  mkdir -p "$DIR"
  [[ -z $(ls -A "$DIR") ]] || die "$DIR is not empty"
  touch "$DIR/$MARKER"

  # Certificates: a CA, the API server's serving certificate, the admin client certificate.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/ca.key" -out "$DIR/ca.crt" \
    -subj /CN=gatefleet-test-ca -days 30 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1%s,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' \
    "$serving_ips" >"$DIR/serving.ext"
  cert apiserver /CN=kube-apiserver "$DIR/serving.ext"
  printf 'extendedKeyUsage=clientAuth\n' >"$DIR/client.ext"
  cert admin "/O=system:masters/CN=admin" "$DIR/client.ext"
  openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null

  local etcd_port peer_port api_port i p
  etcd_port=$(free_port) peer_port=$(free_port) api_port=$(free_port)
  start etcd "$BIN/etcd" --name gatefleet --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "gatefleet=http://127.0.0.1:$peer_port" --listen-metrics-urls '' --logger zap --log-level warn

  for ((i = 0; ; i++)); do
    curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null && break
    alive etcd || { tail -n 30 "$DIR/etcd.log" >&2; die "etcd exited (log: $DIR/etcd.log)"; }
    ((i < 100)) || die "etcd not healthy after 20 s (log: $DIR/etcd.log)"
    sleep 0.2
  done

  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$DIR/apiserver.crt" --tls-private-key-file "$DIR/apiserver.key" \
    --client-ca-file "$DIR/ca.crt" --authorization-mode RBAC,Node \
    --service-cluster-ip-range 10.96.0.0/16 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$DIR/sa.pub" --service-account-signing-key-file "$DIR/sa.key" \
    --allow-privileged --profiling=false

  local b64='base64 -w0'
  cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: gatefleet
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority-data: $($b64 <"$DIR/ca.crt")
users:
  - name: admin
    user:
      client-certificate-data: $($b64 <"$DIR/admin.crt")
      client-key-data: $($b64 <"$DIR/admin.key")
contexts:
  - name: gatefleet
    context: { cluster: gatefleet, user: admin }
current-context: gatefleet
EOF

  for ((i = 0; ; i++)); do
    if curl -sf --cacert "$DIR/ca.crt" --cert "$DIR/admin.crt" --key "$DIR/admin.key" \
      "https://127.0.0.1:$api_port/readyz" >/dev/null; then break; fi
    for p in etcd kube-apiserver; do
      alive $p || { tail -n 30 "$DIR/$p.log" >&2; die "$p exited (log: $DIR/$p.log)"; }
    done
    ((i < 240)) || die "kube-apiserver not ready after 120 s (log: $DIR/kube-apiserver.log)"
    sleep 0.5
  done

  if $with_kcm; then
    start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
      --leader-elect=false --secure-port 0 --use-service-account-credentials \
      --service-account-private-key-file "$DIR/sa.key" --root-ca-file "$DIR/ca.crt" \
      --service-cluster-ip-range 10.96.0.0/16
    sleep 1
    alive kube-controller-manager || { tail -n 30 "$DIR/kube-controller-manager.log" >&2; die "kube-controller-manager exited"; }
  fi
  log "ready: https://127.0.0.1:$api_port"
  echo "$DIR/kubeconfig"
}

down() {
  [[ -d $DIR ]] || return 0
  [[ -f $DIR/$MARKER ]] || die "$DIR was not made by 'up'; not touching it"
  local p pid i
  for p in kube-controller-manager kube-apiserver etcd; do
    [[ -f $DIR/$p.pid ]] || continue
    pid=$(cat "$DIR/$p.pid")
    # Only signal the process we started (the pid may have been reused).
    [[ $(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n 1) == */$p ]] || continue
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$DIR"
}

main() {
  local cmd=${1:-}
  case $cmd in
    build) build ;;
    up | down)
      [[ -n ${2:-} ]] || die "usage: $0 $cmd <dir>"
      DIR=$(realpath -m "$2")
      shift
      "$cmd" "$@"
      ;;
    *) die "usage: $0 build | up <dir> [--with-controller-manager] | down <dir>" ;;
  esac
}

main "$@"; exit # on one line: bash reads a script as it runs, and this file may change meanwhile
