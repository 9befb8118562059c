# quorumd — top-level targets. `make demo` and `make test` are the README's two commands.
SHELL := /bin/bash
MVN ?= mvn -B -q
SEEDS ?= 10000
NODES ?=
SEED ?=
FIRST_SEED ?=
MUTANT ?=
MINUTES ?= 5
JAVA ?= java

AGENT_CP = agent/target/test-classes:agent/target/classes:agent/target/lib/*

.PHONY: help build test sim mutation demo bench soak clean deb rpm packages package-check engine image test-multihost

help:
	@echo "make build   build the agent (launcher: agent/target/quorumd)"
	@echo "make demo    build and run a 3-node cluster on 127.0.0.1 showing election and fail-over"
	@echo "make test    build and run every test, including the multi-process and multi-host ones"
	@echo "make sim     seeded fault simulator: SEEDS=N [FIRST_SEED=f] [NODES=k] [SEED=s] [MUTANT=name]"
	@echo "make mutation  PIT mutation testing of core, wire, storage, config and command; scores last"
	@echo "make bench   benchmarks (QUICK=1 for a smoke run); prints the report's path"
	@echo "make soak    exclusive-command soak on loopback: MINUTES=n"
	@echo "make deb / make rpm / make package-check   packages and their checks (lintian, rpm -qp, systemd-analyze)"
	@echo "make test-multihost   only the container tests (needs root and a Docker engine: see .ci/run)"

build:
	$(MVN) -DskipTests install

# Every test: unit, simulator (10,000 schedules), loopback processes and soak, packages, and
# the multi-host container tests (skipped with a message without a Docker engine, failed under CI=true).
test:
	$(MVN) install
	packaging/check.sh
	@.ci/test-summary

sim:
	$(MVN) -pl agent -DskipTests test-compile dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib
	$(JAVA) -cp "$(AGENT_CP)" io.quorumd.sim.SimMain --seeds $(SEEDS) $(if $(FIRST_SEED),--first-seed $(FIRST_SEED)) \
	  $(if $(NODES),--nodes $(NODES)) $(if $(SEED),--seed $(SEED)) $(if $(MUTANT),--mutant $(MUTANT))

# PIT (pitest-maven, -Pmutation in agent/pom.xml) over io.quorumd.core, wire, storage, config and
# command with their unit tests and the simulator (PIT_SIM_SEEDS schedules per run). HTML and XML
# under agent/target/pit-reports; the score per package is printed last (.ci/pit-scores). Never
# part of make test. The command tests wait at most PIT_PATIENCE ms for what should happen
# (quorumd.test.patience; 10 s in make test), so a mutant that loses an event or a stop fails in
# seconds; AgentDeathTest is left out (its supervisor runs in another JVM that no mutant reaches).
# PIT_CLASSES / PIT_TESTS change the scope, e.g. one package alone:
#   make mutation PIT_CLASSES='io.quorumd.command.*' PIT_TESTS='io.quorumd.command.*Test'
# (README "How it is tested" has the times and scores measured here).
PIT_THREADS ?= 2
PIT_SIM_SEEDS ?= 100
PIT_CLASSES ?=
PIT_TESTS ?=
PIT_PATIENCE ?= 4000
mutation:
	$(MVN) -pl agent -Pmutation test-compile org.pitest:pitest-maven:mutationCoverage \
	  -Dpit.threads=$(PIT_THREADS) -Dpit.sim.seeds=$(PIT_SIM_SEEDS) -Dpit.test.patience=$(PIT_PATIENCE) \
	  $(if $(PIT_CLASSES),-Dpit.targetClasses='$(PIT_CLASSES)') $(if $(PIT_TESTS),-Dpit.targetTests='$(PIT_TESTS)')
	@echo "report: agent/target/pit-reports/index.html"
	@.ci/pit-scores agent/target/pit-reports/mutations.xml

demo: build
	agent/target/quorumd demo $(DEMO_ARGS)

# Exclusive-command soak on loopback for MINUTES minutes (make test runs a bounded one: 50 faults).
soak: build
	$(MVN) -pl tests test -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false -Dquorumd.soak.minutes=$(MINUTES)

# Fail-over and overhead of real agents, scale in the simulator; writes bench-results/<date>/
# {report.md,samples.json,*.png} and prints the report's path last. QUICK=1: about 5 minutes.
# The cut-off scenario needs root (network namespaces on 198.18.0.0/15). Never run by make test.
BENCH_OUT ?= bench-results
BENCH_ARGS ?=
BENCH_SCALE_SIZES := 3,4,5,6,7,8,9

# tests/bench/setup.sh installs what the bench compares against (keepalived, Debian's package; as
# root, the package's own service never started); without it the keepalived set is skipped.
# The build is one reactor `package` (the tests' class path points into agent/target), so the
# bench never installs into ~/.m2.
bench:
	tests/bench/setup.sh
	$(MVN) -DskipTests -pl agent,tests package dependency:build-classpath \
	  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
	$(JAVA) -cp "$(AGENT_CP)" io.quorumd.sim.ScaleBench tests/target/bench-scale.json $(if $(QUICK),200,1000) $(BENCH_SCALE_SIZES)
	$(JAVA) -Djava.awt.headless=true -Dquorumd.launcher=agent/target/quorumd \
	  -Dquorumd.scripts=agent/target/scripts \
	  -cp "tests/target/test-classes:$$(cat tests/target/bench.classpath)" io.quorumd.bench.BenchMain \
	  $(if $(QUICK),--quick) --out $(BENCH_OUT) --scale tests/target/bench-scale.json $(BENCH_ARGS)

clean:
	$(MVN) clean

# ---- packages, their checks and the multi-host tests ----
# One Maven module makes both packages: packaging/target/quorumd_<version>_all.deb and
# packaging/target/quorumd-<version>-<release>.noarch.rpm (`make build` makes them too).
deb: build
	$(MVN) -pl packaging package -Drpm.skip=true

rpm: build
	$(MVN) -pl packaging package -Djdeb.skip=true

packages: build

# dpkg-deb, lintian, systemd-analyze verify, rpm -qpl/--scripts/-qpR/-K, a scratch-root rpm install.
package-check: packages
	packaging/check.sh

# A Docker engine on 198.18.0.0/15 only, with the DOCKER-USER guard; the Debian 12 + systemd image.
engine:
	tests/docker/engine-and-image.sh engine

image: engine
	tests/docker/engine-and-image.sh image

test-multihost: packages image
	$(MVN) -pl tests test -Dgroups=multihost
