"""Every event the station emits anywhere in this suite is checked against the contract."""

import pytest

from playout import wire
from server.hub import Hub
from tests.support import validate_message

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _events_follow_the_contract(monkeypatch):
    publish = Hub.publish

    def checked(self, batch):
        for emitted in batch:
            validate_message(wire.to_message(emitted.event))
        publish(self, batch)

    monkeypatch.setattr(Hub, "publish", checked)
