# whyoffline — the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(DATE)
PREFIX  ?= /usr/local
DIST    := dist
PLATFORMS := linux/amd64 linux/arm64

# Debian packages the real-sshd lab needs (installed by `make lab-deps`).
LAB_PKGS := openssh-server iptables dnsmasq-base faketime sudo doas openssl iproute2 procps util-linux traceroute perl-base libpam-modules krb5-kdc krb5-admin-server krb5-user

# Debian packages the unit tests run the scripts and linters with.
PSPARSE := internal/playbook/testdata/psparse
UNIT_PKGS := shellcheck ksh mksh busybox systemd chromium ansible-core

.PHONY: all build demo test unit unit-deps lab lab-deps golden bench bench-deps lint clean install dist image fuzz

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/whyoffline ./cmd/whyoffline
	$(GO) build -trimpath -o $(BIN)/fleetsim ./cmd/fleetsim

# A real scan (real SSH, real parsing and diagnosis) of a small simulated
# fleet on loopback: no root, no network. Exit 1 just means "findings".
demo: build
	@$(BIN)/fleetsim -dir .demo -preset demo -- \
	  $(BIN)/whyoffline scan -i .demo/inventory.yaml --known-hosts .demo/known_hosts \
	  --ssh-config none --connect-timeout 3s --timeout 20s -o table; \
	  rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 1 ]

# The whole suite. As root it also runs the real-sshd lab (installing what it
# needs); in CI (CI=true) the lab is mandatory and a machine that cannot run
# it fails loudly instead of skipping.
test: unit lab

# How long make test fuzzes each parser (make fuzz: 10 minutes).
FUZZTIME ?= 3s

# No function outside tests and the lab above cyclomatic complexity 25.
GOCYCLO := github.com/fzipp/gocyclo/cmd/gocyclo@v0.6.0

unit: unit-deps
	$(GO) vet ./...
	$(GO) run $(GOCYCLO) -over 25 $$(git ls-files '*.go' 2>/dev/null | grep -v '_test\.go$$' | grep -v '^internal/lab/' || find . -name '*.go' ! -name '*_test.go' ! -path './internal/lab/*')
	$(GO) test -count=1 -race $$($(GO) list ./... | grep -v /internal/lab$$)
	@# every parser of untrusted text, fuzzed a few seconds (make fuzz: 10 minutes each)
	FUZZTIME=$(FUZZTIME) bash .ci/fuzz

# The shells (dash, bash, ksh93, mksh, busybox sh) and shellcheck that the
# rendered scripts are tested with. As root they are installed; otherwise
# the tests that need them skip — except in CI, where they fail.
unit-deps:
	@missing=""; for p in $(UNIT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing test packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || { echo "could not install:$$missing" >&2; exit 1; }; \
	  elif [ -n "$$CI" ]; then \
	    echo "make test: missing$$missing and cannot install them (not root): CI needs them" >&2; exit 1; \
	  else \
	    echo "make test: shell tests will skip; missing:$$missing (sudo make unit-deps)"; \
	  fi; \
	fi
	@# the tree-sitter PowerShell grammar (npm) the Windows script must parse with
	@if ! command -v npm >/dev/null; then \
	  if [ -n "$$CI" ]; then echo "make test: npm is missing: the PowerShell parse test needs Node.js and npm" >&2; exit 1; fi; \
	  echo "make test: npm missing; the PowerShell parse test will skip"; \
	elif [ ! -d $(PSPARSE)/node_modules/web-tree-sitter ]; then \
	  (cd $(PSPARSE) && npm ci --ignore-scripts --no-audit --no-fund >/dev/null) \
	    || { echo "could not install the PowerShell grammar (npm ci in $(PSPARSE))" >&2; exit 1; }; \
	fi

lab:
	@if [ "$$(id -u)" = 0 ]; then \
	  $(MAKE) --no-print-directory lab-deps && \
	  WHYOFFLINE_LAB=1 $(GO) test -count=1 -v -timeout 15m ./internal/lab/; \
	elif [ -n "$$CI" ]; then \
	  echo "make test: the real-sshd lab needs root and CI is set: run as root" >&2; exit 1; \
	else \
	  echo "make test: lab NOT run (needs root: sudo make test)"; \
	fi

lab-deps:
	@missing=""; for p in $(LAB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing lab packages:$$missing"; \
	  command -v apt-get >/dev/null || { echo "lab needs:$$missing (no apt-get here)" >&2; exit 1; }; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || { echo "could not install:$$missing" >&2; exit 1; }; \
	fi

# Regression vectors: run the lab (as root) keeping every host's raw
# output, import it into internal/golden/testdata and write what today's
# code yields; review the diff before committing it.
golden: lab-deps
	rm -rf .golden && mkdir -p .golden
	WHYOFFLINE_LAB=1 WHYOFFLINE_LAB_SAVE_RAW=$(CURDIR)/.golden $(GO) test -count=1 -timeout 15m ./internal/lab/
	$(GO) test -count=1 ./internal/golden/ -update -import $(CURDIR)/.golden

# Benchmarks: speed and memory targets are checked here, not in tests.
# Simulated fleets of 100/1,000/10,000 hosts (any user), then — as root —
# 100 real sshd hosts in network namespaces scanned by whyoffline, Ansible
# raw, parallel-ssh and a minimal Go client at equal parallelism.
BENCH_HOSTS ?= 100
BENCH_FORKS ?= 20
bench: build
	$(GO) build -trimpath -o $(BIN)/whyoffline-bench ./cmd/whyoffline-bench
	$(BIN)/whyoffline-bench sim -whyoffline $(BIN)/whyoffline -cpuprofile $(BIN)/sweep.cpu.prof | tee .bench.txt
	@echo "Parsing a host's output: the worst shapes a hostile host can send in 1 MiB against a normal host's (MB/s: per byte, the same)"
	$(GO) test ./internal/playbook/ -run '^$$' -bench BenchmarkParseWorstShapes -benchtime 20x | tee -a .bench.txt
	@echo "What a streaming sweep keeps of each host after writing it (the marginal cost is the difference between the two sizes), and what hiding secrets costs per result"
	$(GO) test ./internal/scan/ -run '^$$' -bench 'BenchmarkRetainedPerHost|BenchmarkScrubResult' -benchtime 1x | grep -v '^sweep' | tee -a .bench.txt
	@if [ "$$(id -u)" = 0 ]; then \
	  $(MAKE) --no-print-directory lab-deps bench-deps && \
	  $(BIN)/whyoffline-bench lab -whyoffline $(BIN)/whyoffline -hosts $(BENCH_HOSTS) -forks $(BENCH_FORKS) | tee -a .bench.txt && \
	  $(BIN)/whyoffline-bench lab -whyoffline $(BIN)/whyoffline -hosts 1 -rounds 0 -trace | tee -a .bench.txt; \
	else \
	  echo "make bench: the side-by-side with Ansible and parallel-ssh on real sshd hosts needs root (sudo make bench)"; \
	fi
	@echo "CPU profile of the largest simulated sweep: go tool pprof -top $(BIN)/whyoffline $(BIN)/sweep.cpu.prof"

# The tools the side-by-side compares against (Debian packages).
bench-deps:
	@missing=""; for p in ansible pssh strace; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing benchmark packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	    || { echo "could not install:$$missing" >&2; exit 1; }; \
	fi

# Install the binary (PREFIX=/usr/local; DESTDIR for packaging).
install: build
	install -D -m 0755 $(BIN)/whyoffline $(DESTDIR)$(PREFIX)/bin/whyoffline

# Versioned static archives for each platform, with SHA-256 sums:
# dist/whyoffline_VERSION_linux_amd64.tar.gz ... and dist/SHA256SUMS.
dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=whyoffline_$(VERSION)_$${os}_$${arch}; \
	  mkdir -p $(DIST)/$$name; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/$$name/whyoffline ./cmd/whyoffline; \
	  cp LICENSE README.md $(DIST)/$$name/; \
	  tar -C $(DIST) --owner=0 --group=0 --numeric-owner --mtime='$(DATE)' -czf $(DIST)/$$name.tar.gz $$name; \
	  rm -rf $(DIST)/$$name; \
	done
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS && cat SHA256SUMS

# The OCI image, built without a container engine: a static binary, CA
# certificates, user 65532 (dist/image, an OCI layout; push it with
# skopeo copy oci:dist/image docker://REGISTRY/whyoffline:VERSION).
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/whyoffline-linux-amd64 ./cmd/whyoffline
	rm -rf $(DIST)/image
	$(GO) run ./cmd/whyoffline-image -binary $(BIN)/whyoffline-linux-amd64 -arch amd64 -version $(VERSION) -created '$(DATE)' -out $(DIST)/image

# Every fuzz target for 10 minutes (FUZZ_LONG=… to change), with the
# executions each made; a crash keeps its input under testdata/fuzz.
FUZZ_LONG ?= 10m
fuzz:
	FUZZTIME=$(FUZZ_LONG) bash .ci/fuzz

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf $(BIN) $(DIST) .demo .fleetsim .bench.txt
