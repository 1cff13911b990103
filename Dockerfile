FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
ENV DATABASE_URL=sqlite:////data/seqgql.db
EXPOSE 8000
CMD ["seqgql", "serve", "--host", "0.0.0.0", "--port", "8000"]
