# Two commands on a fresh machine:  make setup   then   make test
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup test lint sanity unit molecule images demo demo-clean new-household check-pins clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## Install everything the playbooks and tests need (idempotent, fast on re-run)
	@bash scripts/setup.sh

test:  ## Run every test: lint, sanity, pytest (unit + integration), all Molecule scenarios
	@bash scripts/test.sh all

lint:  ## yamllint + ansible-lint (production profile) + syntax check
	@bash scripts/test.sh lint

sanity:  ## ansible-test sanity on plugins/
	@bash scripts/test.sh sanity

unit:  ## pytest unit and integration tests
	@bash scripts/test.sh pytest

molecule:  ## every Molecule scenario (S=<name> for one)
	@bash scripts/test.sh molecule $(S)

images:  ## Build the local Debian 12/13 base images and the service images of tests/images (skips what is built)
	@bash scripts/build-service-images.sh

demo:  ## The whole media server in a throwaway Debian 13 container: site.yml, every layer, the example household
	@bash scripts/demo.sh up

demo-clean:  ## Remove the demo container, its volumes, its cached facts and the example household's generated secrets
	@bash scripts/demo.sh clean

new-household:  ## Create inventories/<name>/ with every secret generated (asks; or pass ARGS="-e household=...")
	@. .venv/bin/activate && ansible-playbook playbooks/new_household.yml $(ARGS)

check-pins:  ## Ask each registry whether every image pin exists, newest stable tag beside it (needs internet; ARGS="sonarr --json")
	@. .venv/bin/activate && python scripts/check-pins.py $(ARGS)

clean:  ## Remove the tool environment and caches (images stay)
	rm -rf .venv .cache tests/output
