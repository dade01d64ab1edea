# Support Observatory — the Streamlit app. `docker compose up` runs it beside TimescaleDB, Redis and Qdrant.
FROM python:3.11.7-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md requirements.lock ./
RUN mkdir -p core observability seed \
    && pip install -c requirements.lock . \
    && pip uninstall -y support-observatory

COPY . .
RUN useradd --create-home --uid 10001 observatory \
    && mkdir -p /data && chown observatory /data

USER observatory
VOLUME ["/data"]
EXPOSE 8501
# The app's own /health: 200 once the API and its trace store are up (503 while it starts).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/health', timeout=4)"

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
