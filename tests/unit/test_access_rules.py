"""Every API route declares an access rule, and the guard reads ids however they are spelled."""

from __future__ import annotations

import pytest
from litestar import Litestar, Router, get

from api.access import authorize, prepare, rules
from api.access.guard import SHAPE
from api.access.rules import loose_int


def test_a_route_without_an_access_rule_stops_the_application_from_starting() -> None:
    @get("/forgotten")
    async def forgotten() -> None: ...

    @get("/declared", opt=rules.OPEN)
    async def declared() -> None: ...

    app = Litestar(route_handlers=[Router(path="/api", route_handlers=[forgotten, declared], guards=[authorize])])
    with pytest.raises(RuntimeError, match=r"must declare an access rule .*: GET /api/forgotten \(forgotten\)$"):
        prepare(app)


# Building the application in this process meets Litestar's notices about inferred dependencies and path parameters
# (the server process logs them); they are not what this test is about.
@pytest.mark.filterwarnings("ignore::litestar.exceptions.LitestarDeprecationWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_route_of_the_api_has_an_access_rule_and_a_request_shape() -> None:
    from api.app import create_app

    app = create_app()
    guarded = [h for route in app.routes for h in getattr(route, "route_handlers", [])
               if authorize in h.resolve_guards()]  # fmt: skip
    assert len(guarded) > 80
    assert all(rules.KEY in h.opt and SHAPE in h.opt for h in guarded)


@pytest.mark.parametrize("value", [7, 7.0, "7", "+7", " 7", "7 ", "0_7", "07", "7.0", "7e0"])
def test_every_spelling_of_an_id_is_read_as_that_id(value) -> None:
    assert loose_int(value) == 7


@pytest.mark.parametrize("value", [True, False, None, 7.5, "seven", "nan", "inf", [7], {"id": 7}])
def test_what_is_no_integer_is_read_as_none(value) -> None:
    assert loose_int(value) is None
