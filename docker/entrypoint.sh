#!/bin/sh
# Chi bộ container entrypoint.
#   web     apply migrations, then serve with gunicorn on :8000
#   worker  Celery worker
#   beat    Celery beat (schedules kept in the database by django-celery-beat)
#   anything else is run as given, e.g. `docker compose run --rm web python manage.py createsuperuser`
set -eu

case "${1:-web}" in
web)
    python manage.py migrate --noinput
    exec gunicorn config.wsgi -w 3 -b 0.0.0.0:8000 --access-logfile - --timeout 120
    ;;
worker)
    exec celery -A config worker -l info
    ;;
beat)
    exec celery -A config beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler
    ;;
*)
    exec "$@"
    ;;
esac
