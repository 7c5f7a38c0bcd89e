# Traffic Manager: the README's two commands are `make run` and `make test`.
SHELL := /bin/bash

.PHONY: run test build stack-up stack-down stack-status bench bench-api loadtest soak fleet clean

run:            ## the whole stack, control API and sidecar, with a demo; Ctrl-C stops it all
	bash dev/run.sh

test:           ## every test; starts the local stack it needs and stops what it started
	bash dev/test.sh

build:          ## compile and package every module, no tests
	mvn -B -q -DskipTests install

stack-up:       ## local PostgreSQL, Redis and Kafka, data under .tm/
	bash dev/stack.sh up

stack-down:
	bash dev/stack.sh down

stack-status:
	bash dev/stack.sh status

bench:          ## JMH suite; JSON results in benchmarks/results/
	bash dev/bench.sh

bench-api:      ## sustained upserts/s and latency of the control API (wrk)
	bash loadtest/api-upserts.sh

loadtest:       ## the sidecar against nginx, HAProxy and direct; report and charts in loadtest/results/
	bash loadtest/compare.sh

soak:           ## 10 minutes of load, route changes and a fault a minute; report in loadtest/results/soak/
	bash loadtest/soak.sh

fleet:          ## a node agent and 50 node-mode sidecars beside standalone ones: memory, connections, propagation; report in loadtest/results/fleet/
	bash loadtest/fleet.sh

clean:
	mvn -B -q clean
