# SkillTrace: `make run` serves the demo (`HTTPS=1 make run`: over HTTPS on the LAN), `make test` runs the whole suite. Both set up what
# they need first (virtual environment, packages, translations, browser for the tests).
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
# face-recognition declares dlib, which would compile from source for many minutes (dlib-bin
# provides it); facesdk declares torch, which SkillTrace does not use. Both go in with --no-deps.
NO_DEPS := face-recognition==1.3.0 facesdk==0.0.8
PO := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test install install-test system-test-deps messages clean

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty
ifeq ($(HTTPS),1)
	$(FLASK) tls local-cert --port $(PORT)
	@echo "SkillTrace on https://<this host>:$(PORT)/ (the LAN too) with its scheduler (Ctrl-C stops both)"
	$(FLASK) scheduler run & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 0.0.0.0 --port $(PORT) --cert instance/tls/cert.pem --key instance/tls/key.pem
else
	@echo "SkillTrace on http://127.0.0.1:$(PORT)/ with its scheduler (Ctrl-C stops both)"
	$(FLASK) scheduler run & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)
endif

# The tests without a browser run in TEST_WORKERS processes (pytest-xdist, a test file per worker
# at a time: each worker has its own databases), then the browser tests one at a time (their
# paced face checks run in real time). Exit status 5 (PYTEST_ARGS selected nothing in that half)
# is not a failure.
TEST_WORKERS ?= 2
test: install-test system-test-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS) || [ $$? -eq 5 ]

install: $(VENV)/.installed $(MO)

install-test: install $(VENV)/.installed-test

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps $(NO_DEPS)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# Chromium and ffmpeg (fake webcam clips) come from Debian, and a Chinese TrueType font that the
# class evidence PDF embeds (fonts-wqy-microhei); installed when missing and root.
system-test-deps:
	@missing=""; for cmd in chromium ffmpeg; do command -v $$cmd >/dev/null || missing="$$missing $$cmd"; done; \
	test -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing from Debian"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
	  else echo "missing$$missing: browser tests will be skipped (install as root: apt-get install$$missing)"; fi; \
	fi

# Refresh the message catalogues after changing translatable text.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o /tmp/skilltrace.pot .
	$(BIN)/pybabel update -i /tmp/skilltrace.pot -d app/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
