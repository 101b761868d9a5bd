"""Chi bộ settings: one file, read from environment variables.

Defaults work on a laptop (SQLite in WAL mode under var/, Celery on kombu's
filesystem broker, e-mail written to files). Production sets DJANGO_DEBUG=false
and must then provide a secret key and allowed hosts, or start-up fails loudly.
"""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CHIBO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_celery_beat",
    "cells",
    "members",
    "meetings",
    "resolutions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "members.middleware.TwoFactorMiddleware",
    # Last, as axes asks: turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'chibo.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat all write: WAL + immediate transactions avoid "database is locked".
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    _db.setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # JIT costs 180-520 ms on the dashboard aggregates and wins nothing here (STACK-NOTES).
    _db["OPTIONS"].setdefault("options", "-c jit=off")
    _db["OPTIONS"].setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ----------------------------------------------------------
# Production: CACHE_URL=redis://redis:6379/1, shared by every worker. Default (and tests): each
# process's own memory. Sessions are read from the cache and written through to the database
# (cached_db): a signed-in page reads no session row, and a cache flush signs nobody out.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "config.cache.ReusingRedisCache"  # one client per pool, not per call
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The inbox badge's count is kept in the cache only when every process shares it (the sweep that
# delivers runs in the Celery worker); with per-process memory it is counted on each page.
CHIBO_INBOX_COUNT_CACHED = env.bool(
    "CHIBO_INBOX_COUNT_CACHED", default=not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
)

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "members.User"
# The axes backend first: it refuses every sign-in while the account or the address is locked.
AUTHENTICATION_BACKENDS = ["members.signin.LockoutBackend", "members.auth.IdentifierBackend"]
LOGIN_URL = "members:login"
LOGIN_REDIRECT_URL = "members:home"
LOGOUT_REDIRECT_URL = "members:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACTIVATION_CODE_TTL_DAYS = env.int("CHIBO_ACTIVATION_CODE_TTL_DAYS", default=14)

# --- Sign-in protection (django-axes, django-otp) --------------------------------
# Wrong passwords are counted per account and per address, separately; either count at the limit
# pauses sign-in for 15 minutes.
AXES_FAILURE_LIMIT = env.int("CHIBO_AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
# A retry during the pause does not restart it, so the page's "15 minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Not reset on success: that would also clear the address's count, and one valid login would let a
# guesser at the same address start over.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "members.signin.lockout_username"
AXES_CLIENT_IP_CALLABLE = "members.audit.client_address"
AXES_LOCKOUT_TEMPLATE = "members/signin_locked.html"
# Reverse proxies in front of the app (Caddy in docker-compose): the client's address is the entry
# they appended to X-Forwarded-For. 0 = no proxy, REMOTE_ADDR is the client.
CHIBO_PROXY_COUNT = env.int("CHIBO_PROXY_COUNT", default=0 if DEBUG else 1)
OTP_TOTP_ISSUER = "Chi bộ"

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and archived files are never served directly: only through scope-checked views.
MEDIA_ROOT = Path(env.str("CHIBO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "CHIBO_STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- E-mail -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
if EMAIL_CONFIG.get("EMAIL_BACKEND", "").endswith("filebased.EmailBackend"):
    EMAIL_FILE_PATH = EMAIL_CONFIG.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Chi bộ <no-reply@chibo.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -----------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Task modules outside the apps' tasks.py (autodiscovered): the dashboards' beat tasks.
CELERY_IMPORTS = ("cells.dashboard_tasks",)

# --- Health: beat heartbeat ---------------------------------------------------
# Beat sends cells.tasks.beat_heartbeat every interval and a worker records the time; /healthz
# calls the heartbeat stale (beat or worker down) once it is older than the max age.
CHIBO_HEARTBEAT_INTERVAL = env.int("CHIBO_HEARTBEAT_INTERVAL", default=60)
CHIBO_HEARTBEAT_MAX_AGE = env.int("CHIBO_HEARTBEAT_MAX_AGE", default=3 * CHIBO_HEARTBEAT_INTERVAL)
# DatabaseScheduler copies these entries into its tables when beat starts. It reads the expiry
# from "expire_seconds" and silently drops Celery's own "expires"; both are given so that the
# entry also expires under Celery's default scheduler. Expiring just under the interval keeps
# heartbeats from piling up while no worker runs.
CELERY_BEAT_SCHEDULE = {
    "beat-heartbeat": {
        "task": "cells.tasks.beat_heartbeat",
        "schedule": float(CHIBO_HEARTBEAT_INTERVAL),
        "options": {
            "expires": max(CHIBO_HEARTBEAT_INTERVAL - 5, 1),
            "expire_seconds": max(CHIBO_HEARTBEAT_INTERVAL - 5, 1),
        },
    },
}

# --- Notifications: beat sweeps (members.tasks) ------------------------------------------------
# Absolute links in e-mails; the .ics URL too.
CHIBO_SITE_URL = env.str("CHIBO_SITE_URL", default="http://127.0.0.1:8000")
CHIBO_NOTIFICATION_SEND_INTERVAL = env.int("CHIBO_NOTIFICATION_SEND_INTERVAL", default=60)
CHIBO_NOTIFICATION_PLAN_INTERVAL = env.int("CHIBO_NOTIFICATION_PLAN_INTERVAL", default=300)
CHIBO_NOTIFICATION_MAX_ATTEMPTS = env.int("CHIBO_NOTIFICATION_MAX_ATTEMPTS", default=5)
CHIBO_NOTIFICATION_RETRY_BASE = env.int("CHIBO_NOTIFICATION_RETRY_BASE", default=60)  # seconds, doubled per attempt
CHIBO_NOTIFICATIONS_KICK = env.bool("CHIBO_NOTIFICATIONS_KICK", default=True)  # enqueue a send on commit
# Each sweep records a heartbeat under its name; /healthz fails once one is older than twice its
# interval (one late run is tolerated: beat's clock and a long batch may delay it a little).
CHIBO_SWEEPS = {
    "notifications-send": CHIBO_NOTIFICATION_SEND_INTERVAL,
    "notifications-plan": CHIBO_NOTIFICATION_PLAN_INTERVAL,
}
CELERY_BEAT_SCHEDULE |= {
    name: {
        "task": task,
        "schedule": float(CHIBO_SWEEPS[name]),
        "options": {"expires": max(CHIBO_SWEEPS[name] - 5, 1), "expire_seconds": max(CHIBO_SWEEPS[name] - 5, 1)},
    }
    for name, task in (
        ("notifications-send", "members.tasks.send_due_notifications"),
        ("notifications-plan", "members.tasks.plan_notifications"),
    )
}

# Dashboards built ahead (cells.dashboard_tasks.warm_dashboards): members-at-risk lists and each
# committee's default view. When a month ends their keys change, and a province's first view would
# read its whole subtree.
CHIBO_DASHBOARD_WARM_INTERVAL = env.int("CHIBO_DASHBOARD_WARM_INTERVAL", default=900)
CELERY_BEAT_SCHEDULE["dashboards-warm"] = {
    "task": "cells.dashboard_tasks.warm_dashboards",
    "schedule": float(CHIBO_DASHBOARD_WARM_INTERVAL),
    "options": {
        "expires": max(CHIBO_DASHBOARD_WARM_INTERVAL - 5, 1),
        "expire_seconds": max(CHIBO_DASHBOARD_WARM_INTERVAL - 5, 1),
    },
}

# Printed register books (resolutions.book_jobs) are downloads kept a day; beat clears them daily.
CELERY_BEAT_SCHEDULE["register-books-clean"] = {
    "task": "resolutions.tasks.clean_register_books",
    "schedule": 24 * 3600.0,
    "options": {"expires": 3600, "expire_seconds": 3600},
}

# --- Forms ------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security (production) ---------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # plain-HTTP probes from the load balancer
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step at INFO (about 13 lines a document).
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
