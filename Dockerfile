# workbench in a container, for the docker compose stack (the embedded servers stay unused:
# compose sets WORKBENCH_POSTGRES_DSN and WORKBENCH_REDIS_URL).
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workbench ./workbench
RUN pip install --no-cache-dir -e '.[dev]'
COPY . .
ENTRYPOINT ["workbench"]
CMD ["--help"]
