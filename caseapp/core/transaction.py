"""One commit point per request (style.md): views and API handlers never commit.

Every view is wrapped once, when the app is assembled (:func:`install`). A view that
returns a response below 400 is committed, once, before the response leaves; a 4xx/5xx
response or an exception rolls the whole request back, so a refused request saves
nothing. A commit that fails (a stale version, a unique key taken by a concurrent twin)
raises inside the view call and reaches the app's error handlers like any other error.

The one exception is deliberate: a refusal that must still be remembered (failed
sign-in and two-factor attempts count towards the lock) calls :func:`keep_on_error`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g

from caseapp.extensions import db

_KEEP = "caseapp_keep_on_error"


def keep_on_error() -> None:
    """Commit this request's changes even though its response is an error."""
    setattr(g, _KEEP, True)


def commit_point(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)  # keeps the access declaration the guard reads
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code < 400 or g.pop(_KEEP, False):
            db.session.commit()
        else:
            db.session.rollback()
        return response

    return wrapped


def install(app: Flask) -> None:
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = commit_point(view)
