# The two commands of the README: `make run` and `make test`. Everything a fresh
# machine needs is installed from here (Python packages from requirements.txt, Debian's
# chromium for the browser tests and Debian's ffmpeg, which encodes the simulated
# cameras' RTSP streams).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export YOLO_OFFLINE := 1
export YOLO_CONFIG_DIR := $(CURDIR)/data/runtime/ultralytics
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup migrate run test lint browser media bench clean systemd-tools caddy gshhg

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@# ultralytics depends on opencv-python (needs a display stack); the headless
	@# build must own the cv2 package, so it is reinstalled last.
	$(BIN)/python -m pip uninstall --quiet -y opencv-python || true
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps \
		$$(grep '^opencv-python-headless==' requirements.txt)
	touch $(STAMP)

migrate: setup
	$(BIN)/python -m workers migrate

# Starts embedded Redis (unless REDIS_URL is set), the workers, the simulated city
# and Streamlit on :8501, all under one supervisor; Ctrl-C stops everything.
run: migrate media
	$(BIN)/python -m workers run --ui

browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Debian's ffmpeg (libx264) publishes the simulated RTSP cameras. Without it those
# cameras show "no signal" and the rest of the city runs; the RTSP tests need it.
media:
	@command -v ffmpeg >/dev/null 2>&1 || { \
		echo "installing Debian's ffmpeg for the simulated RTSP cameras"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends ffmpeg; } || \
		echo "warning: could not install ffmpeg; the simulated RTSP cameras will have no signal"; }

# Debian's systemd-analyze checks the units of deploy/systemd (tests/test_deploy.py).
systemd-tools:
	@command -v systemd-analyze >/dev/null 2>&1 || { \
		echo "installing Debian's systemd for systemd-analyze verify"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends systemd; }

# Debian's caddy: the production reverse proxy (deploy/caddy/Caddyfile) and the browser
# test through it (tests/test_caddy.py).
caddy:
	@command -v caddy >/dev/null 2>&1 || { \
		echo "installing Debian's caddy for the reverse-proxy tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends caddy; }

# Only to re-derive data/coastline/ambon.geojson (committed; nothing needs it at run time).
gshhg:
	@command -v gmt >/dev/null 2>&1 && test -d /usr/share/gmt-gshhg || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends gmt gmt-gshhg-full; }
	$(BIN)/python deploy/make_coastline.py

lint: setup
	$(BIN)/python -m ruff check .

test: setup browser media systemd-tools caddy lint
	$(BIN)/python -m pytest tests

bench: setup
	$(BIN)/python bench/bench_overview.py

clean:
	rm -rf $(VENV) data/redis data/runtime data/*.db
