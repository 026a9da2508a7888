"""Block-storage providers: ``local`` (files; the default) and ``openstack`` (Cinder)."""

from django.conf import settings

from .base import (
    BackupResult,
    Provider,
    ProviderError,
    ProviderTimeout,
    TransientProviderError,
    VerifyOutcome,
    VolumeInfo,
)

__all__ = [
    "BackupResult",
    "Provider",
    "ProviderError",
    "ProviderTimeout",
    "TransientProviderError",
    "VerifyOutcome",
    "VolumeInfo",
    "get_provider",
]


def get_provider(name: str | None = None) -> Provider:
    """Return the configured provider (``BACKUP_PROVIDER``), or the one named."""
    name = name or settings.BACKUP_PROVIDER
    if name == "local":
        from .local import LocalProvider

        rate = getattr(settings, "LOCAL_COPY_BYTES_PER_SECOND", None)
        return LocalProvider(
            settings.LOCAL_VOLUME_ROOT,
            settings.LOCAL_BACKUP_ROOT,
            bytes_per_second=rate,
            min_free_bytes=getattr(settings, "LOCAL_BACKUP_MIN_FREE_BYTES", 0),
        )
    if name == "openstack":
        from .openstack import OpenStackProvider

        return OpenStackProvider(settings.OPENSTACK_CLOUDS)
    raise ProviderError(f"unknown provider {name!r}")
