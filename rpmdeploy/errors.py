"""One exception hierarchy for rpmdeploy.

Every error carries a message written for the user; the CLI prints ``str(error)`` as one
line and exits with ``error.exit_code``: 1 a build or publish failed, 2 a usage or input
error, 75 temporarily locked (another run publishes to the same repository).  The library
never prints or exits itself.
"""

from __future__ import annotations


class RpmdeployError(Exception):
    """Base of every error rpmdeploy reports to its user.

    ``message`` says what went wrong; ``log``, when set, names the log file to read, and
    ``str()`` gives both on one line.
    """

    exit_code = 1

    def __init__(self, message: str, log: str | None = None) -> None:
        super().__init__(message if log is None else f"{message} (log: {log})")
        self.message = message
        self.log = log


class UsageError(RpmdeployError):
    """The user asked for something that cannot be done as asked (bad option, bad target)."""

    exit_code = 2


class PinError(RpmdeployError):
    """Compiling or reading the pinned dependency file failed."""


class FetchError(RpmdeployError):
    """An artifact could not be fetched, or its hash did not match."""


class MetadataError(RpmdeployError):
    """A package's metadata is missing, malformed or unusable."""


class VersionError(MetadataError):
    """A version or specifier cannot be converted to RPM syntax."""


class SpecError(RpmdeployError):
    """A spec file could not be rendered."""


class BuildError(RpmdeployError):
    """Building an SRPM, RPM or wheel failed."""


class ExternalsError(RpmdeployError):
    """An external-dependency hint is malformed or cannot be mapped."""


class RepoError(RpmdeployError):
    """Publishing the yum repository failed."""


class LockedError(RepoError):
    """Another run holds the repository: try again later (EX_TEMPFAIL)."""

    exit_code = 75


class VerifyError(RpmdeployError):
    """The published repository does not install or does not work."""
