# TTS as a container image: the web server by default; the worker with `flask --app wsgi worker`.
# Built by the council's own pipeline (docs/deploy.md, "In containers"): docker build -t tts .
# Linted by hadolint in the test suite (tests/deployment/test_container.py).

# 1. GOV.UK Frontend, htmx and the letters' font, from npm's lock file.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. The Python packages, exactly as locked (pip-tools, with hashes), and the page assets.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.txt
COPY . .
COPY --from=assets /src/node_modules ./node_modules
RUN /venv/bin/python scripts/build_assets.py \
    && rm -rf node_modules \
    && /venv/bin/pip install --no-deps -e .

# 3. What runs: no compilers, no npm, a user without privileges.
FROM python:3.11-slim-bookworm
# postgresql-client: `flask backup dump` and `restore-drill` run pg_dump and pg_restore. Pango: the letters' PDFs
# (WeasyPrint lays out their text with it; their font comes with the app's assets).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 tts \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin tts
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TTS_CONFIG=production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/tts-metrics
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "wsgi:app"]
