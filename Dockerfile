# workbench in a container, for the docker compose stack (docker-compose.yml): the source API,
# JupyterLab, queue workers and one-off commands all run this image. The embedded servers stay
# unused there: compose sets WORKBENCH_POSTGRES_DSN and WORKBENCH_REDIS_URL.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 workbench && chown workbench /app

# Dependencies first, from the lock (a layer that survives code changes), then the code.
COPY --chown=workbench requirements-lock.txt pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes -r requirements-lock.txt
COPY --chown=workbench workbench ./workbench
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .
COPY --chown=workbench . .

USER 10001
EXPOSE 8000 8888
ENTRYPOINT ["workbench"]
CMD ["--help"]
