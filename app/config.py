"""Settings for SkillTrace, read once from the environment.

`DATABASE_URL`, `SECRET_KEY`, `PORT`, `LANGUAGE` and `SKILLTRACE_*` variables are read here and
nowhere else; the rest of the code uses `current_app.config[...]`. Secrets that are not set are
generated into the instance folder on first run (never committed), except in production, which
refuses to start without them.
"""
from __future__ import annotations

import base64
import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path


def instance_secret(instance_path: Path, name: str, nbytes: int = 32) -> str:
    """Return the secret stored in ``instance/<name>``, generating it on first use.

    The file is created with mode 0600 so that only the service account can read it.
    """
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def instance_template_keys(instance_path: Path, name: str = "template_keys") -> str:
    """Return the key spec (``kid:base64``) stored in ``instance/<name>``, generating one
    random 32-byte key on first use (mode 0600, like ``instance_secret``): the face-template
    key, and likewise the audit chain key and the checkpoint signing key (an Ed25519 seed)."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"local1:{key}\n")
    return path.read_text().strip()


def _optional_float(env, name: str) -> float | None:
    value = env.get(name)
    try:
        return float(value) if value else None
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}") from None


def _on_off(env, name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in ("on", "off"):
        raise RuntimeError(f"{name} must be on or off, not {value!r}")
    return value == "on"
def _holidays(spec: str) -> str:
    """The holiday amendments, refused at start-up when malformed."""
    from app.services.holidays import calendar_of

    try:
        calendar_of(spec)
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    return spec


def _decimal(env, name: str, default: Decimal) -> Decimal:
    value = env.get(name)
    try:
        return Decimal(value) if value else default
    except InvalidOperation:
        raise RuntimeError(f"{name} must be a decimal number, not {value!r}") from None


def _int(env, name: str, default: int) -> int:
    value = env.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def _sqlite_url(instance_path: Path) -> str:
    instance_path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance_path / 'skilltrace.db'}"


def normalise_database_url(url: str) -> str:
    """Make a PostgreSQL URL use psycopg 3, whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class BaseConfig:
    """Defaults shared by every environment; `load` fills in what depends on the machine."""

    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_TIME_LIMIT = 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Sign-in failures allowed per client address and account name.
    LOGIN_FAILURE_LIMIT = "5 per minute;20 per hour"
    # Sign-in failures allowed per client address across all account names (password spraying).
    # Limits are per address first: there is no lock on an account name alone, so failures from
    # elsewhere never lock its owner out on their own network.
    LOGIN_ADDRESS_FAILURE_LIMIT = "20 per minute;100 per hour"
    REQUIRE_SECRETS = False
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    # Trainee account activation: days a one-time code stays valid, wrong codes tried against one
    # ID number before the code is locked, and activation attempts allowed per client address.
    ACTIVATION_CODE_DAYS = 14
    ACTIVATION_MAX_FAILURES = 5
    ACTIVATION_RATE_LIMIT = "10 per minute;50 per hour"
    # Face enrolment: frames per enrolment, and the largest frame accepted (bytes).
    ENROL_MIN_FRAMES = 3
    ENROL_MAX_FRAMES = 8
    FACE_MAX_FRAME_BYTES = 4 * 1024 * 1024
    # Attendance (R2, R4): the largest kiosk request in frames, the tolerance around a session
    # window, lock-out after repeated failures, the attempts allowed per client, and the hour
    # rules of programmes that have no rule of their own.
    CHECK_IN_MAX_FRAMES = 8
    CHECK_IN_TOLERANCE_MINUTES = 15
    CHECK_IN_LOCK_FAILURES = 5
    CHECK_IN_LOCK_WINDOW_MINUTES = 15
    CHECK_IN_RATE_LIMIT = "20 per minute"
    CHECK_IN_MAX_CLOCK_SKEW_SECONDS = 300     # a client capture time further off is refused
    # Server-paced challenges (recognition.paced): time to show a face before the first prompt,
    # the pause before each prompt (random between the two), the deadline of each action, how
    # long a finished (or timed-out) challenge stays usable, and how many challenges a trainee or
    # a kiosk may start per window. LIVENESS_RELAX (test policy, set only by test code, never read
    # from the environment): layers turned off, among "actions" (any face after a prompt answers
    # it) and "replay" (no replay memory).
    PACED_START_SECONDS = 30
    PACED_MIN_PAUSE_SECONDS = 1.0
    PACED_MAX_PAUSE_SECONDS = 2.5
    PACED_ACTION_SECONDS = 10.0
    PACED_GRACE_SECONDS = 5
    CHALLENGE_LIMIT_PER_TRAINEE = 6
    CHALLENGE_LIMIT_PER_KIOSK = 60
    CHALLENGE_LIMIT_WINDOW_MINUTES = 10
    CHECK_IN_FRAME_RATE_LIMIT = "600 per minute"
    KIOSK_AUTH_FAILURE_LIMIT = "10 per 15 minutes"  # wrong kiosk codes/signatures per address and per key
    KIOSK_CODE_HOURS = 24                     # a kiosk's one-time enrolment code expires after this
    KIOSK_SIGNATURE_MAX_AGE_SECONDS = 60      # a signed kiosk request further from the server's clock is refused
    KIOSK_LOCK_FAILURES = 3                   # failed kiosk identifications naming one trainee before a lock
    KIOSK_LOCK_WINDOW_MINUTES = 60            # ... counted within this window (since the last unlock)
    # Kiosk 1:N over the roster (recognition.RosterRule, chosen with scripts/bench_roster.py): the
    # threshold is the 1:1 one minus KIOSK_ROSTER_SLOPE × log10(roster size), and the best candidate
    # must be KIOSK_ROSTER_MARGIN (cosine distance) nearer than the second (else face_unknown).
    KIOSK_ROSTER_SLOPE = 0.06
    KIOSK_ROSTER_MARGIN = 0.12
    LIVENESS_RELAX: tuple = ()
    # The screen-colour step of paced challenges (SKILLTRACE_LIVENESS_COLOUR=on|off; a kiosk whose
    # screen does not face the trainee skips it, Kiosk.screen_facing) and how long each colour shows.
    LIVENESS_COLOUR = True
    PACED_COLOUR_MIN_SECONDS = 0.8
    PACED_COLOUR_MAX_SECONDS = 1.6
    # Risk score of accepted checks (app/services/risk.py): at or above RISK_HOLD_SCORE the check
    # stands but the minutes its interval credits are held for an instructor. A reaction to a
    # prompt faster than RISK_MIN_REACTION_SECONDS, or frame arrivals spread less than
    # RISK_REGULAR_FRAMES_SECONDS (standard deviation), is a timing signal (0 turns it off).
    RISK_HOLD_SCORE = 50
    RISK_MIN_REACTION_SECONDS = 0.15
    RISK_REGULAR_FRAMES_SECONDS = 0.005
    HOURS_DAILY_CAP_MINUTES = 8 * 60
    STUDY_HEARTBEAT_MAX_GAP_SECONDS = 90      # heartbeats further apart count nothing between them
    PERSON_DAILY_CAP_MINUTES = 8 * 60         # one person, all enrolments, one Beijing day
    STUDY_ROLL_CALLS_PER_HOUR = 2             # one at a secret random time in each window of 60/N min
    STUDY_ROLL_CALL_SECONDS = 60              # time to answer a roll-call
    STUDY_IDLE_CLOSE_MINUTES = 30             # no heartbeat for this long: the study is closed
    STUDY_HEARTBEAT_MS = 30_000               # how often the study page sends a heartbeat
    STUDY_ACTIVE_MS = 120_000                 # no input for this long: the page reports inactive
    HOURS_UNIT_MINUTES = 1
    # Final assessment (R7) and subsidy (R5, R6): the pass mark of each part (0–100), the
    # urgent-shortage uplift, and how many subsidised classes a person may have in one Beijing
    # calendar year: students (the person categories listed) and everyone else.
    ASSESSMENT_PASS_MARK = Decimal("60")
    SUBSIDY_SHORTAGE_UPLIFT = Decimal("0.10")
    SUBSIDY_YEARLY_LIMIT = 2
    SUBSIDY_YEARLY_LIMIT_STUDENT = 1
    SUBSIDY_STUDENT_CATEGORIES = ("高校毕业生",)
    # PIPL (2025 face-recognition measures): templates are deleted this many days after the
    # trainee's last class ends; holding more than the threshold of people's templates needs a
    # filing with the provincial cyberspace office within 30 working days (warned at the share).
    FACE_TEMPLATE_RETENTION_DAYS = 180
    FACE_FILING_THRESHOLD = 100_000
    FACE_FILING_WARN_SHARE = Decimal("0.8")
    MAKEUP_WORKING_DAYS = 3                   # make-up study (补学) of uncredited minutes, within N working days
    SUBSIDY_NOTICE_WORKING_DAYS = 5           # public notice (公示) of accepted claims, working days
    # amendments to the built-in public holidays and 调休 working days (app/services/holidays.py)
    PUBLIC_HOLIDAYS = ""
    # exemptions (免修, R10) may cover at most this share of a programme's required hours
    EXEMPTION_MAX_SHARE = Decimal("0.5")
    # yearly person-time targets per training category (R9); a category not listed has none
    STATISTICS_TARGETS = {"employment": 150_000, "entrepreneurship": 20_000, "high_skill": 30_000,
                          "apprenticeship": 20_000}
    FULL_TIME_EQUIVALENT_RATE = Decimal("0.30")  # person-times → full-time students (R11)
    # Largest request body (bytes): larger ones get 413 before anything reads them. Frame uploads
    # lower it per request; the LRS raises it to LRS_MAX_BODY_BYTES for its attachments.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    XAPI_FORWARD_BATCH = 100                  # statements per POST to the external LRS
    XAPI_FORWARD_BACKOFF_SECONDS = 30         # first retry delay, doubled per failed attempt
    XAPI_FORWARD_MAX_BACKOFF_SECONDS = 3600
    XAPI_FORWARD_LEASE_SECONDS = 300          # a claim not settled by then may be taken again
    XAPI_FORWARD_TIMEOUT_SECONDS = 30         # socket timeout of the scheduler's forwarding

    @classmethod
    def load(cls, instance_path: Path, environ: os._Environ | dict | None = None) -> dict:
        """Read the environment and return the settings as a dict for ``app.config``."""
        env = os.environ if environ is None else environ
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        secret = env.get("SECRET_KEY")
        template_keys = env.get("SKILLTRACE_TEMPLATE_KEYS")
        template_key_id = env.get("SKILLTRACE_TEMPLATE_KEY_ID")
        chain_keys = env.get("SKILLTRACE_AUDIT_CHAIN_KEYS")
        checkpoint_keys = env.get("SKILLTRACE_CHECKPOINT_KEYS")
        if cls.REQUIRE_SECRETS and not (secret and template_keys and template_key_id):
            raise RuntimeError("SECRET_KEY, SKILLTRACE_TEMPLATE_KEYS and SKILLTRACE_TEMPLATE_KEY_ID "
                               "must be set in production")
        if cls.REQUIRE_SECRETS and not (chain_keys and checkpoint_keys):
            raise RuntimeError("SKILLTRACE_AUDIT_CHAIN_KEYS and SKILLTRACE_CHECKPOINT_KEYS must be set "
                               "in production (kept outside the database)")
        if not template_keys:
            template_keys = instance_template_keys(instance_path)
        settings.update(
            SECRET_KEY=secret or instance_secret(instance_path, "secret_key"),
            # "kid:base64,…" and the id new templates are sealed with (None: the only key);
            # app.face parses and checks them when the app is built.
            TEMPLATE_KEYS=template_keys,
            TEMPLATE_KEY_ID=template_key_id,
            # Audit chain: HMAC keys ("kid:base64,…") and the id new entries are keyed with;
            # checkpoints: Ed25519 seeds in the same format, the file they are appended to
            # (outside the database) and how often the scheduler takes one.
            AUDIT_CHAIN_KEYS=chain_keys or instance_template_keys(instance_path, "audit_chain_keys"),
            AUDIT_CHAIN_KEY_ID=env.get("SKILLTRACE_AUDIT_CHAIN_KEY_ID"),
            CHECKPOINT_KEYS=checkpoint_keys or instance_template_keys(instance_path, "checkpoint_keys"),
            CHECKPOINT_KEY_ID=env.get("SKILLTRACE_CHECKPOINT_KEY_ID"),
            CHECKPOINT_FILE=env.get("SKILLTRACE_CHECKPOINT_FILE") or str(instance_path / "checkpoints.jsonl"),
            CHECKPOINT_MINUTES=_int(env, "SKILLTRACE_CHECKPOINT_MINUTES", 15),
            FACE_ENCODER=env.get("SKILLTRACE_FACE_ENCODER", "mobilefacenet"),
            LIVENESS_COLOUR=_on_off(env, "SKILLTRACE_LIVENESS_COLOUR", cls.LIVENESS_COLOUR),
            # "retinaface" (default; dlib's HOG when facesdk's weights are missing) or "hog"
            FACE_DETECTOR=env.get("SKILLTRACE_FACE_DETECTOR", "retinaface"),
            FACE_MODEL_DIR=env.get("SKILLTRACE_FACE_MODEL_DIR") or str(instance_path / "models"),
            # None: the calibrated default of the encoder and detector (recognition.default_threshold).
            FACE_MATCH_THRESHOLD=_optional_float(env, "SKILLTRACE_FACE_MATCH_THRESHOLD"),
            FACE_DUPLICATE_THRESHOLD=_optional_float(env, "SKILLTRACE_FACE_DUPLICATE_THRESHOLD"),
            # None: the duplicate threshold + app.face.REVIEW_MARGIN (enrolments listed for review).
            FACE_DUPLICATE_REVIEW_THRESHOLD=_optional_float(env, "SKILLTRACE_FACE_DUPLICATE_REVIEW_THRESHOLD"),
            # Raw frames of verifications: 0 days (the default) keeps none; N keeps them sealed
            # (AES-GCM) in FACE_IMAGE_DIR until the scheduler purges them after N days.
            FACE_IMAGE_RETENTION_DAYS=int(env.get("SKILLTRACE_FACE_IMAGE_RETENTION_DAYS", "0")),
            FACE_IMAGE_DIR=env.get("SKILLTRACE_FACE_IMAGE_DIR") or str(instance_path / "face_images"),
            # Replay memory (face fingerprints of accepted and enrolment frames): deleted by the
            # scheduler after N days (and at once on consent withdrawal).
            FACE_FINGERPRINT_RETENTION_DAYS=_int(env, "SKILLTRACE_FACE_FINGERPRINT_RETENTION_DAYS", 180),
            SQLALCHEMY_DATABASE_URI=normalise_database_url(
                env.get("DATABASE_URL") or _sqlite_url(instance_path)
            ),
            # the account home page of xAPI actors and the base of activity ids
            XAPI_HOMEPAGE=env.get("SKILLTRACE_XAPI_HOMEPAGE", "https://skilltrace.example.org"),
            # the account homePage of the authority the LRS puts on its clients' statements
            LRS_AUTHORITY_HOMEPAGE=(env.get("SKILLTRACE_LRS_AUTHORITY_HOMEPAGE")
                                    or env.get("SKILLTRACE_XAPI_HOMEPAGE", "https://skilltrace.example.org")),
            PORT=int(env.get("PORT", "5000")),
            BABEL_DEFAULT_LOCALE=env.get("LANGUAGE", "zh_CN"),
            RATELIMIT_STORAGE_URI=env.get("SKILLTRACE_RATELIMIT_STORAGE", cls.RATELIMIT_STORAGE_URI),
            # Check-in attempts allowed per client address (raise it behind a kiosk NAT or for
            # scripts/load_test.py, where every simulated trainee comes from one address).
            CHECK_IN_RATE_LIMIT=env.get("SKILLTRACE_CHECK_IN_RATE_LIMIT", cls.CHECK_IN_RATE_LIMIT),
            # Version answered to xAPI requests that send no usable version header.
            LRS_FALLBACK_VERSION=env.get("SKILLTRACE_LRS_FALLBACK_VERSION", "2.0.0"),
            ASSESSMENT_PASS_MARK=_decimal(env, "SKILLTRACE_ASSESSMENT_PASS_MARK", cls.ASSESSMENT_PASS_MARK),
            SUBSIDY_SHORTAGE_UPLIFT=_decimal(env, "SKILLTRACE_SUBSIDY_SHORTAGE_UPLIFT",
                                             cls.SUBSIDY_SHORTAGE_UPLIFT),
            PERSON_DAILY_CAP_MINUTES=_int(env, "SKILLTRACE_PERSON_DAILY_CAP_MINUTES",
                                          cls.PERSON_DAILY_CAP_MINUTES),
            ACTIVATION_CODE_DAYS=_int(env, "SKILLTRACE_ACTIVATION_CODE_DAYS", cls.ACTIVATION_CODE_DAYS),
            SUBSIDY_NOTICE_WORKING_DAYS=_int(env, "SKILLTRACE_SUBSIDY_NOTICE_WORKING_DAYS",
                                             cls.SUBSIDY_NOTICE_WORKING_DAYS),
            MAKEUP_WORKING_DAYS=_int(env, "SKILLTRACE_MAKEUP_WORKING_DAYS", cls.MAKEUP_WORKING_DAYS),
            PUBLIC_HOLIDAYS=_holidays(env.get("SKILLTRACE_PUBLIC_HOLIDAYS", cls.PUBLIC_HOLIDAYS)),
            SUBSIDY_YEARLY_LIMIT=_int(env, "SKILLTRACE_SUBSIDY_YEARLY_LIMIT", cls.SUBSIDY_YEARLY_LIMIT),
            SUBSIDY_YEARLY_LIMIT_STUDENT=_int(env, "SKILLTRACE_SUBSIDY_YEARLY_LIMIT_STUDENT",
                                              cls.SUBSIDY_YEARLY_LIMIT_STUDENT),
            FACE_TEMPLATE_RETENTION_DAYS=_int(env, "SKILLTRACE_FACE_TEMPLATE_RETENTION_DAYS",
                                              cls.FACE_TEMPLATE_RETENTION_DAYS),
            EXEMPTION_MAX_SHARE=_decimal(env, "SKILLTRACE_EXEMPTION_MAX_SHARE", cls.EXEMPTION_MAX_SHARE),
            # An external LRS every statement SkillTrace writes is forwarded to ("": none).
            XAPI_FORWARD_URL=env.get("SKILLTRACE_XAPI_FORWARD_URL", ""),
            XAPI_FORWARD_KEY=env.get("SKILLTRACE_XAPI_FORWARD_KEY", ""),
            XAPI_FORWARD_SECRET=env.get("SKILLTRACE_XAPI_FORWARD_SECRET", ""),
        )
        return settings


class DevelopmentConfig(BaseConfig):
    """Local use: `make run` on the embedded SQLite database."""


class TestingConfig(BaseConfig):
    """The test suite: CSRF stays on (tests send the token), rate limits stay on."""

    TESTING = True
    # Hashing strength is not under test; the cheapest Argon2id keeps the suite fast.
    PASSWORD_HASH_PROFILE = "CHEAPEST"
    # The tests' live responder has no clock: prompts come at once. Frames sent before a prompt
    # still do not count (the browser tests keep the real pauses).
    PACED_MIN_PAUSE_SECONDS = 0.0
    PACED_MAX_PAUSE_SECONDS = 0.0
    PACED_COLOUR_MIN_SECONDS = 0.0
    PACED_COLOUR_MAX_SECONDS = 0.0
    # Its frames come as fast as the server answers, so reaction and regularity timings depend on
    # the machine: those two risk signals are off here and tested with set timings.
    RISK_MIN_REACTION_SECONDS = 0.0
    RISK_REGULAR_FRAMES_SECONDS = 0.0


class ProductionConfig(BaseConfig):
    """Behind gunicorn and a TLS proxy: secrets must come from the environment."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    REQUIRE_SECRETS = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None) -> type[BaseConfig]:
    """Pick the config class named by ``SKILLTRACE_ENV`` (default: development)."""
    name = name or os.environ.get("SKILLTRACE_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"SKILLTRACE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}") from None
