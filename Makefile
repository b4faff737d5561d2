# rendercache: `make run` starts a single-node cluster on 127.0.0.1:8080;
# `make test` installs what the tests need and runs every test.

GO        ?= go
BIN       := bin/rendercache
PKGS      := ./...
# Every package has concurrency (raft, gossip, HTTP), so all run with -race.
TESTFLAGS ?= -race -count=1 -timeout 25m
STATICCHECK_VERSION := v0.8.2
CHROMIUM  := $(shell command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null)

.PHONY: all build run test deps lint fuzz bench bench-hit clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/rendercache

# run needs Chromium too: deps installs it on a fresh Debian machine.
# ARGS passes flags to serve: make run ARGS=--allow-private-origins
run: deps build
	./$(BIN) serve --data-dir ./data $(ARGS)

# deps installs what the tests need on a fresh Debian machine: Chromium for
# the render tier (tests fail, never skip, without it).
deps:
ifeq ($(CHROMIUM),)
	@echo "installing chromium from Debian's packages"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null
endif
	$(GO) mod download

test: deps
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

lint:
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed:"; gofmt -l .; exit 1)
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# bench runs the Go benchmarks whose figures docs/BENCHMARKS.md records.
BENCHTIME ?= 1x
bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2000x ./storage/
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) -timeout 30m ./testcluster/
	$(GO) test -run='^$$' -bench=BenchmarkRender -benchtime=60x -timeout 30m ./render/
	$(GO) test -run='^$$' -bench=BenchmarkMemory -benchtime=1000x -timeout 30m ./render/

# bench-hit compares a cache hit with nginx and a bare net/http server on
# the same bytes (bench/hit.sh); it installs nginx-light and wrk if missing.
# It is a benchmark, not a test: timings never go in make test.
bench-hit:
	bash bench/hit.sh

# bench-render compares one node's renders with the npm prerender server on
# the same Chromium, SPA fixture and URLs at concurrency 1, 2 and 4, every
# request a miss (bench/render.sh); it installs prerender with npm into
# ~/.cache/rendercache-bench if missing. A benchmark, not a test.
.PHONY: bench-render
bench-render:
	bash bench/render.sh

clean:
	rm -rf bin data
