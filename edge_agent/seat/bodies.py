"""Request bodies of the local API (session messages are checked by the protocol models)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from edge_agent.seat.messages import LockdownSignal
from protocol.models import Uuid7


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class MessageEnvelope(BaseModel):
    """The two fields every `POST /v1/messages` body has; the rest is the kind's own."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    id: Uuid7
    kind: str


class LockdownBody(Body):
    kind: Literal["lockdown"]
    signal: LockdownSignal
    detail: Annotated[str, StringConstraints(max_length=200)] = ""


class RaiseHandBody(Body):
    kind: Literal["raise_hand"]


SignalBody = Annotated[LockdownBody | RaiseHandBody, Field(discriminator="kind")]


class FaceMatchBody(Body):
    candidate_number: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CalibrateBody(Body):
    seconds: Annotated[float, Field(ge=1, le=10)] = 3.0
