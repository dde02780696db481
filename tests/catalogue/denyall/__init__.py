"""A candidate that blocks everything: the mirror image of `native`.

Where `native` proves the catalogue's blocked verdicts can fail, this one
proves its allowed verdicts can: a case expecting "allowed" must fail here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.adapter import Adapter, CandidateInfo, InstanceSpec


class DenyAllAdapter(Adapter):
    def info(self) -> CandidateInfo:
        return CandidateInfo("deny-all", "1", "every connect and sendto raises EACCES")

    def instance(self, app_id: str) -> InstanceSpec:
        return InstanceSpec(argv=[sys.executable, "-s"], bootstrap="denyall_boot:install",
                            pythonpath=[str(Path(__file__).parent)])
