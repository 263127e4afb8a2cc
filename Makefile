# hubid — see README.md. `make help` lists the targets.
GO       ?= go
PKGS     ?= ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOARCH   ?= $(shell $(GO) env GOARCH)
IMAGE_OUT ?= bin/hubid-image.tar
HELM_VERSION ?= v3.19.0
TOOLS    ?= $(HOME)/.cache/hubid-tools
HELM     ?= $(TOOLS)/helm-$(HELM_VERSION)

.PHONY: help run build build-openssl image helm lint-deploy test test-short test-cluster bench bench-seed bench-rate bench-scale lint fmt fuzz screenshots clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

run: ## start `hubid dev`: embedded storage, demo data, http://localhost:8080
	$(GO) run ./cmd/hubid dev

build: ## build bin/hubid
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/hubid ./cmd/hubid

# Go's own linker: libcrypto is dlopened, so nothing needs the system linker, and with it the
# executable's start-up pages stay unmapped after memtrim (idle RSS ≈ 30 MB instead of ≈ 51 MB).
build-openssl: ## build bin/hubid-openssl: RS256 signed by OpenSSL's libcrypto (needs cgo, gcc; runs where libcrypto 3 and glibc are, not in the static image)
	CGO_ENABLED=1 $(GO) build -tags openssl -trimpath -ldflags '$(LDFLAGS) -linkmode=internal' -o bin/hubid-openssl ./cmd/hubid

image: ## build the static non-root OCI image (no Docker needed) into $(IMAGE_OUT); load it with docker/podman load -i
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/hubid-linux-$(GOARCH) ./cmd/hubid
	$(GO) run ./cmd/hubid-image -binary bin/hubid-linux-$(GOARCH) -arch $(GOARCH) -version '$(VERSION)' -commit '$(COMMIT)' -out '$(IMAGE_OUT)'

helm: ## build helm $(HELM_VERSION) from its Go module once, into $(TOOLS) (slow the first time)
	@test -x '$(HELM)' || GOBIN=$(TOOLS)/bin $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@test -x '$(HELM)' || mv $(TOOLS)/bin/helm '$(HELM)'

lint-deploy: helm ## helm lint + helm template of deploy/helm/hubid and the compose/Helm tests
	'$(HELM)' lint deploy/helm/hubid
	'$(HELM)' template t deploy/helm/hubid >/dev/null
	HUBID_HELM='$(HELM)' $(GO) test -count=1 ./deploy/

OPENSSL_PKGS ?= ./idp/keys/... ./cmd/hubid/

test: ## go vet and the whole test suite with -race, then the -tags openssl tests (PostgreSQL/Redis/libcrypto tests run when reachable; required under CI=true)
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 12m $(PKGS)
	CGO_ENABLED=1 $(GO) vet -tags openssl $(OPENSSL_PKGS)
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 6m -tags openssl $(OPENSSL_PKGS)

test-cluster: ## replicas behind nginx, Redis Cluster and Sentinel, failover (needs nginx, redis-server, redis-sentinel; ports 18100-18299)
	$(GO) vet -tags cluster ./internal/clustertest/
	@mkdir -p bin
	@$(GO) test -tags cluster -count=1 -timeout 6m -v $(if $(CLUSTER_SKIP),-skip '$(CLUSTER_SKIP)') ./internal/clustertest/ > bin/test-cluster.log 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ]; then cat bin/test-cluster.log; else grep -E '^(--- |    [a-z]+_test\.go:|ok )' bin/test-cluster.log; fi; exit $$rc

test-short: ## the tests without -race
	$(GO) test -count=1 $(PKGS)

bench: ## go test -bench (hashing, stores, endpoints), then cmd/hubid-bench against hubid serve on PostgreSQL + Redis into docs/benchmarks.md
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	$(GO) run ./cmd/hubid-bench -o docs/benchmarks.md

RATE_STEP  ?= 25
RATE_START ?= $(RATE_STEP)
RATE_HOLD  ?= 2m
RATE_MODES ?= refresh,mix

bench-rate: ## open-loop search for the highest rate held with p99 < 200 ms and no error (refresh; sign-in/refresh/userinfo mix); RATE_HOLD=20s for a quick run
	$(GO) run ./cmd/hubid-bench -rate-step $(RATE_STEP) -rate-start $(RATE_START) -rate-hold $(RATE_HOLD) -rate-modes $(RATE_MODES) $(BENCH_FLAGS)

SEED_USERS    ?= 1000000
SEED_ORGS     ?= 1000
SEED_SESSIONS ?= $(SEED_USERS)
SEED_FAMILIES ?= $(SEED_USERS)
SEED_SCHEMA   ?= hubid_seeded
SEED_PREFIX   ?= hubidseeded:
SEED_REDIS_DB ?= 15
SEED_KEY      ?= hubid-bench-seed

bench-seed: ## seed a million users, sessions and refresh families (SEED_USERS, SEED_SCHEMA, SEED_REDIS_DB=15) for the scale runs (slow; by hand)
	$(GO) run ./cmd/hubid-bench seed -users $(SEED_USERS) -orgs $(SEED_ORGS) -sessions $(SEED_SESSIONS) \
	  -families $(SEED_FAMILIES) -schema $(SEED_SCHEMA) -prefix $(SEED_PREFIX) -redis-db $(SEED_REDIS_DB) -key '$(SEED_KEY)'

SCALE_ONLY  ?= sso refresh userinfo signin
SCALE_PAIRS ?= 3
SCALE_FLAGS ?= -c 4 -d 20s -no-es256 -touch-interval 0s
SCALE_OUT   ?= bin/scale

bench-scale: ## after bench-seed: the empty and the seeded store measured at the same time, pair after pair, so that both see the same machine (SCALE_ONLY, SCALE_PAIRS)
	@mkdir -p $(SCALE_OUT) && $(GO) build -o $(SCALE_OUT)/hubid ./cmd/hubid && $(GO) build -o $(SCALE_OUT)/hubid-bench ./cmd/hubid-bench
	@for s in $(SCALE_ONLY); do for i in $$(seq $(SCALE_PAIRS)); do \
	  $(SCALE_OUT)/hubid-bench -hubid $(SCALE_OUT)/hubid -only $$s $(SCALE_FLAGS) -port 18480 -redis-db 14 > $(SCALE_OUT)/empty.out 2>&1 & e=$$!; \
	  $(SCALE_OUT)/hubid-bench -hubid $(SCALE_OUT)/hubid -only $$s $(SCALE_FLAGS) -port 18490 -schema $(SEED_SCHEMA) -prefix $(SEED_PREFIX) \
	    -redis-db $(SEED_REDIS_DB) -key '$(SEED_KEY)' -users $(SEED_USERS) > $(SCALE_OUT)/seeded.out 2>&1 & d=$$!; \
	  wait $$e; re=$$?; wait $$d; rd=$$?; \
	  if [ $$re != 0 ] || [ $$rd != 0 ]; then tail -5 $(SCALE_OUT)/empty.out $(SCALE_OUT)/seeded.out; exit 1; fi; \
	  echo "$$s pair $$i crypto: $$(grep '^hubid-bench: RSA-2048' $(SCALE_OUT)/empty.out)"; \
	  echo "$$s pair $$i empty:  $$(grep '^hubid-bench: RS256' $(SCALE_OUT)/empty.out)"; \
	  echo "$$s pair $$i seeded: $$(grep '^hubid-bench: RS256' $(SCALE_OUT)/seeded.out)"; \
	done; done

lint: ## go vet, gofmt and staticcheck (installed on demand)
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run every fuzz target for 10 s
	@for p in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$p || exit 1; \
	  done; done

screenshots: ## regenerate docs/screenshots/ with headless Chromium, desktop and 360 px phone width (*-phone.png; needs chromium and fonts-noto-cjk)
	HUBID_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBrowser' ./idp/ ./idp/console/

clean: ## remove build output and the dev data directory
	rm -rf bin .hubid
