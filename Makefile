# whyoffline — the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Debian packages the real-sshd lab needs (installed by `make lab-deps`).
LAB_PKGS := openssh-server iptables dnsmasq-base faketime sudo openssl iproute2 procps util-linux traceroute perl-base libpam-modules

.PHONY: all build demo test unit lab lab-deps bench lint clean

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

unit:
	$(GO) vet ./...
	$(GO) test -count=1 -race $$($(GO) list ./... | grep -v /internal/lab$$)

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

# Benchmarks: speed and memory targets (issue 5) are checked here, not in tests.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./internal/scan/ | tee .bench.txt

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf $(BIN) .demo .fleetsim .bench.txt
