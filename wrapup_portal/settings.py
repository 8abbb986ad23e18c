"""Settings for Wrap-up Portal.

Everything that varies between machines is read from the environment (see `.env.example`
and the configuration table in README.md). There is one settings module; tests change
behaviour through the same variables.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

TRUTHY = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in TRUTHY


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_BOTH_SET = "{name} and {name}_FILE are both set: set only one (the value, or the path of a file holding it)."
SECRET_FILE_UNREADABLE = "{name}_FILE={path!r} cannot be read ({reason}): the portal does not start without its secret."
SECRET_FILE_EMPTY = "{name}_FILE={path!r} is empty: the portal does not start without its secret."


def env_secret(name: str) -> str:
    """A secret from ``NAME``, or from the file ``NAME_FILE`` names (Docker secrets, systemd credentials).

    Both set is refused, as is an unreadable or empty file; surrounding whitespace (the trailing
    newline of ``echo secret > file``) is dropped. Only the variable's name and the file's path
    ever reach a message, never the value. Empty when neither is set.
    """
    value, path = os.environ.get(name, ""), os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ImproperlyConfigured(SECRET_BOTH_SET.format(name=name))
    if not path:
        return value
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ImproperlyConfigured(SECRET_FILE_UNREADABLE.format(name=name, path=path, reason=reason)) from None
    if not secret:
        raise ImproperlyConfigured(SECRET_FILE_EMPTY.format(name=name, path=path))
    return secret


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY_MISSING = (
    "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is not set. It is required when DJANGO_DEBUG is off. "
    "Generate one with: "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(SECRET_KEY_MISSING)
    # Demo value, only ever used with DEBUG on.
    SECRET_KEY = "demo-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin with the portal's site: refuses signed-in users without admin rights (403).
    "wrapup_portal.core.admin.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_q",
    "axes",
    "wrapup_portal.core",
    "wrapup_portal.accounts",
    "wrapup_portal.audit",
    "wrapup_portal.catalog",
    "wrapup_portal.interactions",
    "wrapup_portal.assignments",
    "wrapup_portal.overview",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, error pages included.
    "wrapup_portal.core.middleware.ContentSecurityPolicyMiddleware",
    "wrapup_portal.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A session older than DJANGO_SESSION_AGE_SECONDS is signed out, however active it was.
    "wrapup_portal.core.middleware.SessionLifetimeMiddleware",
    "wrapup_portal.core.middleware.UserTimeZoneMiddleware",
    "wrapup_portal.core.middleware.HtmxSignInRedirectMiddleware",
    # Every view needs a signed-in user unless it is marked @login_not_required; a form sent
    # after the session expired returns to its page after sign-in, not to its POST-only action.
    "wrapup_portal.core.middleware.PortalLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wrapup_portal.urls"
WSGI_APPLICATION = "wrapup_portal.wsgi.application"

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
                "wrapup_portal.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 cluster write concurrently: WAL lets readers go on
    # while one writes, IMMEDIATE takes the write lock at BEGIN (so no deadlocking upgrade
    # from a read lock), and the timeout makes a writer wait instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared across the web processes and the cluster (rate-limit pacing, cluster stats).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "portal_cache",
        # Django's default (300 entries, then cull a third, alphabetically first) would throw
        # away the shared token and pacing state as soon as search pages fill it.
        "OPTIONS": {"MAX_ENTRIES": 50_000},
    }
}

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "overview:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# A stale or missing CSRF token: the portal's "form had expired" page, not Django's.
CSRF_FAILURE_VIEW = "wrapup_portal.core.views.csrf_failure"
# Two limits on a session: it ends after DJANGO_SESSION_IDLE_SECONDS without a request (the expiry
# moves on with every request), and DJANGO_SESSION_AGE_SECONDS after sign-in whatever happens, so a
# browser left on a page that polls (the live board) does not stay signed in for ever.
SESSION_MAX_AGE_SECONDS = int(os.environ.get("DJANGO_SESSION_AGE_SECONDS", 8 * 3600))
SESSION_COOKIE_AGE = min(int(os.environ.get("DJANGO_SESSION_IDLE_SECONDS", 30 * 60)), SESSION_MAX_AGE_SECONDS)
SESSION_SAVE_EVERY_REQUEST = True

# Lockout: after AXES_FAILURE_LIMIT bad passwords for one username from one address,
# that pair is refused until the cool-off has passed.
AXES_FAILURE_LIMIT = int(os.environ.get("PORTAL_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("PORTAL_LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_VERBOSE = False

# --- Single sign-on (OpenID Connect), off unless PORTAL_OIDC_CLIENT_ID is set -----------------
# The authorization code flow (with PKCE and a nonce) through mozilla-django-oidc; the portal's own
# backend (wrapup_portal.accounts.oidc) checks the id_token's signature, issuer and audience, and
# maps the identity provider's groups to the three roles on every sign-in. Local accounts stay for
# break-glass use. README.md, "Single sign-on (OpenID Connect)", lists the variables.
OIDC_ROLE_KEYS = ("team_lead", "admin", "compliance")
OIDC_ROLE_GROUPS_INVALID = (
    "PORTAL_OIDC_ROLE_GROUPS must look like 'team_lead=cc-leads;admin=cc-admins;compliance=cc-audit' "
    "(roles: team_lead, admin, compliance; several groups per role separated by commas), not {value!r}."
)
OIDC_SETTING_MISSING = "Single sign-on is on (PORTAL_OIDC_CLIENT_ID is set) but {what} is not set."


def oidc_role_groups(value: str) -> dict[str, tuple[str, ...]]:
    """``team_lead=a,b;admin=c`` → ``{"team_lead": ("a", "b"), "admin": ("c",)}``; refuses anything else."""
    mapping: dict[str, tuple[str, ...]] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        role, sep, groups = item.partition("=")
        names = tuple(g.strip() for g in groups.split(",") if g.strip())
        if not sep or role.strip() not in OIDC_ROLE_KEYS or not names or role.strip() in mapping:
            raise ImproperlyConfigured(OIDC_ROLE_GROUPS_INVALID.format(value=value))
        mapping[role.strip()] = names
    return mapping


PORTAL_OIDC_CLIENT_ID = os.environ.get("PORTAL_OIDC_CLIENT_ID", "").strip()
PORTAL_OIDC_ENABLED = bool(PORTAL_OIDC_CLIENT_ID)
PORTAL_OIDC_PROVIDER_NAME = os.environ.get("PORTAL_OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
PORTAL_OIDC_ISSUER = os.environ.get("PORTAL_OIDC_ISSUER", "").strip().rstrip("/")
# Explicit endpoints win over the issuer's discovery document (fetched on first use, not at start-up).
PORTAL_OIDC_ENDPOINTS = {
    name: os.environ.get(f"PORTAL_OIDC_{name.upper()}_ENDPOINT", "").strip()
    for name in ("authorization", "token", "userinfo", "jwks")
}
PORTAL_OIDC_GROUPS_CLAIM = os.environ.get("PORTAL_OIDC_GROUPS_CLAIM", "").strip() or "groups"
PORTAL_OIDC_USERNAME_CLAIM = os.environ.get("PORTAL_OIDC_USERNAME_CLAIM", "").strip() or "preferred_username"
PORTAL_OIDC_ROLE_GROUPS = oidc_role_groups(os.environ.get("PORTAL_OIDC_ROLE_GROUPS", ""))
_oidc_client_secret = env_secret("PORTAL_OIDC_CLIENT_SECRET") if PORTAL_OIDC_ENABLED else ""
if PORTAL_OIDC_ENABLED:
    if not _oidc_client_secret:
        raise ImproperlyConfigured(OIDC_SETTING_MISSING.format(what="PORTAL_OIDC_CLIENT_SECRET (or its _FILE)"))
    if not PORTAL_OIDC_ISSUER and not all(PORTAL_OIDC_ENDPOINTS.values()):
        raise ImproperlyConfigured(OIDC_SETTING_MISSING.format(
            what="PORTAL_OIDC_ISSUER (or all four PORTAL_OIDC_*_ENDPOINT variables)"))
    if not PORTAL_OIDC_ROLE_GROUPS:
        raise ImproperlyConfigured(OIDC_SETTING_MISSING.format(what="PORTAL_OIDC_ROLE_GROUPS"))
    AUTHENTICATION_BACKENDS.append("wrapup_portal.accounts.oidc.PortalOIDCBackend")
# What mozilla-django-oidc reads itself. The endpoints are resolved by the portal's subclasses.
OIDC_RP_CLIENT_ID = PORTAL_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = _oidc_client_secret
OIDC_RP_SIGN_ALGO = os.environ.get("PORTAL_OIDC_SIGN_ALGO", "").strip() or "RS256"
OIDC_RP_SCOPES = os.environ.get("PORTAL_OIDC_SCOPES", "").strip() or "openid email profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = PORTAL_OIDC_ENDPOINTS["authorization"]
OIDC_OP_TOKEN_ENDPOINT = PORTAL_OIDC_ENDPOINTS["token"]
OIDC_OP_USER_ENDPOINT = PORTAL_OIDC_ENDPOINTS["userinfo"]
OIDC_OP_JWKS_ENDPOINT = PORTAL_OIDC_ENDPOINTS["jwks"]
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso_callback"
OIDC_USE_PKCE = True
OIDC_TOKEN_USE_BASIC_AUTH = True  # client_secret_basic: the secret is never in a request body or URL
OIDC_TIMEOUT = float(os.environ.get("PORTAL_OIDC_TIMEOUT_SECONDS", 10))
OIDC_STORE_ACCESS_TOKEN = False  # the portal needs the provider's tokens only during the sign-in
OIDC_STORE_ID_TOKEN = False

# --- Request bodies -------------------------------------------------------------------------
# A form's fields (not its files) larger than this are refused with a 400 before any view runs; the
# biggest real one is a bulk selection of at most 500 legs (~40 KB). Files have their own limit (below),
# and so has the event hook's body (assignments.events.MAX_BODY).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
# An uploaded file (the assignment CSV) larger than this is skipped while it streams in, not stored.
PORTAL_UPLOAD_MAX_BYTES = 2 * 2**20
FILE_UPLOAD_HANDLERS = [
    "wrapup_portal.core.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Internationalisation, static files -----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Background work (django-q2 on the ORM broker) ------------------------------------------
# `timeout` must stay below `retry`, or a slow task is handed to a second worker while the
# first still runs it. catch_up off: a cluster that was down does not replay every missed
# schedule at once.
Q_CLUSTER = {
    "name": "wrapup_portal",
    "orm": "default",
    "workers": int(os.environ.get("PORTAL_Q_WORKERS", 2)),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 5,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    # How long the ORM broker sleeps when its queue is empty: the rules' event path must write a
    # leg's code within a second of ACW starting (issue 14), so a task may not wait a second here.
    "poll": float(os.environ.get("PORTAL_Q_POLL", 0.2)),
    "label": "Background tasks",
}

# --- Genesys Cloud --------------------------------------------------------------------------
# The local sandbox, used only with DEBUG on and nothing else configured. Like Genesys it has
# two hosts: the API on one port, the login host (/oauth/*) on the next.
# PORTAL_SANDBOX_PORT moves both, e.g. for a second demo (or a test) beside the first.
SANDBOX_PORT = int(os.environ.get("PORTAL_SANDBOX_PORT", 8765))
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
SANDBOX_LOGIN_URL = f"http://127.0.0.1:{SANDBOX_PORT + 1}"
SANDBOX_CLIENT_ID = "wrapup-portal-demo"
SANDBOX_CLIENT_SECRET = "wrapup-portal-demo-secret"  # the local emulator's public demo pair

GENESYS_LOGIN_URL_REQUIRED = (
    "GENESYS_LOGIN_URL is required: the login host cannot be derived from GENESYS_API_URL={api_url!r} "
    "(only an https://api.<domain> URL gives https://login.<domain>), and the token request, which carries "
    "the client secret, must never go to the API host."
)
GENESYS_SAME_HOST = (
    "GENESYS_LOGIN_URL must not be the API host ({login_url!r}): the token request carries the client secret. "
    "Genesys's login host is https://login.<domain> for https://api.<domain>."
)


def genesys_login_url_for(api_url: str) -> str:
    """``https://login.X`` for ``https://api.X``; empty when the login host cannot be told from the API URL."""
    parts = urlsplit(api_url.strip())
    host = parts.netloc.lower()
    if parts.scheme != "https" or not host.startswith("api.") or parts.path.strip("/") or parts.query:
        return ""
    return f"https://login.{host.removeprefix('api.')}"


GENESYS_REGION = os.environ.get("GENESYS_REGION", "").strip()
_genesys_api_env = os.environ.get("GENESYS_API_URL", "").strip().rstrip("/")
_genesys_login_env = os.environ.get("GENESYS_LOGIN_URL", "").strip().rstrip("/")
# The sandbox and its demo pair are a DEBUG-only default: a production deployment that forgot its
# Genesys variables must say so (GENESYS_CONFIGURED, /healthz), not talk to a local emulator.
GENESYS_USES_SANDBOX = DEBUG and not (GENESYS_REGION or _genesys_api_env or _genesys_login_env)
if GENESYS_USES_SANDBOX:
    GENESYS_API_URL, GENESYS_LOGIN_URL = SANDBOX_URL, SANDBOX_LOGIN_URL
else:
    GENESYS_API_URL = _genesys_api_env or (f"https://api.{GENESYS_REGION}" if GENESYS_REGION else "")
    GENESYS_LOGIN_URL = (
        _genesys_login_env
        or genesys_login_url_for(GENESYS_API_URL)
        or (f"https://login.{GENESYS_REGION}" if GENESYS_REGION else "")  # e.g. the API through a proxy
    )
    if GENESYS_API_URL and not GENESYS_LOGIN_URL:
        raise ImproperlyConfigured(GENESYS_LOGIN_URL_REQUIRED.format(api_url=GENESYS_API_URL))
if GENESYS_API_URL and urlsplit(GENESYS_API_URL).netloc.lower() == urlsplit(GENESYS_LOGIN_URL).netloc.lower():
    raise ImproperlyConfigured(GENESYS_SAME_HOST.format(login_url=GENESYS_LOGIN_URL))
GENESYS_CLIENT_ID = os.environ.get("GENESYS_CLIENT_ID") or (SANDBOX_CLIENT_ID if GENESYS_USES_SANDBOX else "")
# Secrets come from the environment or a file it names (GENESYS_CLIENT_SECRET_FILE), never the database.
GENESYS_CLIENT_SECRET = env_secret("GENESYS_CLIENT_SECRET") or (
    SANDBOX_CLIENT_SECRET if GENESYS_USES_SANDBOX else ""
)
# False: the portal starts (check --deploy, migrate, the admin) but every Genesys call fails with
# a message naming what to set, and /healthz reports Genesys down (wrapup_portal.core.genesys).
GENESYS_CONFIGURED = bool(GENESYS_API_URL and GENESYS_LOGIN_URL and GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET)
GENESYS_TIMEOUT_SECONDS = float(os.environ.get("GENESYS_TIMEOUT_SECONDS", 10))
GENESYS_WRITE_PATH = os.environ.get("GENESYS_WRITE_PATH", "server")
if GENESYS_WRITE_PATH not in {"server", "agent", "auto"}:
    raise ImproperlyConfigured(f"GENESYS_WRITE_PATH must be server, agent or auto, not {GENESYS_WRITE_PATH!r}.")
# The event hook's shared secret (unset: the hook refuses every delivery). The demo (DEBUG with the
# sandbox) has a public one of its own, which run_portal hands to the sandbox with the hook's URL.
SANDBOX_WEBHOOK_SECRET = "wrapup-portal-demo-webhook-secret"
WRAPUP_WEBHOOK_SECRET = env_secret("WRAPUP_WEBHOOK_SECRET") or (SANDBOX_WEBHOOK_SECRET if GENESYS_USES_SANDBOX else "")

# The access token is cached in the database cache table, encrypted (AES-GCM) with a key derived by
# HKDF from PORTAL_TOKEN_KEY, or from DJANGO_SECRET_KEY when that is unset: either way a key that lives
# in the environment, not in the database, so a dump of the database alone does not hand out the token.
# A key of its own lets the secret key rotate without touching the token, and the other way round;
# when the key changes the cached token reads as absent and a new one is fetched.
PORTAL_TOKEN_KEY = env_secret("PORTAL_TOKEN_KEY")
# Deliveries one source address may make per minute before the hook answers 429 (0: no limit).
WRAPUP_WEBHOOK_RATE_PER_MINUTE = int(os.environ.get("WRAPUP_WEBHOOK_RATE_PER_MINUTE", 3000))

# --- Catalog --------------------------------------------------------------------------------
# How often the cluster syncs the code catalog; the schedule is re-registered on every migrate.
CATALOG_SYNC_MINUTES = int(os.environ.get("PORTAL_CATALOG_SYNC_MINUTES", 15))

# --- Interactions ---------------------------------------------------------------------------
# The longest range one search may cover. Genesys documents no limit for the details query
# (docs/genesys-api.md: UNVERIFIED); a month keeps a search to a bounded number of pages.
PORTAL_SEARCH_MAX_DAYS = int(os.environ.get("PORTAL_SEARCH_MAX_DAYS", 31))

# --- Audit ----------------------------------------------------------------------------------
# Events older than this may be written to a verified archive (`archive_audit`); none is deleted.
AUDIT_RETENTION_DAYS = int(os.environ.get("PORTAL_AUDIT_RETENTION_DAYS", 7 * 365))

# --- Health ---------------------------------------------------------------------------------
# The cluster records a heartbeat every minute; older than this and /healthz reports it down.
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = int(os.environ.get("PORTAL_HEARTBEAT_MAX_AGE_SECONDS", 180))

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_one_line": {"()": "wrapup_portal.core.log.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) printed every django.* line a second time:
        # everything goes to the root's one handler.
        "django": {"handlers": [], "level": "INFO"},
        # A refused request (403, 404, 405) is one WARNING line; it is audited already.
        "django.request": {"filters": ["refusal_one_line"]},
    },
}

# --- HTTPS, HSTS and cookies ----------------------------------------------------------------
# With DEBUG off the defaults are the secure ones: `check --deploy --fail-level WARNING` is clean
# with only DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS set (CI runs exactly that). Each relaxation
# is a variable of its own, documented in README.md. Django's own defaults already send nosniff,
# X-Frame-Options: DENY, Referrer-Policy and COOP, and keep the session cookie HttpOnly.
# Behind a proxy that terminates TLS, Django sees plain HTTP unless told which header to trust;
# without this the redirect below would loop. Only for a proxy that sets X-Forwarded-Proto itself.
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not DEBUG and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Browsers remember HSTS for max-age; DEBUG never sends it, so a developer's localhost is not pinned.
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600))
# Covers only the portal's own host's subdomains (*.portal.example.com), not its parent domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers to preload HSTS is a commitment for a whole registrable domain that only its owner
# can make, so the portal never claims it by default; W021 ("preload not set") is silenced only while
# preload is off, and check --deploy reports it as "1 silenced".
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script, no inline style, no eval: every script and style is a file the portal serves
# (htmx is told so by the htmx-config meta tag in base.html). Sent by core.middleware on every response.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
