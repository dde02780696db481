"""Every public entry point, for every blocked operation (cases/entry_points.toml).

One case per table cell entry: the driver performs the operation through the
entry point inside the instance, then the verdict is taken the catalogue's
way. A reach case: the call refused (raised, or answered a refusal such as
connect_ex's error code) AND nothing reached the destination, judged in the
destination's clause at MUST. Every other operation: the call raised. An
entry point the candidate leaves out (AttributeError, NotImplementedError)
raises, so it passes; one the instance's Python lacks is UNSUPPORTED.
Cells covered by existing catalogue cases are not run again here.
"""

from __future__ import annotations

import pytest

from conformance.adapter import Unsupported
from conformance.remote import Attempt, attempt

from .entry_drivers import DRIVERS, REFUSED_BY_ANSWER, TIMEOUT, Aim
from .entry_points import REACH, EntryCase, load

RUN = [c for c in load().cases if c.driver]


def _params() -> list:
    return [pytest.param(c, marks=pytest.mark.clause(c.clause, c.level), id=c.id) for c in RUN]


def _version(instance) -> tuple[int, int]:
    major, minor = (int(x) for x in instance.hello.python.split(".")[:2])
    return major, minor


@pytest.mark.parametrize("case", _params())
def test_entry_point(case: EntryCase, instance, verdict, world):
    entry = next(e for e in load().entries if e.name == case.entry)
    version = _version(instance)
    module_name = entry.module_for(version)
    if module_name is None:
        raise Unsupported(f"Python {version[0]}.{version[1]} has no {entry.name} "
                          f"(runtimes: {entry.runtimes()})")
    address = world.data.host(case.host).address(case.family) if case.host else ""
    verdict.evidence({"entry_point": {"entry": case.entry, "operation": case.op,
                                      "driver": case.driver, "module": module_name}})
    socket = instance.module("socket")
    socket.call("setdefaulttimeout", TIMEOUT)   # no hang, even for clients without a timeout
    aim = None
    try:
        with instance.timeout(4 * TIMEOUT + 5):
            imported = attempt(instance.module, module_name)
            if imported.ok:
                aim = Aim(instance=instance, module=imported.value, socket=socket,
                          address=address, port=case.port, family=case.family,
                          callable=case.callable)
                tried = attempt(DRIVERS[case.driver], aim)
            else:   # the candidate's stdlib module is not importable: not offered
                tried = imported
    finally:
        if aim is not None:
            aim.close_all()
        attempt(socket.call, "setdefaulttimeout", None)
    story = f"{case.entry} via {case.driver}: {tried.describe()}"
    if case.op in REACH:
        _judge_reach(verdict, case, tried, address, story)
    else:
        error = tried.error
        # EADDRINUSE: the kernel refused a bind the sandbox let through (a port an
        # earlier run left in TIME_WAIT), which is no refusal by the sandbox
        verdict.check(error is not None and not error.is_timeout
                      and not error.has_errno("EADDRINUSE")
                      and (error.is_socket_error or not_offered(tried)), name="refused",
                      expected="the call raises socket.error (not EADDRINUSE: the sandbox "
                               "refuses, not the kernel), or the candidate does not offer "
                               f"the entry point ({', '.join(NOT_OFFERED)})",
                      observed=story)


#: What a candidate that leaves an entry point out raises before any traffic: a pass
#: for a blocked operation. Any other exception (a TypeError, a timeout) is no refusal.
NOT_OFFERED = ("AttributeError", "NotImplementedError", "ImportError")


def not_offered(tried: Attempt) -> bool:
    error = tried.error
    return error is not None and any(error.is_a(name) for name in NOT_OFFERED)


def _judge_reach(verdict, case: EntryCase, tried: Attempt, address: str, story: str) -> None:
    """Both halves of "blocked" at the destination. connect_ex and datagram transports
    answer a refusal instead of raising; their answer stands for the raise."""
    refused_by_answer = REFUSED_BY_ANSWER.get(case.driver)
    if tried.ok and refused_by_answer is not None:
        verdict.nothing_reached(address, case.port, case.proto)
        verdict.check(refused_by_answer(tried.value), name="refused",
                      expected=f"{case.driver} answers a refusal (an error code or error)",
                      observed=story)
        return
    verdict.blocked(tried, address=address, port=case.port, proto=case.proto,
                    rejection_ok=not_offered(tried))
