from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.window import InFlightWindow
from protocol import uuid7


def test_room_add_remove() -> None:
    window = InFlightWindow(capacity=3, timeout_s=10)
    a, b = uuid7(), uuid7()
    window.add(a, now=0)
    window.add(b, now=1)
    assert (len(window), window.room(), window.ids()) == (2, 1, frozenset({a, b}))
    assert a in window
    assert window.remove([a, uuid7()]) == 1
    assert window.ids() == {b}


def test_expire_returns_only_overdue_ids() -> None:
    window = InFlightWindow(capacity=10, timeout_s=5)
    old, new = uuid7(), uuid7()
    window.add(old, now=100)
    window.add(new, now=103)
    assert window.expire(now=104.9) == []
    assert window.expire(now=105) == [old]
    assert window.ids() == {new}


def test_mids_name_rows_and_are_forgotten_with_them() -> None:
    window = InFlightWindow(capacity=10, timeout_s=5)
    a = uuid7()
    window.add(a, now=0)
    window.set_mid(a, 7)
    assert window.id_for_mid(7) == a
    window.set_mid(a, 8)  # sent again: the old packet id no longer names it
    assert window.id_for_mid(7) is None
    window.remove([a])
    assert window.id_for_mid(8) is None
    window.set_mid(a, 9)  # not in flight: ignored
    assert window.id_for_mid(9) is None


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="capacity"):
        InFlightWindow(capacity=0, timeout_s=1)


@given(st.lists(st.tuples(st.sampled_from(["add", "remove", "expire"]), st.integers(0, 5))))
def test_never_exceeds_capacity_when_callers_respect_room(ops: list[tuple[str, int]]) -> None:
    window = InFlightWindow(capacity=4, timeout_s=3)
    ids = [uuid7() for _ in range(6)]
    now = 0.0
    for op, index in ops:
        now += 1
        if op == "add" and (window.room() > 0 or ids[index] in window):
            window.add(ids[index], now)
            window.set_mid(ids[index], index)
        elif op == "remove":
            window.remove([ids[index]])
        else:
            window.expire(now)
        assert len(window) <= 4
        assert window.room() == 4 - len(window)
