#!/usr/bin/env bash
# Prints the directory holding kube-apiserver and etcd for envtest (KUBEBUILDER_ASSETS).
#
# Order: $KUBEBUILDER_ASSETS if it already holds both binaries; the setup-envtest store
# (so a second run is instant); `setup-envtest use` (downloads, needs the internet);
# last, build the pinned versions from Go modules into the setup-envtest store, where a
# clean clone, an IDE and `setup-envtest use -i` all find them. Everything but the final
# path goes to stderr so callers can write KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh).
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.6.16}"
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
GOOS_GOARCH="$(go env GOOS)-$(go env GOARCH)"

log() { echo "envtest-assets: $*" >&2; }
complete() { [[ -x "$1/kube-apiserver" && -x "$1/etcd" ]]; }
work="${XDG_CACHE_HOME:-$HOME/.cache}/dockprobe/envtest-build"

# k8s.io/kubernetes pins its staging modules with `=> ./staging/...` replaces that only
# work inside its own repository; the build module swaps each for the published module.
k8s_module() {
  mkdir -p "$work/k8s"
  (
    cd "$work/k8s"
    [[ -f go.sum ]] && return 0
    modfile=$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
    {
      echo "module dockprobe.dev/envtest-build/k8s"
      echo "go 1.26"
      echo "require k8s.io/kubernetes v${K8S_VERSION}"
      sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 v0.'"${K8S_VERSION#1.}"'#p' "$modfile"
    } > go.mod
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > tools.go
    go mod tidy >&2
  )
}

# build_k8s_command PKG OUT builds a version-stamped k8s.io/kubernetes command.
build_k8s_command() {
  k8s_module
  local minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  local pkg=k8s.io/component-base/version
  (cd "$work/k8s" && CGO_ENABLED=0 go build -trimpath -o "$2.tmp" -ldflags "-s -w \
    -X $pkg.gitVersion=v${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor} \
    -X $pkg.gitTreeState=clean -X $pkg.gitCommit=dockprobe-envtest-build \
    -X $pkg.buildDate=1970-01-01T00:00:00Z" "$1" >&2)
  mv "$2.tmp" "$2"
}

# The tests drive kubectl too (apply, get, explain): link the machine's, else build one.
ensure_kubectl() {
  [[ -x "$1/kubectl" ]] && return 0
  if command -v kubectl >/dev/null 2>&1; then
    ln -sf "$(command -v kubectl)" "$1/kubectl"
  else
    log "no kubectl on PATH; building kubectl v${K8S_VERSION} from Go modules"
    build_k8s_command k8s.io/kubernetes/cmd/kubectl "$1/kubectl"
  fi
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]] && complete "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi

store="${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest"
dest="$store/k8s/${K8S_VERSION}-${GOOS_GOARCH}"
if complete "$dest"; then ensure_kubectl "$dest"; echo "$dest"; exit 0; fi

log "no binaries in $dest; trying setup-envtest (needs the internet)"
if path=$(timeout 120 go run "sigs.k8s.io/controller-runtime/tools/setup-envtest@${SETUP_ENVTEST_VERSION}" \
      use "$K8S_VERSION" -p path 2>/dev/null) && [[ -n "$path" ]] && complete "$path"; then
  echo "$path"; exit 0
fi

log "setup-envtest could not download; building kube-apiserver v${K8S_VERSION} and etcd v${ETCD_VERSION} from Go modules (first time about 10 minutes on 2 cores)"
mkdir -p "$work/etcd" "$dest"
build_k8s_command k8s.io/kubernetes/cmd/kube-apiserver "$dest/kube-apiserver"

(
  cd "$work/etcd"
  cat > go.mod <<MOD
module dockprobe.dev/envtest-build/etcd
go 1.26
require go.etcd.io/etcd/server/v3 v${ETCD_VERSION}
MOD
  cat > main.go <<'SRC'
// Command etcd is etcd's own main, built from its Go module for envtest.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
SRC
  go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dest/etcd.tmp" . >&2
)

# Binaries are built to .tmp and renamed, so an interrupted build never looks complete.
mv "$dest/etcd.tmp" "$dest/etcd"
ensure_kubectl "$dest"
log "built into $dest"
echo "$dest"
