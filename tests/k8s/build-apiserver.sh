#!/usr/bin/env bash
# Builds kube-apiserver and kubectl 1.20.2 from Debian's `kubernetes` source package and caches
# the two binaries, so tests can run a real API server on a machine without containers.
#
# Idempotent: when the cached binaries exist and run, nothing is installed or built.
# Prints the cache directory (the value for OPENOVA_K8S_BIN_DIR) as its last line.
#
# Environment:
#   OPENOVA_K8S_CACHE  cache directory (default: $HOME/.cache/openova/k8s-1.20.2)
set -euo pipefail

K8S_VERSION=1.20.2
CACHE_DIR="${OPENOVA_K8S_CACHE:-${HOME}/.cache/openova/k8s-${K8S_VERSION}}"

log() { printf 'build-apiserver: %s\n' "$*" >&2; }

cached_ok() {
  [ -x "${CACHE_DIR}/kube-apiserver" ] && [ -x "${CACHE_DIR}/kubectl" ] \
    && "${CACHE_DIR}/kube-apiserver" --version >/dev/null 2>&1 \
    && "${CACHE_DIR}/kubectl" version --client >/dev/null 2>&1
}

if cached_ok && command -v etcd >/dev/null 2>&1; then
  log "cached binaries present in ${CACHE_DIR}"
  echo "${CACHE_DIR}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    log "must run as root (or with sudo available) to install Debian packages"; exit 1
  fi
fi

# `apt-get source` needs a deb-src entry for the same mirror and suite as the main Debian entry.
ensure_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  local codename uri
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME}")"
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v security | grep -m1 debian || true)"
  if [ -z "${uri}" ]; then
    uri="$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | grep -m1 debian || true)"
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  log "adding deb-src entry for ${uri} ${codename}"
  ${SUDO} tee /etc/apt/sources.list.d/openova-deb-src.sources >/dev/null <<SRC
Types: deb-src
URIs: ${uri}
Suites: ${codename}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

ensure_deb_src
log "installing build and runtime packages"
${SUDO} apt-get update -qq
${SUDO} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  golang-go etcd-server rsync make dpkg-dev golang-github-modern-go-reflect2-dev openssl curl \
  ca-certificates >/dev/null

if cached_ok; then
  log "cached binaries present in ${CACHE_DIR}"
  echo "${CACHE_DIR}"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openova-k8s-build.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT
cd "${WORK}"

log "fetching Debian source package kubernetes"
apt-get source -qq kubernetes >/dev/null 2>&1 || apt-get source kubernetes
SRC_DIR="$(find . -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -n1)"
if [ -z "${SRC_DIR}" ]; then
  log "apt-get source kubernetes produced no source tree"; exit 1
fi
cd "${SRC_DIR}"

# reflect2 1.0.1 (vendored) crashes on Go >= 1.18 when encoding maps; Debian ships 1.0.2.
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ ! -d "${REFLECT2}" ]; then
  log "missing ${REFLECT2} (package golang-github-modern-go-reflect2-dev)"; exit 1
fi
rm -rf vendor/github.com/modern-go/reflect2
cp -r "${REFLECT2}" vendor/github.com/modern-go/reflect2

log "building kube-apiserver and kubectl (several minutes)"
start=$(date +%s)
GOPROXY=off GOFLAGS= CGO_ENABLED=0 make WHAT="cmd/kube-apiserver cmd/kubectl" >build.log 2>&1 || {
  tail -n 50 build.log >&2; exit 1; }
log "build took $(( $(date +%s) - start )) s"

mkdir -p "${CACHE_DIR}"
for bin in kube-apiserver kubectl; do
  path="$(find _output -type f -name "${bin}" -perm -u+x | head -n1)"
  if [ -z "${path}" ]; then log "build produced no ${bin}"; exit 1; fi
  install -m 0755 "${path}" "${CACHE_DIR}/${bin}.tmp"
  mv -f "${CACHE_DIR}/${bin}.tmp" "${CACHE_DIR}/${bin}"
done

cached_ok || { log "cached binaries do not run"; exit 1; }
log "binaries cached in ${CACHE_DIR}"
echo "${CACHE_DIR}"
