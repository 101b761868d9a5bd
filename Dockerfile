# Chi bộ production image: gunicorn (web), Celery worker and Celery beat all run from it.
# Built by docker-compose.yml; see README.md "Production".
#
# bookworm (Debian 12) is pinned so that the apt package names below are the ones checked on the
# project's Debian 12 machines.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries (minutes and resolution PDFs) and Liberation Serif 2.x, a Times-like font
# with full Vietnamese (the old fonts-liberation 1.x has no ơ/ư).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home chibo

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (WhiteNoise serves them, compressed and hashed).
# The key and hosts here exist only for this build step; the running container gets its own.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-real-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    CHIBO_VAR_DIR=/tmp/chibo-build \
    python manage.py collectstatic --noinput \
    && rm -rf /tmp/chibo-build \
    && mkdir -p /data/media /data/var \
    && chown -R chibo:chibo /data

ENV CHIBO_VAR_DIR=/data/var \
    CHIBO_MEDIA_ROOT=/data/media

USER chibo
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
