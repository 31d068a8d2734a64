"""Horde settings, all from environment variables with safe defaults.

With nothing set, Horde runs on SQLite (WAL, so the web process and the
Celery workers can share it) and a filesystem Celery broker that needs no
server. DATABASE_URL / CELERY_BROKER_URL / REDIS_URL switch to the real
services. See the README for every variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HORDE_VAR_DIR", BASE_DIR / "var"))


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def envbool(name: str, default: bool = False) -> bool:
    """A yes/no variable; anything but the usual words is a start-up error (a typo such as
    `DEBUG=ture` must not silently mean "off")."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a yes/no value: use one of 1/0, true/false, yes/no, on/off."
        )
    return word in TRUE_WORDS


def _in_range(name: str, value: float, minimum: float | None, above: float | None) -> None:
    """Stops start-up on a value that would break the site (a zero TTL requeues every job at
    once, a zero interval spins a loop), naming the variable."""
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} is too small: it must be at least {minimum}.")
    if above is not None and value <= above:
        raise ImproperlyConfigured(f"{name}={value!r} is too small: it must be more than {above}.")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        number = default
    else:
        try:
            number = int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    _in_range(name, number, minimum, None)
    return number


def envfloat(name: str, default: float, *, minimum: float | None = None, above: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        number = default
    else:
        try:
            number = float(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
        if number != number or number in (float("inf"), float("-inf")):  # nan, inf: no setting means that
            raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    _in_range(name, number, minimum, above)
    return number


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment, or set DEBUG=1 for a local development run."
        )
    SECRET_KEY = "insecure-dev-key-only-used-with-DEBUG"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

# --- HTTPS -------------------------------------------------------------------------
# On by default whenever DEBUG is off: production is served over HTTPS (HSTS, redirect,
# secure cookies). HORDE_HTTPS=0 only for plain-HTTP runs on loopback (the test suite).
HTTPS = envbool("HORDE_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Asking browsers to preload the domain is the operator's commitment to make (it is hard
# to undo), not a default: the check that nags about it is silenced until they choose.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# A load balancer checks health over plain HTTP, from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto (only then: a client could
# send the header itself) and its X-Forwarded-Host.
HORDE_BEHIND_PROXY = envbool("HORDE_BEHIND_PROXY")
if HORDE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# How many proxies of ours stand in front (each appends the address it saw to
# X-Forwarded-For): the client's address is this many hops from the right; hops further
# left are what the client claimed (horde_site/limits.py client_ip).
HORDE_PROXY_HOPS = envint("HORDE_PROXY_HOPS", 1, minimum=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "accounts",
    "kudos",
    "site_status",
    "generation",
    "ratings",
    "aesthetics",
    "moderation",
    "documents",
]

MIDDLEWARE = [
    "horde_site.request_log.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "horde_site.cors.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "horde_site.api_input.TextInputMiddleware",
    "horde_site.limits.RateLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "horde_site.urls"
WSGI_APPLICATION = "horde_site.wsgi.application"
ASGI_APPLICATION = "horde_site.asgi.application"

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
                "kudos.context_processors.header_balance",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60, minimum=0))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not envbool("HORDE_PG_JIT", False):
        # PostgreSQL's JIT compiles any query the planner costs high, and an index seek under a
        # LIMIT is costed as if it read the whole index: the arena's next-pair seek took 1.5 s
        # of compiling for 1 ms of reading (bench/arena_bench.py). An OLTP site wants it off.
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "horde.sqlite3",
            "OPTIONS": {
                # WAL lets the web server and the Celery workers read while one writes;
                # IMMEDIATE takes the write lock up front so two writers queue
                # instead of failing with "database is locked" half-way through.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
if "TEST_DATABASE_NAME" in os.environ:
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DATABASE_NAME"]
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- Cache and broker -----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache is shared by the web process and the workers, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A GPU job can run for minutes: redeliver only long after the task time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The soft limit (30 s before the hard one, so a task can clean up) must stay positive. It may
# exceed the job TTL (HORDE_JOB_TTL_SECONDS): a running job's claim is renewed every third of
# the TTL (generation.tasks.LeaseKeeper), so housekeeping does not requeue it under the worker.
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 900, minimum=31)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 30
CELERY_TASK_DEFAULT_QUEUE = "housekeeping"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Rate limits ----------------------------------------------------------------------
# Per client (apikey, or IP for anonymous calls), per route: "METHOD count/seconds"
# (horde_site/limits.py). HORDE_RATE_LIMITS_OFF=1 switches them off (load benchmarks).
HORDE_RATE_LIMITS = {
    "generate-async": f"POST {envint('HORDE_RATE_ASYNC_PER_MINUTE', 60, minimum=1)}/60",
    # Pops per key: a ceiling over all of its workers; each worker (key + the worker name of
    # the pop body) has its own, lower rule, applied by the pop view.
    "generate-pop": f"POST {envint('HORDE_RATE_POP_PER_MINUTE', 600, minimum=1)}/60",
    "generate-pop.worker": f"POST {envint('HORDE_RATE_POP_PER_WORKER_PER_MINUTE', 60, minimum=1)}/60",
    "generate-submit": f"POST {envint('HORDE_RATE_SUBMIT_PER_MINUTE', 600, minimum=1)}/60",
    "api-kudos-transfer": f"POST {envint('HORDE_RATE_TRANSFERS_PER_MINUTE', 10, minimum=1)}/60",
    "api-rate-own-pair": f"POST {envint('HORDE_RATE_RATINGS_PER_MINUTE', 60, minimum=1)}/60",
    "api-arena-next": f"GET {envint('HORDE_RATE_ARENA_PER_MINUTE', 120, minimum=1)}/60",
    "api-arena-vote": f"POST {envint('HORDE_RATE_ARENA_PER_MINUTE', 120, minimum=1)}/60",
    # As on the AI Horde: five new shared keys a minute.
    "api-sharedkeys": f"PUT {envint('HORDE_RATE_SHAREDKEYS_PER_MINUTE', 5, minimum=1)}/60",
    # Worker and team changes: 30 a minute, as on the AI Horde.
    "worker": f"PUT {envint('HORDE_RATE_WORKER_CHANGES_PER_MINUTE', 30, minimum=1)}/60",
    "teams": f"POST {envint('HORDE_RATE_TEAM_CHANGES_PER_MINUTE', 30, minimum=1)}/60",
    "team": f"PATCH {envint('HORDE_RATE_TEAM_CHANGES_PER_MINUTE', 30, minimum=1)}/60",
}
RATE_LIMITS_OFF = envbool("HORDE_RATE_LIMITS_OFF")
if RATE_LIMITS_OFF:
    HORDE_RATE_LIMITS = {}
# Requests one user may have waiting or running at once (429 TooManyPrompts past it).
HORDE_MAX_WAITING_REQUESTS = envint("HORDE_MAX_WAITING_REQUESTS", 20, minimum=1)
# Sign-up and log-in limits: django-allauth's own (per IP, per account key), in the cache.
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = (
    False
    if RATE_LIMITS_OFF
    else {
        "signup": os.environ.get("HORDE_RATE_SIGNUP", "10/h/ip"),
        "login": os.environ.get("HORDE_RATE_LOGIN", "30/m/ip"),
        "login_failed": os.environ.get("HORDE_RATE_LOGIN_FAILED", "10/m/ip,5/5m/key"),
        "reset_password": "20/m/ip,5/m/key",
    }
)

# --- Operations -----------------------------------------------------------------------
# /metrics answers only with this bearer token (unset: /metrics is off).
HORDE_METRICS_TOKEN = os.environ.get("HORDE_METRICS_TOKEN", "")

# --- Static and media files ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # S3-compatible object storage for images (django-storages reads AWS_* variables).
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
# Hidden images are moved here, out of what the public media URL (or bucket) serves; only
# staff read them, through the admin. With object storage, a second, private bucket.
STORAGES["private"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private_media")))},
}
if os.environ.get("AWS_PRIVATE_STORAGE_BUCKET_NAME"):
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": os.environ["AWS_PRIVATE_STORAGE_BUCKET_NAME"], "querystring_auth": True},
    }
WHITENOISE_USE_FINDERS = True
# Horde serves media itself in development; in production the object storage or the
# proxy in front serves MEDIA_ROOT (SERVE_MEDIA=1 makes Horde do it anyway).
SERVE_MEDIA = envbool("SERVE_MEDIA", DEBUG)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Accounts (django-allauth) ----------------------------------------------------------
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SIGNUP_REDIRECT_URL = "accounts:profile"
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "horde@localhost")

# --- API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.apikey_auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["horde_site.api_input.TextJSONParser"],
    "EXCEPTION_HANDLER": "horde_site.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Horde API",
    "DESCRIPTION": "AI Horde v2 compatible API of Horde.",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
# Bound request bodies: a 1024x1024 webp in base64 is well under this.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024 * 1024, minimum=1)

# JSON lines with the request id in production (LOG_FORMAT=json, the default without
# DEBUG); plain text for a developer's terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip() or ("text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or text.")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(f"LOG_LEVEL={os.environ['LOG_LEVEL']!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "horde_site.request_log.RequestIdFilter"},
        "task_id": {"()": "horde_site.request_log.TaskIdFilter"},
    },
    "formatters": {
        "json": {"()": "horde_site.request_log.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "task_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- accounts (browser accounts, API keys in the browser) ---
# Issues the new user's first API key at sign-up (shown once on the profile page).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"

# --- ratings ---
# Own-pair rebate (AI Horde defaults): the pick, each aesthetic rating, each artifacts
# rating; capped strictly below what the request cost (sum of its job charges).
RATINGS_REWARD_PICK = envint("RATINGS_REWARD_PICK", 15)
RATINGS_REWARD_AESTHETIC = envint("RATINGS_REWARD_AESTHETIC", 5)
RATINGS_REWARD_ARTIFACTS = envint("RATINGS_REWARD_ARTIFACTS", 5)
# Arena: kudos per vote and the most a rater earns from the arena per UTC day.
RATINGS_ARENA_REWARD = envint("RATINGS_ARENA_REWARD", 2)
RATINGS_ARENA_DAILY_CAP = envint("RATINGS_ARENA_DAILY_CAP", 100)
# A vote sooner than this after the pair was shown (or finished) is refused: no human
# looks at two images that fast.
RATINGS_MIN_SECONDS_TO_VOTE = envfloat("RATINGS_MIN_SECONDS_TO_VOTE", 1.5, minimum=0)
RATINGS_UNDO_SECONDS = envint("RATINGS_UNDO_SECONDS", 10, minimum=0)
# An unanswered arena pair is held for its rater this long before it may be served again.
RATINGS_ASSIGNMENT_TTL_SECONDS = envint("RATINGS_ASSIGNMENT_TTL_SECONDS", 600, minimum=1)
# A pair leaves the arena for good (retired: ratings.services.voting.arena_pairs_retire) once
# it holds this many live votes, or this many days after it finished (0: no such limit). Only
# retired pairs may be shown as the leaderboard's example pairs.
RATINGS_ARENA_TARGET_VOTES = envint("RATINGS_ARENA_TARGET_VOTES", 20, minimum=0)
RATINGS_ARENA_RETIRE_DAYS = envint("RATINGS_ARENA_RETIRE_DAYS", 30, minimum=0)
# One arena pair in N is a gold pair or a control image (when one is left for the rater).
RATINGS_GOLD_EVERY = envint("RATINGS_GOLD_EVERY", 10, minimum=0)
# Rater trust: below the threshold a rater is excluded (earns nothing, votes not counted).
RATINGS_TRUST_THRESHOLD = envfloat("RATINGS_TRUST_THRESHOLD", 0.5)
# The periodic recompute (RATINGS_TRUST_RECOMPUTE_SECONDS) redoes only the raters whose figures
# can have changed since its previous run, looking back this much further (for votes whose
# transaction was still open then), and everyone when the latest full run is this old.
RATINGS_TRUST_RECOMPUTE_OVERLAP_SECONDS = envint("RATINGS_TRUST_RECOMPUTE_OVERLAP_SECONDS", 300, minimum=0)
RATINGS_TRUST_FULL_RECOMPUTE_HOURS = envfloat("RATINGS_TRUST_FULL_RECOMPUTE_HOURS", 24, above=0)
RATINGS_TRUST_MIN_GOLD = envint("RATINGS_TRUST_MIN_GOLD", 3)
RATINGS_TRUST_MIN_CONSENSUS = envint("RATINGS_TRUST_MIN_CONSENSUS", 5)
RATINGS_CONSENSUS_MIN_OTHERS = envint("RATINGS_CONSENSUS_MIN_OTHERS", 2)
RATINGS_TRUST_MAX_VOTES_PER_MINUTE = envfloat("RATINGS_TRUST_MAX_VOTES_PER_MINUTE", 20, above=0)
RATINGS_TRUST_YOUNG_ACCOUNT_DAYS = envfloat("RATINGS_TRUST_YOUNG_ACCOUNT_DAYS", 1)
RATINGS_TRUST_YOUNG_ACCOUNT_FACTOR = envfloat("RATINGS_TRUST_YOUNG_ACCOUNT_FACTOR", 0.8)
# Calibration: a new rater's first RATINGS_CALIBRATION_PAIRS arena pairs carry at least
# RATINGS_CALIBRATION_CHECKS check items (gold pairs or control images, served like any pair).
# Until that many checks are answered with at least RATINGS_CALIBRATION_AGREEMENT agreement (and
# that many pairs judged) their votes weigh 0 and arena votes earn nothing. 0 checks: no calibration.
RATINGS_CALIBRATION_PAIRS = envint("RATINGS_CALIBRATION_PAIRS", 15)
RATINGS_CALIBRATION_CHECKS = envint("RATINGS_CALIBRATION_CHECKS", 5)
RATINGS_CALIBRATION_AGREEMENT = envfloat("RATINGS_CALIBRATION_AGREEMENT", 0.8)
# Arena throttle per rater: votes at least this many seconds apart and at most this many in any
# 60 s; a vote past either is refused (429 TooManyVotes), stores nothing and pays nothing.
RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = envfloat("RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS", 3, minimum=0)
RATINGS_ARENA_MAX_VOTES_PER_MINUTE = envint("RATINGS_ARENA_MAX_VOTES_PER_MINUTE", 12, minimum=0)
# Vote weights (ratings.selectors.vote_weights): no rater weighs more than the cap; a rater's
# votes on one model beyond RATINGS_RATER_FULL_VOTES_PER_MODEL together weigh as that many.
RATINGS_WEIGHT_CAP = envfloat("RATINGS_WEIGHT_CAP", 1.0, above=0)
RATINGS_RATER_FULL_VOTES_PER_MODEL = envint("RATINGS_RATER_FULL_VOTES_PER_MODEL", 50, minimum=1)
# Flagging: a rater who sides with one pipeline against the consensus more often than the crowd
# does (one-sided binomial test, Bonferroni over pipelines) at p below this, with at least this
# many such votes, is flagged for staff and left out.
RATINGS_FLAG_ALPHA = envfloat("RATINGS_FLAG_ALPHA", 0.001)
RATINGS_FLAG_MIN_SIDED = envint("RATINGS_FLAG_MIN_SIDED", 8)

# --- ratings leaderboard ---
# Bootstrap rounds and RNG seed of the leaderboard's intervals; how often Celery beat recomputes it.
LEADERBOARD_BOOTSTRAP_ROUNDS = envint("LEADERBOARD_BOOTSTRAP_ROUNDS", 200, minimum=1)
LEADERBOARD_SEED = envint("LEADERBOARD_SEED", 20240917)
LEADERBOARD_REFRESH_SECONDS = envint("LEADERBOARD_REFRESH_SECONDS", 300, minimum=1)
# Key of the dataset export's pseudonyms (rater, request, image and vote ids, each HMAC-SHA256
# in its own namespace). Its own secret, not SECRET_KEY: rotating SECRET_KEY must not change
# every rater's id in the dataset. Required unless DEBUG is on; never change it once exports
# are published (the pseudonyms would change with it).
RATINGS_PSEUDONYM_KEY = os.environ.get("RATINGS_PSEUDONYM_KEY", "")
if not RATINGS_PSEUDONYM_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "RATINGS_PSEUDONYM_KEY is not set. Set RATINGS_PSEUDONYM_KEY (a long random secret, kept apart "
            "from SECRET_KEY) in the environment, or set DEBUG=1 for a local development run."
        )
    RATINGS_PSEUDONYM_KEY = "insecure-dev-pseudonym-key-only-used-with-DEBUG"
# Where admin-started dataset exports write (one folder per run).
RATINGS_EXPORT_ROOT = Path(os.environ.get("RATINGS_EXPORT_ROOT", VAR_DIR / "exports"))

# --- generation ---
# The queue's tunables (see generation/conf.py) and its housekeeping schedule.
HORDE_JOB_TTL_SECONDS = envint("HORDE_JOB_TTL_SECONDS", 300, minimum=1)
HORDE_MAX_JOB_ATTEMPTS = envint("HORDE_MAX_JOB_ATTEMPTS", 3, minimum=1)
HORDE_REDISPATCH_AFTER_SECONDS = envint("HORDE_REDISPATCH_AFTER_SECONDS", 120, minimum=1)
HORDE_CELERY_DISPATCH = envbool("HORDE_CELERY_DISPATCH", True)
HORDE_PRIORITY_AGING_PER_SECOND = envfloat("HORDE_PRIORITY_AGING_PER_SECOND", 1.0, minimum=0)
HORDE_ANONYMOUS_PRIORITY = envfloat("HORDE_ANONYMOUS_PRIORITY", -100_000)
HORDE_WORKER_STALE_SECONDS = envint("HORDE_WORKER_STALE_SECONDS", 300, minimum=1)
HORDE_MAX_IMAGE_BYTES = envint("HORDE_MAX_IMAGE_BYTES", 8 * 1024 * 1024, minimum=1)
HORDE_MAX_PROMPT_CHARS = envint("HORDE_MAX_PROMPT_CHARS", 4000, minimum=1)
HORDE_MAX_N = envint("HORDE_MAX_N", 10, minimum=1)
# Kudos a new account gets at sign-up on the site (paid once, through the ledger); 0: none.
HORDE_SIGNUP_KUDOS = envint("HORDE_SIGNUP_KUDOS", 0, minimum=0)
# Queue priority of a requester in debt (just below zero kudos): below everyone not in
# debt, above anonymous requests (generation.services.priority.priority_base).
HORDE_DEBT_PRIORITY = envint("HORDE_DEBT_PRIORITY", -50_000)

# --- housekeeping schedule (Celery beat; every task on the housekeeping queue) ---
# --- Single-image ratings of image sets (aesthetics app) ---
# An image leaves the rating pool once it has this many ratings.
AESTHETICS_TARGET_RATINGS = envint("AESTHETICS_TARGET_RATINGS", 5, minimum=1)
# Kudos for one single-image rating (nothing while the rater's trust is excluded or flagged).
AESTHETICS_RATING_REWARD = envint("AESTHETICS_RATING_REWARD", 2)
# A rating further than this from the mean of the image's other counted ratings is a divergence.
AESTHETICS_MAX_DIVERGENCE = envfloat("AESTHETICS_MAX_DIVERGENCE", 3)
# Single-image rating throttle per rater, like the arena's: ratings at least this many seconds
# apart and at most this many in any 60 s; a rating past either is refused (429 TooManyRatings),
# stores nothing and pays nothing. 0 turns a limit off.
AESTHETICS_MIN_RATING_INTERVAL_SECONDS = envfloat("AESTHETICS_MIN_RATING_INTERVAL_SECONDS", 1, minimum=0)
AESTHETICS_MAX_RATINGS_PER_MINUTE = envint("AESTHETICS_MAX_RATINGS_PER_MINUTE", 30, minimum=0)
# About one image in this many served is a control image ("rate this image N"), when a set has any.
AESTHETICS_CONTROL_EVERY = envint("AESTHETICS_CONTROL_EVERY", 20, minimum=0)
# Images larger than this many pixels are refused by the import.
AESTHETICS_IMPORT_MAX_PIXELS = envint("AESTHETICS_IMPORT_MAX_PIXELS", 4096 * 4096)
# An admin upload (a zip of images) may unpack to at most this many bytes.
AESTHETICS_UPLOAD_MAX_BYTES = envint("AESTHETICS_UPLOAD_MAX_BYTES", 4 * 1024**3)

# --- Worker uptime rewards (generation.services.uptime) ---
# Kudos per interval of uptime (online, taking work, not in maintenance), once per worker and interval.
HORDE_UPTIME_KUDOS = envint("HORDE_UPTIME_KUDOS", 50)
HORDE_UPTIME_INTERVAL_SECONDS = envint("HORDE_UPTIME_INTERVAL_SECONDS", 600, minimum=1)
# This many failed claims in a row (and no finished job since) stop the rewards.
HORDE_UPTIME_MAX_FAULT_STREAK = envint("HORDE_UPTIME_MAX_FAULT_STREAK", 3)

CELERY_BEAT_SCHEDULE = {
    "generation-workers-uptime-reward": {
        "task": "generation.workers_uptime_reward",
        "schedule": float(envint("HORDE_UPTIME_EVERY_SECONDS", 60, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "aesthetics-shared-comparisons": {
        "task": "aesthetics.shared_comparisons_join",
        "schedule": float(envint("AESTHETICS_SHARED_JOIN_SECONDS", 300, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "ratings-trust-recompute": {
        "task": "ratings.tasks.rater_trust_recompute_all_task",
        "schedule": envint("RATINGS_TRUST_RECOMPUTE_SECONDS", 900, minimum=1),
        "options": {"queue": "housekeeping"},
    },
    "ratings-arena-retire": {
        "task": "ratings.arena_pairs_retire",
        "schedule": float(envint("RATINGS_ARENA_RETIRE_EVERY_SECONDS", 3600, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "ratings-leaderboard-refresh": {
        "task": "ratings.leaderboard_refresh",
        "schedule": float(LEADERBOARD_REFRESH_SECONDS),
        "options": {"queue": "housekeeping"},
    },
    "generation-requeue-expired": {
        "task": "generation.requeue_expired",
        "schedule": float(envint("HORDE_REQUEUE_EVERY_SECONDS", 15, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "generation-maintenance-abort": {
        "task": "generation.maintenance_abort",
        "schedule": float(envint("HORDE_MAINTENANCE_ABORT_EVERY_SECONDS", 15, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "generation-stats-compact": {
        "task": "generation.stats_compact",
        "schedule": float(envint("HORDE_STATS_COMPACT_EVERY_SECONDS", 600, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
    "generation-redispatch-queued": {
        "task": "generation.redispatch_queued",
        "schedule": float(envint("HORDE_REDISPATCH_EVERY_SECONDS", 60, minimum=1)),
        "options": {"queue": "housekeeping"},
    },
}

# --- GPU workers (manage.py gpu_worker) ---
# The owner (a username) of a GPU worker started without --owner.
HORDE_GPU_OWNER = os.environ.get("HORDE_GPU_OWNER", "")
# Simulated inference time of the procedural backend (demos, benchmarks, crash tests).
HORDE_PROCEDURAL_SECONDS = envfloat("HORDE_PROCEDURAL_SECONDS", 0, minimum=0)

# --- diffusers backend ---
# Local weights only: each checkpoint a recipe names is a diffusers-format folder here
# (HORDE_MODELS_DIR/<checkpoint>/model_index.json); nothing is downloaded at run time.
HORDE_MODELS_DIR = Path(os.environ.get("HORDE_MODELS_DIR", VAR_DIR / "models"))
# "" picks cuda when torch sees a GPU, else cpu.
HORDE_DIFFUSERS_DEVICE = os.environ.get("HORDE_DIFFUSERS_DEVICE", "")
# Checkpoints kept loaded at once (least recently used swapped out past it); on CUDA the
# free memory is checked as well before each load.
HORDE_DIFFUSERS_MAX_RESIDENT = envint("HORDE_DIFFUSERS_MAX_RESIDENT", 3, minimum=1)
# Optional cap in MiB on the weights kept loaded (0: none besides the free-memory check).
HORDE_DIFFUSERS_MEMORY_BUDGET_MB = envint("HORDE_DIFFUSERS_MEMORY_BUDGET_MB", 0, minimum=0)
