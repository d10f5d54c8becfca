"""Reading the environment into Django settings: URL variables (each mistake one line naming the variable)
and the logging configuration."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured


def env_url(env: environ.Env, name: str, default: str, parse) -> dict | str:
    """Parse a URL variable, turning a malformed value into one line that names the variable."""
    raw = env.str(name, default=default)
    try:
        return parse(raw)
    except Exception as exc:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(
            f"{name} is malformed ({exc}). Expected e.g. postgres://user:pass@host:5432/dbname or "
            f"sqlite:///path/db.sqlite3; fix or unset {name} in the environment or .env."
        ) from None


def database_config(env: environ.Env, var_dir: Path, *, prepared_statements: bool) -> dict:
    """DATABASE_URL as the default database; unset, the embedded default: a SQLite file under var_dir."""
    config = env_url(env, "DATABASE_URL", f"sqlite:///{var_dir / 'db.sqlite3'}", env.db_url_config)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web and worker processes share the file: WAL lets readers run beside a writer, IMMEDIATE takes the
        # write lock at BEGIN (so no deadlock upgrades), and the timeout waits instead of "database is locked".
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
        config["TEST"] = {"NAME": str(var_dir / "test.sqlite3")}
        return config
    config.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    if prepared_statements:
        # psycopg prepares nothing while this is None (Django's default); only jobs.db.prepared_cursor's
        # statements are prepared, since Django's own cursors bind on the client and never prepare.
        config["OPTIONS"].setdefault("prepare_threshold", 5)
    return config


def cache_config(env: environ.Env, name: str, default: str, **extra) -> dict:
    """A cache URL variable as a CACHES entry. Redis gets core.cache.FailOpenRedisCache with half-second
    socket timeouts (unless the URL sets them): the caches hold rate-limit counters only, so an outage of
    Redis lets requests through (fail open) instead of failing every throttled request with a 500."""
    url = env.str(name, default=default)
    config = env_url(env, name, default, env.cache_url_config)
    if url.split(":", 1)[0] in ("redis", "rediss", "rediscache"):
        config["BACKEND"] = "core.cache.FailOpenRedisCache"
        config.setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 0.5)
        config["OPTIONS"].setdefault("socket_timeout", 0.5)
    return {**config, **extra}


def logging_config(*, level: str) -> dict:
    """Plain lines on stderr at `level` (LOG_LEVEL); SQL statements never, whatever the level."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
