"""Login, logout, and who is asking: the login session or HTTP Basic credentials."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Request, Response, abort, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from central.services import UserInfo, authenticate, get_user
from central.web import labels
from central.web.database import get_session
from central.web.errors import error_response
from central.web.extensions import login_manager
from central.web.translation import _, _l

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class LoginUser(UserMixin):  # type: ignore[misc]
    def __init__(self, info: UserInfo) -> None:
        self.info = info

    def get_id(self) -> str:
        return str(self.info.id)

    @property
    def role(self) -> str:
        return self.info.role

    @property
    def username(self) -> str:
        return self.info.username


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Log in"))


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(user_id: str) -> LoginUser | None:
    if not user_id.isascii() or not user_id.isdigit():
        return None
    info = get_user(get_session(), int(user_id))
    return LoginUser(info) if info is not None else None


@login_manager.request_loader  # type: ignore[untyped-decorator]
def _load_user_from_basic_auth(req: Request) -> LoginUser | None:
    auth = req.authorization
    if auth is None or auth.type != "basic" or not auth.username or auth.password is None:
        return None
    info = authenticate(get_session(), auth.username, auth.password)
    return LoginUser(info) if info is not None else None


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
def _unauthorized() -> BaseResponse:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        response = error_response(
            401, "unauthorized", "Log in, or send HTTP Basic credentials of a user."
        )
        response.headers["WWW-Authenticate"] = 'Basic realm="proctor", charset="UTF-8"'
        return response
    return redirect(url_for("auth.login", next=request.path))


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow only users with one of `roles` (401 if not logged in, 403 if the role is wrong)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                needed = _(" or ").join(labels.role(r) for r in roles)
                abort(403, description=_("This needs the role %(roles)s.", roles=needed))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next(target: str | None) -> str:
    """Only a local path: never redirect to another site after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    form = LoginForm()
    if form.validate_on_submit():
        info = authenticate(get_session(), form.username.data, form.password.data)
        if info is not None:
            login_user(LoginUser(info))
            return redirect(safe_next(request.args.get("next")))
        return render_template("login.html", form=form, failed=True), 401
    return render_template("login.html", form=form, failed=False)


@bp.route("/logout", methods=["POST"])
@login_required  # type: ignore[untyped-decorator]
def logout() -> Response | BaseResponse:
    logout_user()
    return redirect(url_for("auth.login"))
