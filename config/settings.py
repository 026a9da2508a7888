"""Settings for the Backup Policy Console: one module, read from environment variables.

Local use needs none of them (SQLite file in the project folder, debug on). Production sets
DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL (PostgreSQL).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import check_production_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not DEBUG:
    # Missing, 'django-insecure-', short or low-variety (Django's W009), or found in the repository.
    check_production_secret_key(SECRET_KEY, repository=BASE_DIR)
elif not SECRET_KEY:
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from the package (collectstatic), never from a CDN.
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    # The task queue (django-tasks, the backport of Django 6's tasks) in the product's own database.
    "django_tasks",
    "django_tasks_db",
    "policies",
]

MIDDLEWARE = [
    # Outermost: it sees the final status of every answer, the envelope of ApiErrorMiddleware, an
    # SSL redirect and a 500 alike, and times all of them.
    "config.middleware.RequestLogMiddleware",
    # Next: its headers (CSP, no-store, ...) go on every answer, the envelope and static files too.
    "config.security_headers.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "policies.api.errors.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
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
                "policies.dashboard.context_processors.navigation",
                "policies.dashboard.context_processors.scheduler",
            ],
            # The template_partials app wraps the (cached) loaders itself; its tags are builtins so
            # every template can use {% partialdef %} (Django 6.0 has them built in).
            "builtins": ["template_partials.templatetags.partials", "django_htmx.templatetags.django_htmx"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One connection per request unless told otherwise (docs/performance.md measures both).
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock when a
        # transaction begins, so the quota check and the insert of policy_create cannot
        # interleave with another request's; the timeout makes a second writer wait, not fail.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file, not Django's shared in-memory database: the concurrency tests need real
    # SQLite locking between threads. One file per test process, so two runs in one tree never
    # share it (pytest-xdist adds a suffix per worker; the file is deleted at the end of a run).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".pytest-db-{os.getpid()}.sqlite3")}
else:
    # The same on a server: two test runs against one PostgreSQL must not drop each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n, static ---------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username + address is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "policies:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format in the dashboard and the admin: ISO 8601 with the zone ("2026-03-29 01:00 UTC"),
# set in config/formats/en/formats.py (the locale's formats would otherwise win over settings).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: WhiteNoise serves collectstatic's output, compressed, under content-hashed names
    # cached for a year. With debug on (make run, tests) plain names, read from the source folders.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# With debug on, WhiteNoise reads the source folders and notices edits; without, only STATIC_ROOT.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["policies.api.auth.XAuthTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["policies.api.parsers.ContractJSONParser"],
    "EXCEPTION_HANDLER": "policies.api.errors.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "policies.api.negotiation.ContractNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
# The largest API body read (bytes); a create body is well under 4 KiB. Larger: 413.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(64 * 1024)))

# The OpenAPI description (policies/api/openapi/), served at /api/schema/ and /api/docs/.
SPECTACULAR_SETTINGS = {
    "TITLE": "Backup Policy Console API (VBS v2)",
    "DESCRIPTION": (
        "The Volume Backup Service v2 backup-policy API. Paths are exact, without a trailing "
        "slash (a path sent with a trailing slash is 404 `AutoBackup.0004`, never redirected); a "
        "method a path does not serve "
        "is 405 `AutoBackup.0005` (checked before the token; no OPTIONS). Every error answer is "
        'the envelope `{"error": {"code", "message", "details"?}}` (schema `Error`). '
        "Field names keep the contract's spellings: `rentention_num`, `rentention_day`, "
        "`remain_first_backup_of_curMonth`. The project's `docs/api.md` has every contract "
        "decision and the forecast routes' rules."
    ),
    "VERSION": "2",
    # Only the /v2/ API: not the schema and docs pages themselves.
    "SERVE_INCLUDE_SCHEMA": False,
    # Public read-only pages; the assets of Swagger UI come from drf-spectacular-sidecar.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The /volume/ routes are the /v2/ backup views again, for the OpenStack clients.
    "PREPROCESSING_HOOKS": ["policies.api.openapi.only_v2"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "policies.api.openapi.finish",
    ],
}

# --- Runs: providers, scheduler, worker (docs/operations.md, "Workers") ----------------------

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# The provider of each tenant's volumes: "local" (files, the default) or "openstack" (Cinder).
BACKUP_PROVIDER = os.environ.get("BACKUP_PROVIDER", "local")
if BACKUP_PROVIDER not in {"local", "openstack"}:
    raise ImproperlyConfigured(f"BACKUP_PROVIDER={BACKUP_PROVIDER!r}: use local or openstack")
# local: a project's volumes are the regular files in LOCAL_VOLUME_ROOT/<project_id>/; its backups
# are indexes in its own chunk store, LOCAL_BACKUP_ROOT/<project_id>/.store/ (older ones: full copies
# in LOCAL_BACKUP_ROOT/<project_id>/).
LOCAL_VOLUME_ROOT = Path(os.environ.get("LOCAL_VOLUME_ROOT", BASE_DIR / "var" / "volumes"))
LOCAL_BACKUP_ROOT = Path(os.environ.get("LOCAL_BACKUP_ROOT", BASE_DIR / "var" / "backups"))
# local: a backup that would leave less than this free on the backup disk is refused before it starts.
LOCAL_BACKUP_MIN_FREE_BYTES = env_int("LOCAL_BACKUP_MIN_FREE_BYTES", 1024**3)
# An optional limit of the local read rate (bytes per second), to spare a shared disk.
LOCAL_COPY_BYTES_PER_SECOND = env_int("LOCAL_COPY_BYTES_PER_SECOND", 0) or None
# openstack: the clouds.yaml cloud of each project ("project_id=cloud,..."), else OS_CLOUD or
# the OS_* variables for all of them.
OPENSTACK_CLOUDS = dict(item.split("=", 1) for item in env_list("OPENSTACK_CLOUDS", []) if "=" in item)
# One backup may take this long before it is EXECUTE_TIMEOUT.
BACKUP_TIMEOUT_SECONDS = env_int("BACKUP_TIMEOUT_SECONDS", 3600)
# A RUNNING task's lease is its timeout plus this grace; past it, the sweep takes the task back.
BACKUP_LEASE_GRACE_SECONDS = env_int("BACKUP_LEASE_GRACE_SECONDS", 120)
# A worker tries to claim or record a backup this long while the database is unreachable.
BACKUP_DB_RETRY_SECONDS = env_int("BACKUP_DB_RETRY_SECONDS", 600)
# The bytes of backups one project may hold (0: no limit); a backup that would pass it is refused
# before it starts, so that one project cannot fill the store every project writes to.
BACKUP_PROJECT_LIMIT_BYTES = env_int("BACKUP_PROJECT_LIMIT_BYTES", 0)
# A transient provider failure is tried again, this many attempts in all, this far apart.
BACKUP_MAX_ATTEMPTS = env_int("BACKUP_MAX_ATTEMPTS", 3)
BACKUP_RETRY_DELAY_SECONDS = env_int("BACKUP_RETRY_DELAY_SECONDS", 30)
# A run missed while no scheduler ran fires once, late, if it is at most this old; older: SKIP.
BACKUP_MISSED_RUN_WINDOW_MINUTES = env_int("BACKUP_MISSED_RUN_WINDOW_MINUTES", 360)
# How often the worker's scheduler ticks, and refreshes the volume inventory.
SCHEDULER_TICK_SECONDS = env_int("SCHEDULER_TICK_SECONDS", 15)
VOLUME_SYNC_SECONDS = env_int("VOLUME_SYNC_SECONDS", 300)
# A scheduled run not started this long after its instant is missed (a run.missed event), and a
# volume whose last good backup is older than its policy's longest gap plus this is at risk.
BACKUP_MISSED_RUN_GRACE_MINUTES = env_int("BACKUP_MISSED_RUN_GRACE_MINUTES", 30)
# Each backup is re-read and its SHA-256 checked this soon after it is made, then this often;
# each tick queues at most BACKUP_VERIFY_BATCH verifications.
BACKUP_VERIFY_FIRST_MINUTES = env_int("BACKUP_VERIFY_FIRST_MINUTES", 10)
BACKUP_VERIFY_EVERY_DAYS = env_int("BACKUP_VERIFY_EVERY_DAYS", 30)
BACKUP_VERIFY_BATCH = env_int("BACKUP_VERIFY_BATCH", 20)

# --- Notifications: webhooks and e-mail (docs/operations.md, "Notifications") ---------------

# Webhook URLs whose host resolves to a loopback, private or link-local address are refused in
# production (metadata, multicast and reserved addresses always are); on for tests and closed
# networks. Plain http likewise: production sends over https only unless allowed.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
# Connecting, and each read of the answer, may take this long before the try counts as failed.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# A try in progress is the worker's for this long; past it (the worker died), it is sent again.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 60)
# Dispatched events whose deliveries are all finished are deleted, with them, after this many days.
EVENTS_KEEP_DAYS = env_int("EVENTS_KEEP_DAYS", 30)
# How often the worker's delivery thread looks for events and due deliveries.
DELIVERY_POLL_SECONDS = env_int("DELIVERY_POLL_SECONDS", 2)
# E-mail through Django's settings: the console (the process's output) unless an SMTP host is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "backups@localhost")

# --- Sign-in lockout (django-axes) ----------------------------------------------------------

# Failed sign-ins at /accounts/login/ and /admin/login/ are counted per username *and* client
# address: a guesser is stopped without letting anyone lock a user out from everywhere. API tokens
# do not pass through authenticate() and are not counted.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.locked_out"
# The client address is REMOTE_ADDR unless told otherwise: a header such as X-Forwarded-For is
# trusted only when a proxy in front sets it (docs/operations.md, "Behind a proxy").
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_IPWARE_META_PRECEDENCE_ORDER", ["REMOTE_ADDR"])
AXES_IPWARE_PROXY_COUNT = env_int("AXES_IPWARE_PROXY_COUNT", 0) or None

# --- Security (production) ------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A load balancer probes the health check over plain HTTP; a redirect to HTTPS would read as down.
# The API is never redirected either (a redirected POST loses its body): over plain HTTP it is
# refused in the error envelope instead (policies.api.errors.ApiErrorMiddleware).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^v2/"]
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    # Only behind a TLS proxy that sets X-Forwarded-Proto itself: without one, any client could
    # send the header and pass as HTTPS.
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line carries the id of the request it belongs to (X-Request-ID), "-" outside one.
    "filters": {"request_id": {"()": "config.middleware.RequestIdFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "line"},
    },
    "loggers": {
        "policies": {"handlers": ["console"], "level": LOG_LEVEL},
        # One line per request (config/middleware.py); gunicorn's own access log stays off.
        "bpc.requests": {"handlers": ["console"], "level": LOG_LEVEL},
        # Without this, an unhandled error outside the API would be logged nowhere with debug off
        # (Django sends it to mail_admins only). 4xx warnings are left to the request log.
        "django": {"handlers": ["console"], "level": "INFO" if DEBUG else "ERROR"},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}
