"""Throttled guessing: sign-in, device enrolment and the SOS text webhook count their failed
attempts per identity (account and source, source alone, sender…) in the limits every process
shares (server.core.ratelimit), and refuse further attempts with 429 while any is spent.

The refusal comes before the attempt is even judged: while throttled, the right password is
refused like a wrong one (else the throttle would only slow down the wrong guesses, and tell the
guesser which one was right). Only failures count; a success clears its most specific identity
(the account at that source), so a person who mistypes a few times and then signs in starts
afresh. The windows are short and grow (5 a minute, then 10 in ten minutes, then 20 an hour, by
default): a lockout ends on its own, and an account throttled at one source is not at another,
so nobody can lock a person out for good, or from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from server.core.errors import DomainError
from server.core.ratelimit import PostgresStorage, Throttle


class Attempts:
    """Failures of one kind of attempt, counted in several scopes (each its own limits)."""

    def __init__(self, storage: PostgresStorage, kind: str, limits: Mapping[str, str]) -> None:
        self.kind = kind
        self.throttles = {
            scope: Throttle(storage, f"{kind}:{scope}", spec) for scope, spec in limits.items()
        }

    @contextmanager
    def attempt(
        self,
        identities: Mapping[str, tuple[str, ...]],
        failures: tuple[type[DomainError], ...],
        clear_on_success: str | None = None,
    ) -> Iterator[None]:
        """Refuse (429) while a scope of these identities is spent; count one failure in every
        scope when the block raises one of `failures`; on success forget `clear_on_success`."""
        for scope, identity in identities.items():
            self.throttles[scope].check(*identity, what=f"failed {self.kind} attempts")
        try:
            yield
        except failures:
            for scope, identity in identities.items():
                self.count_failure(scope, identity)
            raise
        if clear_on_success is not None:
            self.throttles[clear_on_success].clear(*identities[clear_on_success])

    def count_failure(self, scope: str, identity: tuple[str, ...]) -> None:
        throttle = self.throttles[scope]
        for item in throttle.items:  # counted even past the limit: it is already refusing
            throttle.limiter.hit(item, throttle.namespace, *identity)
