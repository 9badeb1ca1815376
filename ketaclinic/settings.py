"""KetaClinic settings: one module, driven by the environment (see the README's table).

KETACLINIC_DATABASE_URL   database; default SQLite file ./var/ketaclinic.sqlite3 (WAL mode)
KETACLINIC_SECRET_KEY     required with PostgreSQL outside debug; else generated into ./var/
KETACLINIC_DEBUG          "1"/"true" to turn debug on (off by default)
KETACLINIC_ALLOWED_HOSTS  comma-separated host names (default: localhost names)
KETACLINIC_TIME_ZONE      the clinic's zone for display; storage is always UTC
KETACLINIC_BEHIND_PROXY   "1" behind a TLS proxy: trust its X-Forwarded-Proto (and, unless
                          KETACLINIC_TRUSTED_PROXIES is set, count it as one trusted proxy)
KETACLINIC_TRUSTED_PROXIES  how many of the clinic's own proxies append to X-Forwarded-For
                          (default 0, or 1 with KETACLINIC_BEHIND_PROXY): the client address
                          is the N-th entry from the right if it is an IP address, else
                          REMOTE_ADDR; the entries left of it are the client's and never used
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from ketaclinic.lib.env import env_bool, env_int, env_list, env_str, secret_key_load_or_create

# Lets typed code write ModelForm[Patient] and QuerySet[Patient] at run time.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("KETACLINIC_VAR_DIR", "var")).resolve()

DEBUG = env_bool("KETACLINIC_DEBUG", default=False)

_default_sqlite = f"sqlite:///{VAR_DIR / 'ketaclinic.sqlite3'}"
DATABASE_URL = env_str("KETACLINIC_DATABASE_URL", _default_sqlite)
# Persistent connections (a new one costs more than a whole vitals post), each checked when a
# request first uses it (CONN_HEALTH_CHECKS: one SELECT 1 per request). Without the check a
# database restart failed the next request on every kept connection with a 500, even requests
# that arrived after the database was back (issue 18, item 13); while the database cannot be
# reached, requests answer 503 with Retry-After (ketaclinic/web/unavailable.py).
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets readers go on while one writer commits; IMMEDIATE takes the write lock at
        # BEGIN so that two writers queue on the busy timeout instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The test database is a file, so that tests with several threads (and the live server
    # of the browser tests) share it; one per process, so that test runs never collide.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-ketaclinic-{os.getpid()}.sqlite3")}
if _db["ENGINE"].startswith("django.db.backends.postgresql"):
    # Parameters bound by the server, so that psycopg prepares a statement the fifth time it
    # runs on a connection (psycopg's default threshold): the hot paths' statements are then
    # planned once per connection instead of on every request, about 0.5 ms of database CPU
    # per vitals post (bench/README.md).
    # connect_timeout: while the database is unreachable a request fails within seconds (503)
    # instead of hanging on the connection attempt.
    _db["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5, "connect_timeout": 3}
DATABASES = {"default": _db}
IS_POSTGRESQL = _db["ENGINE"].startswith("django.db.backends.postgresql")

_secret = os.environ.get("KETACLINIC_SECRET_KEY", "")
if not _secret:
    if IS_POSTGRESQL and not DEBUG:
        raise ImproperlyConfigured(
            "KETACLINIC_SECRET_KEY must be set when the database is PostgreSQL and debug is off."
        )
    _secret = secret_key_load_or_create(VAR_DIR / "secret_key")
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("KETACLINIC_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KETACLINIC_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "axes",
    "ketaclinic.accounts",
    "ketaclinic.audit",
    "ketaclinic.patients",
    "ketaclinic.web",
    "ketaclinic.site",
    "ketaclinic.intake",
    "ketaclinic.eligibility",
    "ketaclinic.consent",
    "ketaclinic.scales",
    "ketaclinic.courses",
    "ketaclinic.infusions",
    "ketaclinic.ledger",
    "ketaclinic.monitors",
    "ketaclinic.fhir",
    "ketaclinic.idempotency",
    "ketaclinic.today",
    "ketaclinic.outcomes",
    "ketaclinic.portal",
    "ketaclinic.fhir.smart",
    "django_tasks",
    "django_tasks_db",
    "ketaclinic.jobs",
    "ketaclinic.fhir.bulk",
    "ketaclinic.careplan",
    "ketaclinic.messaging",
    "ketaclinic.reminders",
    "ketaclinic.letters",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files stay cacheable), before the rest, so that it also marks
    # the answers other middleware make (login redirects, lockouts): ketaclinic/web/middleware.py
    "ketaclinic.web.middleware.NoStoreMiddleware",
    "ketaclinic.audit.middleware.RequestContextMiddleware",
    # Every error under /api/v1/ a problem (RFC 9457), under /fhir/R4/ an OperationOutcome,
    # also those Django or django-axes would answer with a page: ketaclinic/api/fallback.py
    "ketaclinic.api.fallback.ProgramErrorsMiddleware",
    # A 500 caused by an unreachable database becomes a 503 with Retry-After (web/unavailable.py);
    # inside the one above, which words it for programs (problem details, OperationOutcome).
    "ketaclinic.web.unavailable.DatabaseUnavailableMiddleware",
    # Chunked bodies read (never dropped) and every JSON API body read strictly before any
    # view; after the request id is made, so that refusals carry it (web/request_body.py)
    "ketaclinic.web.request_body.StrictBodyMiddleware",
    # A page's reads of patient data written together before it is sent (audit/middleware.py)
    "ketaclinic.audit.middleware.RequestReadsMiddleware",
    # A program's FHIR GET with a bearer token and no cookie skips the browser layers below,
    # which do nothing for it (ketaclinic/fhir/middleware.py; issue 16's search benchmark)
    "ketaclinic.fhir.middleware.BearerShortcutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The visitor's language (cookie, then the browser's), after the session, before common
    # (its redirects keep the language); patient pages only, staff pages stay English
    # (ketaclinic/portal/middleware.py, below, decides once the user is known).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, its device read compiled once (ketaclinic/accounts/middleware.py)
    "ketaclinic.accounts.middleware.OTPMiddleware",
    "ketaclinic.accounts.middleware.TwoFactorRequiredMiddleware",
    # A signed-in patient's own language (their portal record); staff always English.
    "ketaclinic.portal.middleware.PatientLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees the final outcome of authentication (django-axes' rule).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ketaclinic.urls"
WSGI_APPLICATION = "ketaclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketaclinic.web.context.navigation",
                "ketaclinic.messaging.context.unread",
            ],
        },
    }
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "two_factor:login"
TWO_FACTOR_PATCH_ADMIN = False
OTP_TOTP_ISSUER = "KetaClinic"

# Sessions end after this many idle minutes (HIPAA automatic logoff, 45 CFR 164.312(a)(2)(iii)).
SESSION_IDLE_MINUTES = env_int("KETACLINIC_SESSION_IDLE_MINUTES", 15)
# Outcomes: completed inductions a protocol x disorder cell needs before its own mixed model
# replaces the published curve (outcomes.md section 3: published systems were derived from 181
# to 11,492 patients; ~100 suggested), and the infusion after which not-on-track is checked
# (never after 1-2: ketamine has late responders).
OUTCOMES_MIN_INDUCTIONS = env_int("KETACLINIC_OUTCOMES_MIN_INDUCTIONS", 100)
OUTCOMES_CHECK_INFUSION = env_int("KETACLINIC_OUTCOMES_CHECK_INFUSION", 4)
# The research export's pseudonym key (HMAC-SHA256); derived from the secret key when unset.
OUTCOMES_EXPORT_SECRET = env_str("KETACLINIC_EXPORT_SECRET", "")
# Public figures: a cell with fewer patients is not shown (so no one can be recognised).
OUTCOMES_PUBLIC_MIN_PATIENTS = env_int("KETACLINIC_OUTCOMES_PUBLIC_MIN_PATIENTS", 20)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("KETACLINIC_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused post gets the clinic's own page (what to do next), not Django's unstyled one.
CSRF_FAILURE_VIEW = "ketaclinic.web.views.csrf_failure"

# Login throttling: lock a username and address pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = env_int("KETACLINIC_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A password typed into a second-check or witness form counts under its own key, never against
# the colleague's own sign-in (ketaclinic/accounts/lockouts.py).
AXES_USERNAME_CALLABLE = "ketaclinic.accounts.lockouts.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The same trusted address as the audit trail and the rate limits (KETACLINIC_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "ketaclinic.audit.middleware.client_address"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = env_int("KETACLINIC_HSTS_SECONDS", 0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("KETACLINIC_BEHIND_PROXY") else None
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
# Patient-facing pages in English and Spanish; each app keeps its own catalogue in
# ketaclinic/<app>/locale/ (`make messages`). Staff pages stay English.
LANGUAGES = [("en", "English"), ("es", "Español")]
# The project's own templates (base, sign-in, password) keep theirs here; apps in their own.
LOCALE_PATHS = [PACKAGE_DIR / "templates" / "locale"]
LANGUAGE_COOKIE_NAME = "kc_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = env_str("KETACLINIC_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One date and time format everywhere (ISO dates, 24-hour times): ketaclinic/formats/en/formats.py
FORMAT_MODULE_PATH = ["ketaclinic.formats"]
DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# By default mail is written to files under var/mail/ (one file per batch sent), never to the
# console: a reminder names the patient, their address and their appointment, and the server's
# output ends up in logs. Set the SMTP backend (and _EMAIL_HOST) to send real mail.
EMAIL_BACKEND = env_str(
    "KETACLINIC_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("KETACLINIC_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("KETACLINIC_EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("KETACLINIC_FROM_EMAIL", "ketaclinic@localhost")

# How many reverse proxies of the clinic's own stand in front of the app, each appending the
# address it saw to X-Forwarded-For: the client address is the N-th entry from the right (the
# entries left of it are the client's own words), else REMOTE_ADDR. KETACLINIC_BEHIND_PROXY=1
# alone means one proxy. See ketaclinic.audit.middleware.client_address.
KETACLINIC_TRUSTED_PROXIES = env_int(
    "KETACLINIC_TRUSTED_PROXIES", 1 if env_bool("KETACLINIC_BEHIND_PROXY") else 0
)
if KETACLINIC_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("KETACLINIC_TRUSTED_PROXIES must be 0 or more")
KETACLINIC_API_TOKEN_DAYS = env_int("KETACLINIC_API_TOKEN_DAYS", 90)

# The public site's clinic details, and the limit on inquiries per client address per hour.
KETACLINIC_CLINIC_NAME = env_str("KETACLINIC_CLINIC_NAME", "KetaClinic Demo Clinic")
KETACLINIC_CLINIC_ADDRESS = env_str("KETACLINIC_CLINIC_ADDRESS", "1 Example Street, Testville")
KETACLINIC_CLINIC_HOURS = env_str("KETACLINIC_CLINIC_HOURS", "Monday to Friday, 8:00 to 17:00")
KETACLINIC_CLINIC_PHONE = env_str("KETACLINIC_CLINIC_PHONE", "555-0100")
KETACLINIC_CLINIC_EMAIL = env_str("KETACLINIC_CLINIC_EMAIL", "hello@clinic.example")
KETACLINIC_INQUIRY_RATE_PER_HOUR = env_int("KETACLINIC_INQUIRY_RATE_PER_HOUR", 5)
# The base of the canonical URLs of the built-in FHIR Questionnaires and our code systems
# (e.g. <base>/Questionnaire/gad7). Changing it changes the URLs that responses must cite.
KETACLINIC_FHIR_CANONICAL_BASE = env_str(
    "KETACLINIC_FHIR_CANONICAL_BASE", "https://ketaclinic.org/fhir"
).rstrip("/")

# No log record keeps an exception's message (where patient data leaks: the database's error
# context, a refused value); the web app installs the redaction: ketaclinic/web/log_safety.py
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A patient link's token never reaches the log (Django logs a CSRF refusal with its path).
    "filters": {"link_tokens": {"()": "ketaclinic.lib.link_pages.LinkTokenRedaction"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        # Request errors would print the request's data; the audit trail and request ids are
        # how a failure is traced instead.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # Never the SQL log: with debug on it holds every statement's parameters (names, notes).
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Background jobs (django-tasks, its database backend): `ketaclinic worker` runs them beside
# `ketaclinic serve` (ketaclinic/jobs/). Tasks are rows in the database: nothing else to run.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# FHIR Bulk Data export (ketaclinic/fhir/bulk/): where files are written, how long they are
# kept, the polling interval (Retry-After) and when a silent job is taken as dead.
FHIR_BULK_DIR = Path(env_str("KETACLINIC_BULK_DIR", str(VAR_DIR / "bulk"))).resolve()
FHIR_BULK_EXPIRES_SECONDS = env_int("KETACLINIC_BULK_EXPIRES_SECONDS", 86_400)
FHIR_BULK_RETRY_AFTER = env_int("KETACLINIC_BULK_RETRY_AFTER", 5)
FHIR_BULK_STALE_SECONDS = env_int("KETACLINIC_BULK_STALE_SECONDS", 120)
FHIR_BULK_CHUNK = env_int("KETACLINIC_BULK_CHUNK", 2000)

# Secure messages (ketaclinic/messaging/): the largest attachment (bytes; PDF, PNG or JPEG,
# checked from the file's bytes) and the clinic address told (without content) that a
# patient wrote; empty sends no such notice.
KETACLINIC_MESSAGE_ATTACHMENT_MAX_BYTES = env_int(
    "KETACLINIC_MESSAGE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024
)
KETACLINIC_MESSAGES_NOTICE_EMAIL = env_str(
    "KETACLINIC_MESSAGES_NOTICE_EMAIL", KETACLINIC_CLINIC_EMAIL
)

# Reminders (ketaclinic/reminders/): sent by `ketaclinic worker`, by e-mail (EMAIL_BACKEND above;
# SMTP in production) and SMS. The SMS backend is a dotted path: the console one logs that a
# message went (never the number or the text), the file one writes under var/sms, the HTTP one
# posts to a Twilio-shaped REST provider (base URL, account sid, token, sender below).
REMINDERS_CHANNELS = env_list("KETACLINIC_REMINDER_CHANNELS", ["email", "sms"])
REMINDERS_SMS_BACKEND = env_str(
    "KETACLINIC_SMS_BACKEND", "ketaclinic.reminders.channels.sms.ConsoleSMSBackend"
)
REMINDERS_SMS_FILE_PATH = VAR_DIR / "sms"
REMINDERS_SMS_BASE_URL = env_str("KETACLINIC_SMS_BASE_URL", "https://api.twilio.com")
REMINDERS_SMS_ACCOUNT_SID = env_str("KETACLINIC_SMS_ACCOUNT_SID", "")
REMINDERS_SMS_AUTH_TOKEN = env_str("KETACLINIC_SMS_AUTH_TOKEN", "")
REMINDERS_SMS_FROM = env_str("KETACLINIC_SMS_FROM", "")
REMINDERS_SMS_TIMEOUT = env_int("KETACLINIC_SMS_TIMEOUT", 10)
# The portal's address as patients reach it (the link in every reminder).
REMINDERS_PORTAL_URL = env_str("KETACLINIC_PORTAL_URL", "http://localhost:8000/portal/")
# A booked session still "scheduled" this long after its start was not attended (no check-in).
REMINDERS_MISSED_AFTER_MINUTES = env_int("KETACLINIC_REMINDER_MISSED_AFTER_MINUTES", 120)
# Missed sessions older than this are not followed up (a first run does not mail the past).
REMINDERS_MISSED_WITHIN_DAYS = env_int("KETACLINIC_REMINDER_MISSED_WITHIN_DAYS", 3)
# A failure the provider reports before accepting is tried again after 1, 2, 4, ... minutes,
# at most this many times in all.
REMINDERS_MAX_ATTEMPTS = env_int("KETACLINIC_REMINDER_MAX_ATTEMPTS", 4)
REMINDERS_RETRY_BASE_SECONDS = env_int("KETACLINIC_REMINDER_RETRY_BASE_SECONDS", 60)
# A delivery claimed this long ago and never confirmed is listed for staff (its worker died).
REMINDERS_UNCONFIRMED_AFTER_SECONDS = env_int("KETACLINIC_REMINDER_UNCONFIRMED_SECONDS", 300)
