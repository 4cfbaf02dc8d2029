"""The sentence an admin reads after a sitting was (or was not) sent to its kiosk, in the
request's language. central.services.delivery says what happened (a Delivery: state, detail,
session_id); only the words are made here. Outside a request gettext gives the English."""

from __future__ import annotations

from central.services.delivery import Delivery
from central.web.translation import _


def delivery_sentence(delivery: Delivery, session_id: str | None = None) -> str:
    """One sentence for the admin who caused the delivery (about `session_id` if given)."""
    if session_id is not None and delivery.session_id not in (None, session_id):
        return _(
            "The seat's next sitting is %(session)s; this one is sent after it.",
            session=delivery.session_id,
        )
    if delivery.state == "sent":
        return _("Exam and enrolment sent to the kiosk.")
    if delivery.state == "already_sent":
        return _("The kiosk has the exam and enrolment already.")
    if delivery.state == "no_kiosk":
        return _("Not sent yet: no kiosk is bound to the seat.")
    if delivery.state == "no_sitting":
        return _("Nothing to send: the seat has no sitting ahead.")
    # The detail comes from the services (English, like their other messages).
    return _("Not sent: %(detail)s.", detail=delivery.detail)
