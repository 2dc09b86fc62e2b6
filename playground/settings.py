"""Django settings for Playground, every value read from the environment with a safe default.

The README lists every variable. Defaults give a single-process set-up with SQLite and the
in-memory channel layer; DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

# numpy's BLAS would start a thread per core for each request's small matrices, which then
# fight every other request for the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from playground.env import env_bool, env_float, env_int, env_list, env_secret, env_str, local_secret

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("PLAYGROUND_DATA_DIR", str(BASE_DIR / "data")))

SECRET_KEY = env_secret("SECRET_KEY") or local_secret(DATA_DIR, "secret_key")
# Earlier keys, still accepted while signed things (sessions, the Demo provider's key) move on.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "channels",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "playground",  # project-level wiring: the bootstrap command
    "playground.accounts",
    "playground.usage",
    "playground.audit",
    "playground.providers",
    "playground.chat",
    "playground.prompts",
    "playground.images",
    "playground.demo",
    "playground.embeddings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "playground.accounts.middleware.ForcePasswordChangeMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every sign-in attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "playground.urls"
# Help texts escaped: they may be a schema's, a provider's or a teammate's words.
FORM_RENDERER = "playground.forms.FormRenderer"
ASGI_APPLICATION = "playground.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "playground.accounts.context_processors.switcher",
            ],
        },
    },
]

# --- Storage -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Django's advice under ASGI: no persistent connections (a request's thread ends with its
    # request, and its connection would stay open until collected); a pooler such as
    # PgBouncer takes the reconnection cost off the database.
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # Persistent: opening a SQLite connection (and closing it, which checkpoints the
            # WAL) cost more than the queries when every stream checkpoints each second. A
            # request thread's connection is closed when the thread ends (reference counting).
            "CONN_MAX_AGE": None,
            # Streams checkpoint concurrently with page loads: WAL lets readers run beside the
            # writer, IMMEDIATE takes the write lock up front so two writers wait instead of
            # failing with "database is locked", and the timeout is how long they wait.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's layer, riding out Redis timeouts, outages and restarts. The
            # socket timeout is longer than the layer's blocking read (5 s), which must not be
            # cut off while it waits for a message (redis-py 8 made it 5 s too).
            "BACKEND": "playground.channel_layer.ResilientRedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}],
                # Group sends over capacity are dropped silently; streams send batched
                # updates, so size for bursts of many conversations at once.
                "capacity": env_int("CHANNEL_CAPACITY", 1000),
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env_int("CHANNEL_CAPACITY", 1000), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ----------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed sign-ins: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is refused for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0) or None

# --- Security headers ----------------------------------------------------------------------

# No inline script or style anywhere: every behaviour lives in static/js, every style in CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Static files and i18n -----------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# By default files are served straight from the source folders, so no build step is needed.
# A deployment sets STATIC_COLLECTED=true for both `collectstatic` and the servers, to serve
# compressed files with content-hashed names from STATIC_ROOT.
STATIC_COLLECTED = env_bool("STATIC_COLLECTED", False)
SERVESTATIC_USE_FINDERS = not STATIC_COLLECTED
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))) if STATIC_COLLECTED else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # One line per upstream call at INFO; our usage records say more.
        "httpx": {"level": "WARNING"},
    },
}

# --- Upstream LLM APIs ---------------------------------------------------------------------

# Seconds. Connect: TCP+TLS set-up. First byte: from sending the request to the first bytes
# of the answer (long prompts on slow models take a while). Idle: longest silence between two
# chunks of a streamed answer. Total: cap on a whole call. A provider may override each.
UPSTREAM_CONNECT_TIMEOUT = env_float("UPSTREAM_CONNECT_TIMEOUT", 10)
UPSTREAM_FIRST_BYTE_TIMEOUT = env_float("UPSTREAM_FIRST_BYTE_TIMEOUT", 120)
UPSTREAM_IDLE_TIMEOUT = env_float("UPSTREAM_IDLE_TIMEOUT", 60)
UPSTREAM_TOTAL_TIMEOUT = env_float("UPSTREAM_TOTAL_TIMEOUT", 900)
# Connections per process to all upstreams together, and how many stay open when idle.
UPSTREAM_MAX_CONNECTIONS = env_int("UPSTREAM_MAX_CONNECTIONS", 2000)
UPSTREAM_MAX_KEEPALIVE = env_int("UPSTREAM_MAX_KEEPALIVE", 200)
# Retries before the first byte only: how many, and the longest Retry-After we wait for.
UPSTREAM_MAX_RETRIES = env_int("UPSTREAM_MAX_RETRIES", 2)
UPSTREAM_RETRY_AFTER_CAP = env_float("UPSTREAM_RETRY_AFTER_CAP", 20)
UPSTREAM_BACKOFF_BASE = env_float("UPSTREAM_BACKOFF_BASE", 0.5)

# --- Usage ---------------------------------------------------------------------------------

# The currency of every price (per million tokens) and so of every cost and cost budget.
USAGE_CURRENCY = env_str("USAGE_CURRENCY", "USD")

# --- Embeddings ----------------------------------------------------------------------------

# Texts per embeddings request; lowered further where a provider's schema or profile says so.
EMBEDDINGS_BATCH_SIZE = env_int("EMBEDDINGS_BATCH_SIZE", 256)

# --- Images --------------------------------------------------------------------------------

# Generated pictures are kept here, named by content hash, and handed out only by views that
# check team membership: never serve this folder directly.
PRIVATE_MEDIA_ROOT = DATA_DIR / "media"
# On SIGTERM a worker stops taking answers and lets those streaming finish for this long; the
# rest end "interrupted" with their text. Keep it below the process manager's own kill delay.
SHUTDOWN_GRACE_S = env_float("SHUTDOWN_GRACE_S", 20.0)
# Largest request body accepted (the largest upload is a 10 MB embeddings file, with its form);
# a bigger one is refused with 413 before it is read (playground/limits.py). Django's own
# check on form fields gets the same figure, so a 5 MB pasted schema reaches its form (which
# explains its own limit beside the field) instead of a bare "400 Bad Request".
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 12 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
# Largest picture kept (and downloaded, when an API answers with a URL), in bytes.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 20 * 1024 * 1024)
