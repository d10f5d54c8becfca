# The one image behind every service in docker-compose.yml (web, celery_worker, celery_beat, flower).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN groupadd --system lms && useradd --system --gid lms --home-dir /app --no-create-home lms

COPY . .

# Static files are collected into the image (served by whitenoise). The key only satisfies the settings'
# production check for this one build step; it is never used at run time.
RUN SECRET_KEY=collectstatic-build-only-dummy-key python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R lms:lms /app/var

USER lms

EXPOSE 8000
CMD ["gunicorn", "lms.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--no-control-socket"]
