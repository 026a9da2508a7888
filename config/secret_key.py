"""Refuse a production secret key that is missing, weak or public.

Read by config/settings.py when debug is off, before Django starts: a server that signs sessions,
CSRF tokens and password-reset links with a guessable key must not start at all.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

HOW_TO_MAKE_ONE = (
    'make one with: python -c "import secrets; print(secrets.token_urlsafe(50))" '
    "and keep it out of the repository"
)

# Django's own rule (security.W009): at least 50 characters, at least 5 different ones.
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure-"

# Where a key could have been committed. Hidden files (.env, a local settings file) are the
# operator's own and are not read; neither are build output, caches and databases.
_SKIPPED_DIRECTORIES = {"staticfiles", "node_modules", "__pycache__", "test-artifacts", "build"}
_READ_HIDDEN_DIRECTORIES = {".ci"}
_MAX_FILE_BYTES = 1024 * 1024
_SKIPPED_SUFFIXES = {".sqlite3", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".gz", ".br"}


def check_production_secret_key(key: str, *, repository: Path) -> None:
    """Raise ImproperlyConfigured unless ``key`` is fit to sign a production server's cookies."""
    if not key:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off; {HOW_TO_MAKE_ONE}"
        )
    if key.startswith(INSECURE_PREFIX):
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY starts with {INSECURE_PREFIX!r}: it is a development key, refused when "
            f"DJANGO_DEBUG is off; {HOW_TO_MAKE_ONE}"
        )
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is too weak: {len(key)} characters, {len(set(key))} different ones (it needs "
            f"at least {MIN_LENGTH} characters and {MIN_UNIQUE_CHARACTERS} different ones); refused when "
            f"DJANGO_DEBUG is off; {HOW_TO_MAKE_ONE}"
        )
    found = key_found_in(key, repository)
    if found is not None:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY appears in {found.relative_to(repository)}: a key in the repository is "
            f"public, refused when DJANGO_DEBUG is off; {HOW_TO_MAKE_ONE}"
        )


def key_found_in(key: str, repository: Path) -> Path | None:
    """Return the first file of the project's own tree that contains ``key``, if any."""
    needle = key.encode()
    for path in _project_files(repository):
        try:
            if path.stat().st_size > _MAX_FILE_BYTES:
                continue
            if needle in path.read_bytes():
                return path
        except OSError:  # unreadable or vanished while walking: nothing to find there
            continue
    return None


def _project_files(directory: Path):
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        hidden = entry.name.startswith(".")
        if entry.is_dir() and not entry.is_symlink():
            if entry.name in _SKIPPED_DIRECTORIES or entry.name.endswith(".egg-info"):
                continue
            if hidden and entry.name not in _READ_HIDDEN_DIRECTORIES:
                continue  # .git, .venv, caches
            yield from _project_files(entry)
        elif (
            entry.is_file()
            and not hidden
            and entry.suffix not in _SKIPPED_SUFFIXES
            and ".sqlite3" not in entry.name
        ):
            yield entry
