"""Test candidates with an HTTP client of their own that get it wrong, each one way.

They prove the own-client cases (cases/test_own_client.py) can fail in both
directions: `naive` fetches anything (the blocked cases must fail),
`reresolving` judges a name's first answer and lets the connection resolve
it again (the rebinding case must fail), `denying` refuses everything (the
public-page case must fail). The socket module is the interpreter's own.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.adapter import Adapter, CandidateInfo, Capability, InstanceSpec


class _OwnClientAdapter(Adapter):
    mode = ""

    def info(self) -> CandidateInfo:
        return CandidateInfo(f"own-client-{self.mode}", "1", f"own HTTP client: {self.mode}")

    def capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.OWN_HTTP_CLIENT})

    def instance(self, app_id: str) -> InstanceSpec:
        return InstanceSpec(argv=[sys.executable, "-s"],
                            bootstrap=f"ownclient_boot:install_{self.mode}",
                            pythonpath=[str(Path(__file__).parent)])


class NaiveClientAdapter(_OwnClientAdapter):
    mode = "naive"


class ReresolvingClientAdapter(_OwnClientAdapter):
    mode = "reresolving"


class DenyingClientAdapter(_OwnClientAdapter):
    mode = "denying"
