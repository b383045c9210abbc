# scalegate: `make` with no target lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
TESTBED_DIR ?= .cache/testbed
E2E_TIMEOUT ?= 30m

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/scalegate
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/scalegate ./cmd/scalegate

.PHONY: test
test: test-unit test-e2e ## run every test: unit tests, then the e2e suite on the local testbed

.PHONY: test-unit
test-unit: ## run the unit tests with the race detector
	$(GO) test -race -count=1 ./...

.PHONY: test-e2e
test-e2e: testbed-tools ## run the e2e suite against a local testbed it starts itself
	$(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./e2e/...

.PHONY: testbed-tools
testbed-tools: ## build (once, cached by version) etcd, kube-apiserver, kube-controller-manager and kwok
	@$(GO) run ./cmd/testbed build

.PHONY: demo
demo: testbed-tools ## the main job: validate the seed's HPA on a local testbed at 1/10 time, then stop it
	./scripts/demo.sh

.PHONY: testbed-up
testbed-up: testbed-tools ## start the local testbed; stdout is only its export lines: eval "$$(make -s testbed-up)"
	@$(GO) run ./cmd/testbed up --dir $(TESTBED_DIR)

.PHONY: testbed-down
testbed-down: ## stop everything the local testbed started
	@$(GO) run ./cmd/testbed down --dir $(TESTBED_DIR)

.PHONY: fmt
fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

.PHONY: lint
lint: ## go vet, and a gofmt check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

.PHONY: verify
verify: lint ## lint, and check that go.mod is tidy
	$(GO) mod tidy -diff

.PHONY: clean
clean: ## remove build output (keeps the cached control-plane binaries)
	rm -rf bin
