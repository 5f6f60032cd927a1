"""Service Balance settings, read from environment variables.

One module for every environment. Nothing set means: SQLite in the project
folder, DEBUG off, and a clear error asking for SECRET_KEY. ``make run`` sets
DEBUG=1 for local development; see README.md for every variable.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value in the environment "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"), '
            "or set DEBUG=1 for local development."
        )
    # Development only: a fixed key so sessions survive restarts of runserver.
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

# The public address, for links in e-mails (never taken from the request's Host header).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Team-level figures appear only from this many completed member responses.
ANONYMITY_THRESHOLD = max(1, env_int("ANONYMITY_THRESHOLD", 3))
# Formula 2's verdict floor (Win4: every stakeholder wins), as a level of the 0-5 scale:
# a stakeholder wins from the lower edge of this level's band. 2, "meets expectations
# consistently", puts the floor at 30 points (docs/scoring.md, "Verdict by floors").
SCORING_FLOOR_LEVEL = min(5, max(1, env_int("SCORING_FLOOR_LEVEL", 2)))

# Customer surveys (docs/customer-voice.md). Customer figures appear only from this many
# responses: fewer would let a manager who knows who answered read one customer's ratings.
CUSTOMER_THRESHOLD = max(1, env_int("CUSTOMER_THRESHOLD", 5))
# A public submission is refused as automated when it arrives sooner than this after
# the page was served: twenty ratings cannot be read and chosen faster.
CUSTOMER_MIN_SECONDS = max(0, env_int("CUSTOMER_MIN_SECONDS", 8))
# Per-address limit: at most this many submissions from one address to one survey in
# one window (a shop's shared Wi-Fi serves several customers, so it is not 1).
CUSTOMER_ADDRESS_LIMIT = max(1, env_int("CUSTOMER_ADDRESS_LIMIT", 10))
CUSTOMER_ADDRESS_WINDOW_SECONDS = max(60, env_int("CUSTOMER_ADDRESS_WINDOW_SECONDS", 600))
# Per-survey limit, a guard against a flood: at most this many accepted in any minute.
CUSTOMER_SURVEY_LIMIT_PER_MINUTE = max(1, env_int("CUSTOMER_SURVEY_LIMIT_PER_MINUTE", 600))
# Customers' addresses on a survey's personal-link list are erased this many days after
# the survey closes (`manage.py prune_customer_data`, run daily); 0: the day after.
CUSTOMER_ADDRESS_RETENTION_DAYS = max(0, env_int("CUSTOMER_ADDRESS_RETENTION_DAYS", 0))
# The most addresses one upload of a personal-link list may hold.
CUSTOMER_LINKS_MAX = max(1, env_int("CUSTOMER_LINKS_MAX", 2000))

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "assessment",
    "frameworks",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # After the session: a chosen language is kept there (assessment.languages).
    "assessment.middleware.LanguageMiddleware",
    "assessment.middleware.SessionIdleTimeoutMiddleware",
    # Inside the idle timeout, so it sees the session before a timeout could end it.
    "assessment.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "assessment.urls"
WSGI_APPLICATION = "assessment.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in the project folder unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serves one writer at a time; IMMEDIATE transactions take the write
    # lock up front, so concurrent saves queue (up to the timeout) instead of
    # failing half-way with "database is locked". Connections persist for CONN_MAX_AGE,
    # as on PostgreSQL: each gunicorn (sync) worker and the task worker is a process of
    # its own serving one request at a time, so no connection is shared, and opening one
    # (with the WAL pragma) cost about 2 ms a request (make bench: the hello-world page,
    # which reads the session, took 4.2 ms at CONN_MAX_AGE=0 and 2.1 ms at 60).
    # Tests use a file too, not shared-cache memory: concurrency tests need SQLite's
    # real locking (busy timeout), which shared-cache memory databases do not have.
    # One file per test process, so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"servicebalance-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 5),
        "options": f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT_MS', 30000)}",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "assessment:dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
# The shipped languages (docs/translating.md). Adding one is a .po file, the framework
# files' [translations.<code>] blocks and a line here; the tests then demand it complete.
LANGUAGES = [("en-gb", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "assessment" / "locale"]
# Our date formats per language (assessment/formats); the rest is Django's.
FORMAT_MODULE_PATH = ["assessment.formats"]
# The visitor's choice is kept for a year in a cookie (and in the session and a signed-in
# user's preferences, see assessment.languages); it carries nothing but the code.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Evidence files: in the database unless an S3-compatible store is configured
    # (EVIDENCE_STORAGE=s3, docs/deploy.md).
    "evidence": {"BACKEND": "assessment.storage.DatabaseStorage"},
    "staticfiles": {
        # Hashed, compressed files after collectstatic; plain files in development.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATICFILES_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Evidence files (docs/deploy.md, "Evidence files"): in the database by default, or in an
# S3-compatible object store. Files are always served through the access-checked view,
# never by the store's own URL, so the bucket stays private.
EVIDENCE_STORAGE = env_str("EVIDENCE_STORAGE", "database").lower()
if EVIDENCE_STORAGE == "s3":
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("EVIDENCE_S3_BUCKET"),
            "endpoint_url": env_str("EVIDENCE_S3_ENDPOINT_URL") or None,
            "region_name": env_str("EVIDENCE_S3_REGION") or None,
            "access_key": env_str("EVIDENCE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("EVIDENCE_S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": env_str("EVIDENCE_S3_ADDRESSING_STYLE") or None,
            "default_acl": "private",
            "querystring_auth": True,  # never used: files are streamed through our view
            "file_overwrite": False,
        },
    }
    if not STORAGES["evidence"]["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("EVIDENCE_STORAGE=s3 needs EVIDENCE_S3_BUCKET.")
elif EVIDENCE_STORAGE != "database":
    raise ImproperlyConfigured(
        f"EVIDENCE_STORAGE must be 'database' or 's3', not {EVIDENCE_STORAGE!r}."
    )
# The largest evidence file, and the most all of one assessment's files may hold.
EVIDENCE_MAX_BYTES = max(1, env_int("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))
EVIDENCE_MAX_TOTAL_BYTES = max(1, env_int("EVIDENCE_MAX_TOTAL_BYTES", 100 * 1024 * 1024))
# Tests and DEBUG serve files straight from the finders, without collectstatic.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("WHITENOISE_USE_FINDERS", default=False)

# E-mail (Django 6.1's MAILERS): printed to the console unless EMAIL_HOST is set.
if env_str("EMAIL_HOST"):
    _mailer = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("EMAIL_HOST"),
            "port": env_int("EMAIL_PORT", 587),
            "username": env_str("EMAIL_HOST_USER") or None,
            "password": env_str("EMAIL_HOST_PASSWORD") or None,
            "use_tls": env_bool("EMAIL_USE_TLS", default=True),
            "timeout": env_int("EMAIL_TIMEOUT", 10),
        },
    }
else:
    _mailer = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Service Balance <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# What one organisation may have sent on its behalf (invitations to answer and to
# manage), so the service cannot be used to relay spam; see assessment.services.mail.
MAIL_CAP_PER_HOUR = max(1, env_int("MAIL_CAP_PER_HOUR", 100))
MAIL_CAP_PER_DAY = max(1, env_int("MAIL_CAP_PER_DAY", 500))
# A manager may send the same invitation again only after this many minutes.
INVITATION_RESEND_COOLDOWN_MINUTES = max(0, env_int("INVITATION_RESEND_COOLDOWN_MINUTES", 10))

# Security headers. The Content Security Policy allows no inline script or
# style: scripts carry a per-request nonce and come from our own origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# HTTPS: the site is served over HTTPS (directly or behind a TLS proxy). On unless
# DEBUG. It makes the cookies Secure with the __Host- prefix (bound to this host,
# path /, never sent over plain HTTP) and sends HSTS on secure requests. Set HTTPS=0
# only to try the production settings over plain HTTP on 127.0.0.1.
HTTPS = env_bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sessions. Every session (signed in, or an invitee's after using their link) ends
# after this many minutes without a request (sliding; see assessment.middleware),
# and at the latest SESSION_MAX_AGE_DAYS after it began, however busy. An invitee's
# session also ends when their invitation link would have expired. Invitees have no
# password: after their session ends they ask for a fresh link from their used one.
SESSION_IDLE_TIMEOUT = 60 * max(1, env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30))
SESSION_MAX_AGE = 24 * 60 * 60 * max(1, env_int("SESSION_MAX_AGE_DAYS", 30))

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failures, that username
# is locked for the same client address only, so an attacker cannot lock the real
# user out from elsewhere. Behind N reverse proxies set TRUSTED_PROXY_COUNT=N so the
# client address is read from X-Forwarded-For (see assessment.client_ip); with 0
# that header is ignored.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = max(1, env_int("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=max(1, env_int("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "assessment.views.public.locked_out"
AXES_HTTP_RESPONSE_CODE = 429
TRUSTED_PROXY_COUNT = max(0, env_int("TRUSTED_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "assessment.client_ip.client_ip"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background tasks: run at once in development and tests; in production,
# TASKS_BACKEND=django_tasks_db.DatabaseBackend with `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"),
    }
}

# Finished bulk exports (their ZIP files live in the database) are deleted after this
# many days by `manage.py prune_bulk_exports`, run daily.
BULK_EXPORT_RETENTION_DAYS = max(1, env_int("BULK_EXPORT_RETENTION_DAYS", 30))

# PDF reports render in a child process with these bounds.
REPORT_TIMEOUT_SECONDS = env_int("REPORT_TIMEOUT_SECONDS", 60)
REPORT_MEMORY_MB = env_int("REPORT_MEMORY_MB", 2048)

# Framework content: one TOML file per framework.
FRAMEWORKS_DATA_DIR = BASE_DIR / "frameworks" / "data"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {asctime} {name}: {message}", "style": "{"}},
    "filters": {"database_outage": {"()": "assessment.log_filters.DatabaseOutageFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["database_outage"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint reports every layout step at INFO; only its warnings matter here.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes narrates every sign-in at INFO; assessment.security logs what matters.
        "axes": {"level": "WARNING"},
    },
}
