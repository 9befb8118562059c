# quorumd — top-level targets. `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
MVN ?= mvn -B -q
SEEDS ?= 10000
NODES ?=
SEED ?=
MUTANT ?=
MINUTES ?= 5
JAVA ?= java

AGENT_CP = agent/target/test-classes:agent/target/classes:agent/target/lib/*

.PHONY: help build test sim demo bench soak clean

help:
	@echo "make build   build the agent (launcher: agent/target/quorumd)"
	@echo "make demo    build and run a 3-node cluster on 127.0.0.1 showing election and fail-over"
	@echo "make test    build and run every test, including the multi-process and multi-host ones"
	@echo "make sim     seeded fault simulator: SEEDS=N [NODES=k] [SEED=s] [MUTANT=name]"
	@echo "make bench   benchmarks (QUICK=1 for a smoke run); prints the report's path"
	@echo "make soak    exclusive-command soak on loopback: MINUTES=n"

build:
	$(MVN) -DskipTests install

test:
	$(MVN) install

sim:
	$(MVN) -pl agent -DskipTests test-compile dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib
	$(JAVA) -cp "$(AGENT_CP)" io.quorumd.sim.SimMain --seeds $(SEEDS) \
	  $(if $(NODES),--nodes $(NODES)) $(if $(SEED),--seed $(SEED)) $(if $(MUTANT),--mutant $(MUTANT))

demo: build
	agent/target/quorumd demo $(DEMO_ARGS)

# Exclusive-command soak on loopback for MINUTES minutes (make test runs a bounded one: 50 faults).
soak: build
	$(MVN) -pl tests test -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dquorumd.soak.minutes=$(MINUTES)

clean:
	$(MVN) clean
