# PolicyPass: `make run` (set up, then serve on http://127.0.0.1:5000) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
STAMPS := .setup-stamps
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages: chromium for browser tests, fonts for certificates, pango for WeasyPrint.
APT_PACKAGES := chromium fonts-dejavu-core fonts-liberation2 libpango-1.0-0 libpangoft2-1.0-0 python3-venv
export FLASK_APP := app:create_app

.PHONY: setup run test assurance db assets lint clean-stamps

setup: $(STAMPS)/apt $(STAMPS)/venv $(STAMPS)/npm assets db

$(STAMPS)/apt:
	@mkdir -p $(STAMPS)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@touch $@

$(STAMPS)/venv: requirements.lock
	@mkdir -p $(STAMPS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $@

$(STAMPS)/npm: package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: $(STAMPS)/npm
	@npm run --silent build

# The demo seed (demo/: cast, history, E-ACT's invented earlier version) loads content itself, with that earlier
# version first, so it runs before `content sync` (which then changes nothing). Production config has no demo.
db: $(STAMPS)/venv
	@$(FLASK) db upgrade
	@if [ "$${POLICYPASS_ENV:-development}" = production ]; then \
	  echo "POLICYPASS_ENV=production: no demo data (flask demo seed skipped); loading the real policies only."; \
	else $(FLASK) demo seed; fi
	@$(FLASK) content sync
	@$(FLASK) tracking assign

run: setup
	@echo "PolicyPass on http://$(HOST):$(PORT) (web server and queue worker; Ctrl+C stops both)"
	@HOST=$(HOST) PORT=$(PORT) VENV=$(VENV) scripts/serve.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# The assurance battery at CI size (pytest -m assurance; `make test` deselects it). The full size writes the doc:
# $(PY) scripts/assurance.py  (see docs/assurance.md)
assurance: setup
	$(PY) -m pytest -q -m assurance tests/assurance

lint: $(STAMPS)/venv
	$(VENV)/bin/ruff check .

clean-stamps:
	rm -rf $(STAMPS)
