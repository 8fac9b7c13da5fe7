"""The connector seam: which outcome texts settle an approval."""

from __future__ import annotations

import pytest

from tether.connectors.base import BaseConnector, is_settled_outcome
from tether.connectors.telegram import TelegramConnector


@pytest.mark.parametrize(
    ("outcome", "settled"),
    [
        pytest.param("✅ Approved by @ana", True, id="approved"),
        pytest.param("✅ Approved by @ana; Bash is auto-approved in this chat", True, id="always"),
        pytest.param("❌ Rejected by @ana", True, id="rejected"),
        pytest.param("Only the person who started this request can answer.", False, id="foreign"),
        pytest.param("This request already expired.", False, id="expired"),
        pytest.param("", False, id="empty"),
    ],
)
def test_only_approved_or_rejected_outcomes_settle(outcome: str, settled: bool) -> None:
    assert is_settled_outcome(outcome) is settled


def test_telegram_connector_meets_the_connector_protocol() -> None:
    assert isinstance(TelegramConnector("1:a"), BaseConnector)
