"""The one settings module, configured from the environment (see .env.example and README).

Development defaults are safe and need no secrets. With DEBUG off (the default) the process refuses to
start without SECRET_KEY, and `manage.py check --deploy` is clean under a production-like environment.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from lms import openapi
from lms.env import cache_config, database_config, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set the environment.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Where the embedded defaults live (SQLite file, static files, media, make run's Redis and beat files);
# a relative path is taken from the checkout.
VAR_DIR = BASE_DIR / env.str("LMS_VAR_DIR", default="var")


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment (or DEBUG=true for local development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105 - DEBUG only

# `make run` sets SITE_URL to the address it serves (HOST, PORT) unless it is set; links in emails and
# certificates are built from it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_SITE_HOST = urlsplit(SITE_URL).hostname or "127.0.0.1"
_DEBUG_HOSTS = list(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", _SITE_HOST]))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=_DEBUG_HOSTS if DEBUG else [])
SITE_NAME = env.str("SITE_NAME", default="LMS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    # Before django.contrib.admin: their templates override the admin's (core: admin/base_site.html and
    # admin/index.html; accounts: the registration/ pages, which the admin app also ships).
    "core",
    "accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",  # its templates: the filter form of the browsable API
    "drf_standardized_errors",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "django_celery_beat",
    "anymail",
    "django_ratelimit",
    "csp",
    "jobs",
    "courses",
    "enrollments",
    "certificates",
    "imports",
    "reports",
    "notifications",
    "devrun",
    # Only its migrations: the history of the tables jobs and core took over from it (docs/architecture.md).
    "lms",
]

MIDDLEWARE = [
    "jobs.metrics.RequestMetricsMiddleware",  # first: counts every answer, 429s and 500s included
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "jobs.context.TriggerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # a blocked request answers 429, not 403
    "core.idempotency.IdempotencyMiddleware",  # Idempotency-Key on authenticated POSTs under /api/
]

ROOT_URLCONF = "lms.urls"
WSGI_APPLICATION = "lms.wsgi.application"
ASGI_APPLICATION = "lms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# Unset DATABASE_URL means the embedded default: a SQLite file under var/ (LMS_VAR_DIR).
# The worker's hottest statements are prepared once per connection (jobs/db.py). Off only behind a
# transaction-pooling PgBouncer older than 1.21, which cannot keep a prepared statement between transactions.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DATABASES = {"default": database_config(env, VAR_DIR, prepared_statements=DATABASE_PREPARED_STATEMENTS)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
# The limit backend comes first: it refuses every attempt while the account or the address is locked out
# (accounts/limits.py, docs/security.md); ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    # Media goes through Django storage so S3-compatible storage is a settings change (STORAGE_BACKEND).
    "default": {"BACKEND": env.str("STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production values unless DEBUG) ----------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]  # load balancers probe over plain HTTP
X_FRAME_OPTIONS = "DENY"
# Refused CSRF checks answer JSON under /api/ and Django's page elsewhere.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# How many reverse proxies (load balancers) in front of the app append to X-Forwarded-For. 0: the client
# is REMOTE_ADDR and the header is ignored, since a client can write any value into it. core.http.client_ip
# (page rate limits, login limits) and DRF's throttles (REST_FRAMEWORK["NUM_PROXIES"]) both follow it.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Content-Security-Policy on every response (django-csp). Scripts only from our own origin (no inline
# script anywhere: page scripts are static files, Swagger UI loads its init script from its own URL).
# Inline styles stay allowed: progress bars set their width in a style attribute, and Swagger UI and
# Redoc inject <style> elements; CSS cannot run script, so this costs little of the policy's value.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Email ----------------------------------------------------------------------------------------
# EMAIL_BACKEND picks the provider: anymail's backends in production (e.g.
# anymail.backends.postmark.EmailBackend with ANYMAIL_POSTMARK_SERVER_TOKEN), the console in development.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend" if DEBUG else "anymail.backends.test.EmailBackend",
)
# Retries of a send after transient provider errors (backoff 2 s doubling, capped at a minute).
EMAIL_SEND_MAX_RETRIES = env.int("EMAIL_SEND_MAX_RETRIES", default=6)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LMS <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Every ANYMAIL_* variable is passed through, so any provider is configured by environment alone.
ANYMAIL = {key[len("ANYMAIL_") :]: value for key, value in env.ENVIRON.items() if key.startswith("ANYMAIL_")}

# --- REST framework -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    # JSON in, JSON out: writes take JSON only (a form body would switch booleans off by omission); the one
    # upload (imports) declares its multipart parser itself. JSON nested deeper than
    # core.api.JSON_MAX_DEPTH is a 400, never a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["core.api.JSONParser"],
    # ...and answers JSON only (no browsable HTML API: /api/docs/ is the API's page for people).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
        "verify": env.str("THROTTLE_VERIFY", default="30/min"),
    },
    # Throttles count per user, or per client address as core.http.client_ip finds it (see NUM_PROXIES).
    "NUM_PROXIES": NUM_PROXIES,
    # One error shape everywhere (core/errors.py, docs/api.md "Errors"), documented on every operation.
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
}
# The error shape and the OpenAPI document (drf-standardized-errors, drf-spectacular): lms/openapi.py.
DRF_STANDARDIZED_ERRORS = openapi.DRF_STANDARDIZED_ERRORS
SPECTACULAR_SETTINGS = openapi.SPECTACULAR_SETTINGS

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# django-celery-results' TaskResult rows (the admin's task results), written one statement per state.
CELERY_RESULT_BACKEND = "jobs.results.ResultBackend"
CELERY_RESULT_EXTENDED = True  # the admin shows name, args, kwargs, worker and queue of each result
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# Reliability: a task is acknowledged only after it ran, and re-queued if its worker dies mid-run.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers keep their database connections across tasks (Celery's Django fixup otherwise reconnects for
# every task: 17% of worker time in the benchmark); unusable connections are still closed between tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Task events exist for Flower, which switches them on in every worker it sees (its enable_events option,
# on by default) and keeps them on while it runs: they cost only while someone is watching. Always on,
# they took 39% of a busy worker's main process (docs/performance.md, P3).
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)
# No "task-sent" event: it was a second broker publish in every request that queues work, and the Job row
# already records each queued task (the admin shows it before any worker has seen it).
CELERY_TASK_SEND_SENT_EVENT = False
# Every task gets a time limit; tasks that know their budget set tighter ones.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# The longest hard limit any task declares, plus the longest countdown any task uses (retry backoff).
CELERY_LONGEST_TASK_SECONDS = 180
CELERY_LONGEST_COUNTDOWN_SECONDS = 60
# How long a message held by a dead worker waits before Redis hands it out again. Kept short (a little
# above the longest hard limit plus countdown); anything due later lives in the database and a beat
# sweeper enqueues it. Set once here and reused everywhere Celery reads it.
CELERY_VISIBILITY_TIMEOUT = env.int(
    "CELERY_VISIBILITY_TIMEOUT", default=CELERY_LONGEST_TASK_SECONDS + CELERY_LONGEST_COUNTDOWN_SECONDS + 60
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker looks for messages whose visibility timed out (kombu's default sweep is every
    # 10 s x 10 calls = 100 s, which would add over a minute to every redelivery).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish that cannot reach the broker gives up within about a second instead of hanging a request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.5}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES_NAMES = ["default", "pdf", "email", "email_bulk", "webhooks", "imports", "reports"]
# Each task names its queue where it is declared (`queue=` in its decorator; default: "default"), so slow
# CPU work and I/O to third parties never sit ahead of a progress update.
# DatabaseScheduler, logging once that it ticks (jobs/beat.py).
CELERY_BEAT_SCHEDULER = "jobs.beat:DatabaseScheduler"
# Retention (the nightly prune): successful results go after a week, failures are kept longer.
RESULTS_KEEP_SUCCESS_DAYS = env.int("RESULTS_KEEP_SUCCESS_DAYS", default=7)
RESULTS_KEEP_FAILURE_DAYS = env.int("RESULTS_KEEP_FAILURE_DAYS", default=30)
# The reconciliation sweep (every minute) publishes again a job that has no result this long after it was
# published (or after its countdown) and is in no queue and no worker's unacked set on the broker: its
# message was lost (a worker killed between taking it from Redis and recording it as unacked). After
# JOBS_RECONCILE_MAX_TIMES tries it is left alone and shown as lost on the operations page.
JOBS_RECONCILE_AFTER_SECONDS = env.int("JOBS_RECONCILE_AFTER_SECONDS", default=120)
JOBS_RECONCILE_MAX_TIMES = env.int("JOBS_RECONCILE_MAX_TIMES", default=3)
# Health (docs/operations.md): heartbeats, the single-beat lease, the checks' thresholds, alerts.
# Every worker, beat and relay writes its heartbeat this often; one unseen for HEALTH_HEARTBEAT_WARNING /
# _ERROR seconds is late / gone. A beat holds a lease of BEAT_LEASE_SECONDS, renewed every third of it; a
# standby beat takes over at most that long after the active one died.
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=10)
BEAT_LEASE_SECONDS = env.int("BEAT_LEASE_SECONDS", default=30)
HEALTH_HEARTBEAT_WARNING_SECONDS = env.int("HEALTH_HEARTBEAT_WARNING_SECONDS", default=25)
HEALTH_HEARTBEAT_ERROR_SECONDS = env.int("HEALTH_HEARTBEAT_ERROR_SECONDS", default=45)
# Moodle's defaults for its ad hoc task queue: warn when the oldest waiting task is 10 minutes old, fail at 4 h.
HEALTH_QUEUE_AGE_WARNING_SECONDS = env.int("HEALTH_QUEUE_AGE_WARNING_SECONDS", default=600)
HEALTH_QUEUE_AGE_ERROR_SECONDS = env.int("HEALTH_QUEUE_AGE_ERROR_SECONDS", default=4 * 3600)
HEALTH_OUTBOX_AGE_WARNING_SECONDS = env.int("HEALTH_OUTBOX_AGE_WARNING_SECONDS", default=300)
HEALTH_OUTBOX_AGE_ERROR_SECONDS = env.int("HEALTH_OUTBOX_AGE_ERROR_SECONDS", default=3600)
HEALTH_FAILED_JOBS_WARNING = env.int("HEALTH_FAILED_JOBS_WARNING", default=1)
HEALTH_FAILED_JOBS_ERROR = env.int("HEALTH_FAILED_JOBS_ERROR", default=25)
# A bearer token that opens /healthz/detail to an orchestrator or monitor; empty: staff sessions only.
HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
# Our prune replaces Celery's own cleanup, which would delete failures as early as successes.
CELERY_RESULT_EXPIRES = None

# --- Cache (throttling, rate limits) --------------------------------------------------------------

CACHES = {
    "default": cache_config(env, "CACHE_URL", "locmemcache://"),
    # Rate limits must be shared by every web process: Redis (the broker's server unless set).
    "ratelimit": cache_config(env, "RATELIMIT_CACHE_URL", CELERY_BROKER_URL, KEY_PREFIX="lms-ratelimit"),
}
RATELIMIT_USE_CACHE = "ratelimit"
# key="ip" in every page rate limit means the address core.http.client_ip trusts, never a client header.
RATELIMIT_IP_META_KEY = "core.http.client_ip"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "core.views.rate_limited"
# django-ratelimit 4.1 predates Django's built-in Redis backend and warns about it, but its increments
# are Redis INCR, atomic as the library needs.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
CERTIFICATE_VERIFY_RATE = env.str("CERTIFICATE_VERIFY_RATE", default="30/m")
# Guessing limits (accounts/limits.py, docs/security.md), as django-ratelimit rates "count/period"
# with s, m, h or d periods (e.g. 5/15m). Failed logins (page, admin, API token) per account and per
# address; accounts created per address; password reset requests per email address and per address.
LOGIN_LIMIT_PER_ACCOUNT = env.str("LOGIN_LIMIT_PER_ACCOUNT", default="5/15m")
LOGIN_LIMIT_PER_ADDRESS = env.str("LOGIN_LIMIT_PER_ADDRESS", default="20/15m")
SIGNUP_LIMIT_PER_ADDRESS = env.str("SIGNUP_LIMIT_PER_ADDRESS", default="5/h")
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env.str("PASSWORD_RESET_LIMIT_PER_ACCOUNT", default="3/h")
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.str("PASSWORD_RESET_LIMIT_PER_ADDRESS", default="10/h")

# --- Bulk enrollment imports, reports (kept REPORTS_KEEP_DAYS days after they are generated) --------
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=2000)
IMPORT_TASK_BUDGET_SECONDS = env.int("IMPORT_TASK_BUDGET_SECONDS", default=20)
IMPORT_NOTIFY_BATCH_ROWS = env.int("IMPORT_NOTIFY_BATCH_ROWS", default=1000)
REPORTS_KEEP_DAYS = env.int("REPORTS_KEEP_DAYS", default=7)

# --- Webhooks -------------------------------------------------------------------------------------
# Loopback targets are refused like private ones, except where this is on (tests, local development).
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=False)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_RESPONSE_CAP_BYTES = env.int("WEBHOOK_RESPONSE_CAP_BYTES", default=4096)
# The delivery task's soft time limit; connect + read timeouts must fit well inside it.
WEBHOOK_TASK_SOFT_TIME_LIMIT = env.int("WEBHOOK_TASK_SOFT_TIME_LIMIT", default=30)
WEBHOOK_MAX_CONSECUTIVE_FAILURES = env.int("WEBHOOK_MAX_CONSECUTIVE_FAILURES", default=20)
# After a secret rotation, deliveries are signed with the old secret too for this long (docs/webhooks.md).
WEBHOOK_SECRET_ROTATION_GRACE_HOURS = env.float("WEBHOOK_SECRET_ROTATION_GRACE_HOURS", default=24.0)

# --- Flower, Sentry -------------------------------------------------------------------------------
FLOWER_BASIC_AUTH = env.str("FLOWER_BASIC_AUTH", default="")  # "user:password"; required unless DEBUG
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from lms.sentry import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)

# --- Metrics (docs/metrics.md) -------------------------------------------------------------------
# /metrics answers a scraper sending `Authorization: Bearer <METRICS_TOKEN>` or calling from an address in
# METRICS_ALLOWED_IPS (addresses or networks, the direct peer's REMOTE_ADDR); with neither it is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# A worker serves its pool processes' counters on this port (0: off). PROMETHEUS_MULTIPROC_DIR, read by
# prometheus-client itself, must be set for a service with several processes (gunicorn, prefork pool).
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_ADDRESS = env.str("METRICS_WORKER_ADDRESS", default="0.0.0.0")  # noqa: S104 - in a container

# --- Logging --------------------------------------------------------------------------------------
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
