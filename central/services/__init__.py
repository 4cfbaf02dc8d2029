"""The one service layer: MQTT ingest and the web API both store and read through it.

Functions take a SQLAlchemy Session and never commit; the caller owns the transaction.
Problems a caller must handle are ServiceError subclasses.
"""

from central.services.dead_letters import (
    DeadLetterPage,
    list_dead_letters,
    parse_dead_letter_params,
)
from central.services.devices import list_devices
from central.services.errors import Conflict, InvalidParameter, NotFound, ServiceError
from central.services.events import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventFilters,
    EventPage,
    EventQuery,
    list_events,
)
from central.services.health import database_ok
from central.services.rejects import RejectedPayload
from central.services.store import StoreItem, store_batch, unstorable_reason
from central.services.users import (
    ROLES,
    UserInfo,
    authenticate,
    create_user,
    get_user,
    set_password,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ROLES",
    "Conflict",
    "DeadLetterPage",
    "EventFilters",
    "EventPage",
    "EventQuery",
    "InvalidParameter",
    "NotFound",
    "RejectedPayload",
    "ServiceError",
    "StoreItem",
    "UserInfo",
    "authenticate",
    "create_user",
    "database_ok",
    "get_user",
    "list_dead_letters",
    "list_devices",
    "list_events",
    "parse_dead_letter_params",
    "set_password",
    "store_batch",
    "unstorable_reason",
]
