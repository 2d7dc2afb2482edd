# dockprobe — Docker's HEALTHCHECK for Kubernetes pods.

IMG ?= ghcr.io/dockprobe/dockprobe:latest
CONTROLLER_TOOLS_VERSION ?= v0.23.0
ENVTEST_K8S_VERSION ?= 1.37.2
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUBECTL ?= kubectl
CONTAINER_TOOL ?= docker
# Extra flags for go test, e.g. make test TESTFLAGS='-run TestProber -v'.
TESTFLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the +kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods from the +kubebuilder markers.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: envtest
envtest: ## Provide kube-apiserver and etcd for the tests (setup-envtest, else built from Go modules); prints their directory.
	@hack/envtest-assets.sh

.PHONY: test
test: manifests generate vet envtest ## Check generated files are current, then run every test (unit and envtest) with the race detector.
	hack/verify-generated.sh
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" go test -race -count=1 -timeout 40m $(TESTFLAGS) ./...

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/manager.
	CGO_ENABLED=0 go build -trimpath -o $(LOCALBIN)/manager .

.PHONY: run
run: manifests generate fmt vet ## Run the operator against the cluster of the current kubeconfig (installs the CRD first).
	$(KUBECTL) apply -k config/crd
	go run . $(ARGS)

# demo and bench are built, then run: `go run` exits 1 after any Ctrl-C, even a clean stop.
.PHONY: demo
demo: manifests generate ## Run a local control plane, a simulated node whose checks are real processes, the operator and sample HealthChecks, until Ctrl-C. No cluster needed.
	go build -o $(LOCALBIN)/demo ./hack/demo
	$(LOCALBIN)/demo $(ARGS)

.PHONY: bench
bench: manifests generate ## Measure exec and probe throughput, schedule fidelity, API writes, memory and start-up on the local control plane; rewrites BENCHMARKS.md (about 5 minutes).
	go build -o $(LOCALBIN)/bench ./hack/bench
	$(LOCALBIN)/bench $(ARGS)

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the container image.
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply -k config/crd

.PHONY: uninstall
uninstall: manifests ## Remove the CRD (and every HealthCheck) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the operator (namespace dockprobe-system) with image $(IMG).
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r config "$$tmp/"; \
	sed -i 's#image: controller:latest#image: $(IMG)#' "$$tmp/config/manager/manager.yaml"; \
	$(KUBECTL) apply -k "$$tmp/config/default"

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/default

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen $(CONTROLLER_TOOLS_VERSION) into ./bin from the Go module proxy.
$(CONTROLLER_GEN): $(LOCALBIN)/.controller-gen-$(CONTROLLER_TOOLS_VERSION)
$(LOCALBIN)/.controller-gen-$(CONTROLLER_TOOLS_VERSION):
	mkdir -p $(LOCALBIN)
	rm -f $(LOCALBIN)/.controller-gen-*
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	touch $@
